import ArgumentParser
import Foundation
import Profiles
import Reports
import Shipping

/// `drift baseline set|list|delete`: a model's baselines on a Driftwatch server.
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Manage a model's baselines on a Driftwatch server (the admin scope for changes).",
        subcommands: [Set.self, List.self, Delete.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a baseline: a stored profile, a fixed time range, or a trailing window.",
            discussion: """
                Exactly one of --profile, --range or --trailing. Changing a baseline makes the
                server recompute the metrics of every window of the model.
                """)

        @OptionGroup var connection: ServerConnection
        @Argument(help: "The model.") var model: String
        @Argument(help: "The baseline's name.") var name: String
        @Option(help: "A profile file (native or whylogs) to store as the baseline.") var profile: String?
        @Option(help: "A fixed range, FROM,TO in RFC 3339 (or dates), e.g. 2024-01-01,2024-02-01.") var range: String?
        @Option(help: "A trailing window before each evaluated window, e.g. 7d.") var trailing: String?
        @Option(help: "Only for this segment, key=value[,key=value].") var segment: String?
        @Flag(name: .customLong("default"), help: "Make it the model's default baseline.") var isDefault = false
        @Flag(help: "Print the server's JSON.") var json = false

        func run() throws {
            let given = [profile != nil, range != nil, trailing != nil].filter { $0 }.count
            guard given == 1 else { throw CLIError("give exactly one of --profile, --range, --trailing", exitCode: 64) }
            let body: [UInt8]
            var contentType = "application/json"
            if let profile {
                body = try FileIO.read(profile, what: "profile")
                do { _ = try ProfileCodec.decode(body) } catch { throw CLIError("\(profile): \(error)") }
                contentType = "application/octet-stream"
            } else if let range {
                let parts = range.split(separator: ",").map(String.init)
                guard parts.count == 2 else { throw CLIError("--range needs FROM,TO", exitCode: 64) }
                body = Array(
                    JSONValue.object([
                        ("kind", .string("range")), ("from", .string(parts[0])), ("to", .string(parts[1])),
                    ])
                    .serialized().utf8)
            } else {
                body = Array(
                    JSONValue.object([("kind", .string("trailing")), ("span", .string(trailing ?? ""))]).serialized()
                        .utf8)
            }
            var query: [String] = []
            if isDefault { query.append("default=true") }
            if let segment { query.append("segment=" + ServerConnection.segment(segment)) }
            let path =
                "/v1/models/\(ServerConnection.segment(model))/baselines/\(ServerConnection.segment(name))"
                + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            let answer = try connection.send("PUT", path, body: body, contentType: contentType)
            if json {
                print(String(decoding: answer, as: UTF8.self), terminator: "")
            } else {
                print("baseline '\(name)' of model '\(model)' stored\(isDefault ? " (default)" : "")")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a model's baselines.")

        @OptionGroup var connection: ServerConnection
        @Argument(help: "The model.") var model: String
        @Flag(help: "Print the server's JSON.") var json = false

        func run() throws {
            let answer = try connection.send("GET", "/v1/models/\(ServerConnection.segment(model))/baselines")
            if json {
                print(String(decoding: answer, as: UTF8.self), terminator: "")
                return
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any],
                let baselines = object["baselines"] as? [[String: Any]]
            else { throw CLIError("the server's answer is not a baseline list") }
            var table = TextTable("name", "kind", "segment", "default", "definition", "updated")
            for b in baselines {
                let kind = b["kind"] as? String ?? "?"
                let definition: String
                switch kind {
                case "profile": definition = "\(b["bytes"] as? Int ?? 0) bytes"
                case "range": definition = "\(b["from"] as? String ?? "?") – \(b["to"] as? String ?? "?")"
                case "trailing": definition = "previous \((b["span_seconds"] as? Int ?? 0) / 3600) h"
                default: definition = "-"
                }
                table.append(
                    b["name"] as? String ?? "?", kind, b["segment"] as? String ?? "*",
                    (b["default"] as? Bool ?? false) ? "yes" : "", definition, b["updated_at"] as? String ?? "")
            }
            print(baselines.isEmpty ? "model '\(model)' has no baselines" : table.rendered())
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a baseline.")

        @OptionGroup var connection: ServerConnection
        @Argument(help: "The model.") var model: String
        @Argument(help: "The baseline's name.") var name: String

        func run() throws {
            _ = try connection.send(
                "DELETE", "/v1/models/\(ServerConnection.segment(model))/baselines/\(ServerConnection.segment(name))")
            print("baseline '\(name)' of model '\(model)' deleted")
        }
    }
}
