import ArgumentParser
import Foundation
import Reports

/// `drift silence add|list|expire`: mute alerts on a Driftwatch server for a while
/// (`/v1/silences`; the admin scope to add and expire, read to list).
struct SilenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Mute alerts for a while: add, list and expire silences on a Driftwatch server.",
        subcommands: [Add.self, List.self, Expire.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a silence: alerts whose labels match every matcher are not notified until it ends.",
            discussion: """
                Matchers use Alertmanager's notation: model="fraud", column=~"age|income",
                severity!="info", segment!~"region=test.*". Alerts carry the labels rule, model,
                segment, metric, severity, column, baseline and version, plus the rule's own.
                Example: drift silence add 'model="fraud"' 'column="age"' --duration 2h \\
                           --comment "retraining, JIRA-123"
                """)

        @OptionGroup var connection: ServerConnection
        @Argument(help: "Label matchers, e.g. model=\"fraud\" column=~\"age|income\".") var matchers: [String]
        @Option(help: "How long, e.g. 30m, 2h, 3d.") var duration: String?
        @Option(help: "Or when it ends, RFC 3339.") var until: String?
        @Option(help: "When it starts, RFC 3339 (default: now).") var starts: String?
        @Option(help: "Why (required; on-call people read it).") var comment: String
        @Option(help: "Who (default: $USER).") var author: String?
        @Flag(help: "Print the server's JSON.") var json = false

        func validate() throws {
            guard !matchers.isEmpty else { throw ValidationError("give at least one matcher, e.g. model=\"fraud\"") }
            guard (duration == nil) != (until == nil) else {
                throw ValidationError("give exactly one of --duration, --until")
            }
        }

        func run() throws {
            var members: [(String, JSONValue)] = [
                ("matchers", .array(matchers.map { .string($0) })), ("comment", .string(comment)),
                ("created_by", .string(author ?? ProcessInfo.processInfo.environment["USER"] ?? "drift")),
            ]
            if let duration { members.append(("duration", .string(duration))) }
            if let until { members.append(("ends_at", .string(until))) }
            if let starts { members.append(("starts_at", .string(starts))) }
            let answer = try connection.send(
                "POST", "/v1/silences", body: Array(JSONValue.object(members).serialized().utf8),
                contentType: "application/json")
            if json {
                print(String(decoding: answer, as: UTF8.self), terminator: "")
                return
            }
            let s = try SilenceCommand.silence(answer)
            print(
                "silence \(s["id"] as? Int ?? 0) \(s["state"] as? String ?? "?") until \(s["ends_at"] as? String ?? "?")"
            )
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List silences (active and pending by default).")

        @OptionGroup var connection: ServerConnection
        @Flag(help: "Also silences that ended in the last 7 days.") var all = false
        @Flag(help: "Print the server's JSON.") var json = false

        func run() throws {
            let answer = try connection.send("GET", "/v1/silences" + (all ? "?state=all" : ""))
            if json {
                print(String(decoding: answer, as: UTF8.self), terminator: "")
                return
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any],
                let silences = object["silences"] as? [[String: Any]]
            else { throw CLIError("the server's answer is not a silence list") }
            var table = TextTable("id", "state", "matchers", "ends", "by", "comment")
            for s in silences {
                table.append(
                    "\(s["id"] as? Int ?? 0)", s["state"] as? String ?? "?",
                    (s["matchers"] as? [String] ?? []).joined(separator: " "), s["ends_at"] as? String ?? "?",
                    s["created_by"] as? String ?? "", s["comment"] as? String ?? "")
            }
            print(silences.isEmpty ? "no silences" : table.rendered())
        }
    }

    struct Expire: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a silence now; what it muted is notified again at the next evaluation.")

        @OptionGroup var connection: ServerConnection
        @Argument(help: "The silence's id (see drift silence list).") var id: Int
        @Flag(help: "Print the server's JSON.") var json = false

        func run() throws {
            let answer = try connection.send("DELETE", "/v1/silences/\(id)")
            if json {
                print(String(decoding: answer, as: UTF8.self), terminator: "")
                return
            }
            let s = try SilenceCommand.silence(answer)
            print("silence \(id) expired at \(s["ends_at"] as? String ?? "?")")
        }
    }

    static func silence(_ answer: [UInt8]) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any] else {
            throw CLIError("the server's answer is not a silence")
        }
        return object
    }
}
