import DriftTestSupport
import Foundation
import Testing

/// `drift rules check`, run as the real binary.
@Suite struct RulesCLITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func shippedExamplesPass() throws {
        for directory in ["alerts", "alerts/demo"] {
            let result = try DriftProcess.run([
                "rules", "check", Self.repository.appendingPathComponent(directory).path,
            ])
            #expect(result.status == 0, "\(directory): \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("OK"))
        }
    }

    @Test func errorsNameFileLineAndColumnAndFail() throws {
        let work = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let file = work.appendingPathComponent("bad.yaml").path
        try """
        receivers:
          - name: hook
            webhook: {url: "http://127.0.0.1:1/"}
        route:
          receiver: pager
          group_wait: later
        rules:
          - name: a
            metric: psy
            threshold: 0.2
            annotations:
              summary: "{{ .vaule }}"
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try DriftProcess.run(["rules", "check", file])
        #expect(result.status == 1)
        for expected in [
            "bad.yaml:6:15: group_wait: 'later' is not a duration", "bad.yaml:9:13: unknown metric 'psy'",
            "bad.yaml:12:17: annotations.summary: unknown template variable '.vaule'",
            "bad.yaml:5:13: unknown receiver 'pager'",
        ] {
            #expect(result.stdout.contains(expected), "\(result.stdout)")
        }
        #expect(result.stderr.contains("4 error(s)"))
        let json = try DriftProcess.run(["rules", "check", file, "--json"])
        #expect(json.status == 1 && json.stdout.contains("\"valid\": false"))
        let missing = try DriftProcess.run(["rules", "check", work.appendingPathComponent("nope").path])
        #expect(missing.status == 1 && missing.stderr.contains("no such file"))
    }
}
