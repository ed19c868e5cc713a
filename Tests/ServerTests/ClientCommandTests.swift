import DriftTestSupport
import Foundation
import HummingbirdTesting
import Profiles
import Server
import Storage
import Testing

/// `drift push` and `drift baseline` (libcurl clients) against the real application.
@Suite(.serialized) struct ClientCommandTests {
    /// Runs the `drift` binary on a thread of its own, so the server under test keeps Swift
    /// concurrency's threads.
    static func drift(_ arguments: [String]) async throws -> DriftProcess.Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do { continuation.resume(returning: try DriftProcess.run(arguments)) } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    @Test func pushAndBaselineCommands() async throws {
        let server = try await ServerHarness.make("clients")
        let admin = try await server.token(project: "acme")
        let reader = try await server.token(project: "acme", scopes: [.read])
        let work = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        var random = SeededRandom(seed: 50)
        var paths: [String] = []
        for i in 0..<4 {
            let profile = TestProfiles.columns(
                model: "fraud", columns: 2, rows: 30, windowStart: IngestTests.base + Int64(i) * 3_600_000,
                random: &random)
            let path = work.appendingPathComponent("p\(i).dwp").path
            try Data(NativeCodec.encode(profile)).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let files = paths
        let garbage = work.appendingPathComponent("garbage.dwp").path
        try Data("not a profile".utf8).write(to: URL(fileURLWithPath: garbage))
        try await server.run { client in
            let url = "http://127.0.0.1:\(client.port ?? 0)"
            let pushed = try await Self.drift(["push"] + files + ["--server", url, "--token", admin])
            #expect(pushed.status == 0, "\(pushed.stderr)")
            #expect(pushed.stdout.split(separator: "\n").count == 4)
            let again = try await Self.drift(["push", files[0], "--server", url, "--token", admin])
            #expect(again.status == 0 && again.stdout.contains("duplicate=true"), "\(again.stdout)")
            let refused = try await Self.drift(["push", files[1], "--server", url, "--token", reader])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("lacks the 'ingest' scope"), "\(refused.stderr)")
            let bad = try await Self.drift(["push", garbage, "--server", url, "--token", admin])
            #expect(bad.status != 0 && bad.stderr.contains("garbage.dwp"), "\(bad.stderr)")

            let set = try await Self.drift([
                "baseline", "set", "fraud", "reference", "--profile", files[0], "--default", "--server", url, "--token",
                admin,
            ])
            #expect(set.status == 0, "\(set.stderr)")
            let trailing = try await Self.drift([
                "baseline", "set", "fraud", "last-week", "--trailing", "7d", "--server", url, "--token", admin,
            ])
            #expect(trailing.status == 0, "\(trailing.stderr)")
            let range = try await Self.drift([
                "baseline", "set", "fraud", "march", "--range", "2024-03-01,2024-04-01", "--server", url, "--token",
                admin,
            ])
            #expect(range.status == 0, "\(range.stderr)")
            let list = try await Self.drift(["baseline", "list", "fraud", "--server", url, "--token", reader])
            #expect(list.status == 0, "\(list.stderr)")
            for name in ["reference", "last-week", "march"] { #expect(list.stdout.contains(name), "\(list.stdout)") }
            #expect(list.stdout.contains("yes"))
            let forbidden = try await Self.drift([
                "baseline", "delete", "fraud", "march", "--server", url, "--token", reader,
            ])
            #expect(forbidden.status != 0 && forbidden.stderr.contains("403"), "\(forbidden.stderr)")
            let deleted = try await Self.drift([
                "baseline", "delete", "fraud", "march", "--server", url, "--token", admin,
            ])
            #expect(deleted.status == 0, "\(deleted.stderr)")
            let missing = try await Self.drift([
                "baseline", "delete", "fraud", "march", "--server", url, "--token", admin,
            ])
            #expect(missing.status != 0 && missing.stderr.contains("no baseline 'march'"), "\(missing.stderr)")
            let badRange = try await Self.drift([
                "baseline", "set", "fraud", "x", "--range", "yesterday,today", "--server", url, "--token", admin,
            ])
            #expect(badRange.status != 0 && badRange.stderr.contains("RFC 3339"), "\(badRange.stderr)")
        }
        #expect(try await server.scalar(Int.self, "SELECT count(*) FROM raw_profiles") == 4)
    }

    @Test func silenceCommands() async throws {
        let server = try await ServerHarness.make("silencecli")
        let admin = try await server.token(project: "acme")
        let reader = try await server.token(project: "acme", scopes: [.read])
        try await server.run { client in
            let url = "http://127.0.0.1:\(client.port ?? 0)"
            let added = try await Self.drift([
                "silence", "add", "model=\"fraud\"", "column=~\"age|income\"", "--duration", "2h", "--comment",
                "retraining", "--author", "ana", "--server", url, "--token", admin,
            ])
            #expect(
                added.status == 0 && added.stdout.hasPrefix("silence ") && added.stdout.contains("active"),
                "\(added.stderr)")
            let id = try #require(added.stdout.split(separator: " ").dropFirst().first.flatMap { Int($0) })
            let listed = try await Self.drift(["silence", "list", "--server", url, "--token", reader])
            #expect(listed.status == 0, "\(listed.stderr)")
            for text in ["\(id)", "active", "model=\"fraud\" column=~\"age|income\"", "ana", "retraining"] {
                #expect(listed.stdout.contains(text), "\(listed.stdout)")
            }
            let noComment = try await Self.drift([
                "silence", "add", "model=fraud", "--duration", "2h", "--comment", " ", "--server", url, "--token",
                admin,
            ])
            #expect(noComment.status != 0 && noComment.stderr.contains("needs a comment"), "\(noComment.stderr)")
            let badMatcher = try await Self.drift([
                "silence", "add", "model", "--duration", "2h", "--comment", "x", "--server", url, "--token", admin,
            ])
            #expect(badMatcher.status != 0 && badMatcher.stderr.contains("needs an operator"), "\(badMatcher.stderr)")
            let both = try await Self.drift([
                "silence", "add", "a=b", "--comment", "x", "--server", url, "--token", admin,
            ])
            #expect(both.status == 64 && both.stderr.contains("--duration"), "\(both.stderr)")
            let forbidden = try await Self.drift(["silence", "expire", "\(id)", "--server", url, "--token", reader])
            #expect(forbidden.status != 0 && forbidden.stderr.contains("403"), "\(forbidden.stderr)")
            let expired = try await Self.drift(["silence", "expire", "\(id)", "--server", url, "--token", admin])
            #expect(expired.status == 0 && expired.stdout.contains("expired"), "\(expired.stderr)")
            let active = try await Self.drift(["silence", "list", "--server", url, "--token", reader])
            #expect(active.stdout.contains("no silences"), "\(active.stdout)")
            let all = try await Self.drift(["silence", "list", "--all", "--json", "--server", url, "--token", reader])
            #expect(
                all.stdout.contains("\"state\":\"expired\"") || all.stdout.contains("\"state\": \"expired\""),
                "\(all.stdout)")
        }
    }
}
