import ArgumentParser
import Foundation
import Shipping

/// The server, the token and the request itself.
struct ServerConnection: ParsableArguments {
    @Option(help: "The server's base URL, e.g. http://127.0.0.1:8080 (default: the DRIFT_SERVER environment variable).")
    var server: String?

    @Option(help: "Bearer token (default: the DRIFT_TOKEN environment variable).")
    var token: String?

    @Option(help: "Seconds allowed for the request.")
    var timeout: Double = 60

    /// The options checked, with the environment's defaults: the base URL (no trailing `/`), the
    /// bearer token if any, and the timeout. Usage errors exit 64.
    func resolved() throws(CLIError) -> (base: String, bearer: String?, timeout: Duration) {
        let environment = ProcessInfo.processInfo.environment
        guard let server = server ?? environment["DRIFT_SERVER"], !server.isEmpty else {
            throw CLIError("give --server URL (or set DRIFT_SERVER)", exitCode: 64)
        }
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw CLIError("--server '\(server)' is not an http:// or https:// URL", exitCode: 64)
        }
        guard timeout > 0, timeout <= 3600 else {
            throw CLIError("--timeout: \(timeout) is not in (0, 3600]", exitCode: 64)
        }
        let bearer = (token ?? environment["DRIFT_TOKEN"]).flatMap { $0.isEmpty ? nil : $0 }
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        return (base, bearer, .milliseconds(Int64(timeout * 1000)))
    }

    /// Sends one request; returns the body of a 2xx answer, else throws the server's message.
    func send(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil) throws -> [UInt8] {
        let (base, bearer, timeout) = try resolved()
        var headers: [(String, String)] = []
        if let bearer { headers.append(("Authorization", "Bearer \(bearer)")) }
        if let contentType { headers.append(("Content-Type", contentType)) }
        let uploader = HTTPUploader(configuration: HTTPUploaderConfiguration(totalTimeout: timeout))
        let response: HTTPResponse
        do {
            response = try uploader.request(method, base + path, body: body, headers: headers)
        } catch {
            throw CLIError("\(method) \(base + path): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            throw CLIError("\(method) \(path): \(response.status) \(ServerError.message(of: response))")
        }
        return response.body
    }

    /// Percent-encodes a path segment (model and baseline names may hold any character).
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}
