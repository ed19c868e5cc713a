import Alerting
import ArgumentParser
import Foundation
import Reports

/// `drift rules check DIR|FILE`: validates alert rule files like promtool.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Work with alert rule files (docs/alerts.md).", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check rule files: every error with file:line:column; exit 1 when there is one.")

        @Argument(help: "A directory of .yaml/.yml rule files, or files.") var paths: [String]
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            guard !paths.isEmpty else { throw CLIError("give a directory or rule files", exitCode: 64) }
            var files: [(path: String, text: String)] = []
            for path in paths {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    throw CLIError("\(path): no such file or directory")
                }
                let list: [String]
                if isDirectory.boolValue {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                    list = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map {
                        path + "/" + $0
                    }
                    guard !list.isEmpty else { throw CLIError("\(path): no .yaml or .yml files") }
                } else {
                    list = [path]
                }
                for file in list {
                    files.append((file, String(decoding: try FileIO.read(file, what: "rule file"), as: UTF8.self)))
                }
            }
            let (set, diagnostics) = RuleParser.parse(files: files)
            if json {
                print(
                    JSONValue.object([
                        ("valid", .bool(set != nil)), ("files", .int(Int64(files.count))),
                        ("rules", .int(Int64(set?.rules.count ?? 0))),
                        (
                            "errors",
                            .array(
                                diagnostics.map {
                                    .object([
                                        ("file", .string($0.path)), ("line", .int(Int64($0.line))),
                                        ("column", .int(Int64($0.column))), ("message", .string($0.message)),
                                    ])
                                })
                        ),
                    ]).serialized(pretty: true))
            } else {
                for d in diagnostics { print(d.description) }
                if let set {
                    print("\(files.count) file(s) OK: \(set.rules.count) rule(s), \(set.receivers.count) receiver(s)")
                }
            }
            if set == nil { throw CLIError("\(diagnostics.count) error(s) in \(files.count) file(s)") }
        }
    }
}
