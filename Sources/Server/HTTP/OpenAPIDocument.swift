import Foundation

/// The API description served at `/openapi.yaml` (`Sources/Server/Resources/openapi.yaml`),
/// read from the `Driftwatch_Server.resources` directory SwiftPM places next to the executable.
enum OpenAPIDocument {
    static let bundleName = "Driftwatch_Server.resources"

    static let text: String? = {
        var candidates = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for directory in candidates {
            let url = directory.appendingPathComponent(bundleName).appendingPathComponent("Resources/openapi.yaml")
            if let text = try? String(contentsOf: url, encoding: .utf8) { return text }
        }
        return nil
    }()
}
