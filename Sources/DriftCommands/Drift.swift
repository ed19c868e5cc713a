public import ArgumentParser
import Foundation
import Profiles
import Sketches

#if canImport(Glibc)
    import Glibc
    private func terminate(_ code: Int32) -> Never { Glibc.exit(code) }
#elseif canImport(Darwin)
    import Darwin
    private func terminate(_ code: Int32) -> Never { Darwin.exit(code) }
#endif

/// The `drift` command line: one executable for profiling, diffing, inspecting sketches and
/// (in later layers) running the daemon.
public struct Drift: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Driftwatch: drift, data-quality and performance monitoring for ML models.",
        version: "0.1.0",
        subcommands: [
            ProfileCommand.self, DiffCommand.self, SketchCommand.self, ServeCommand.self, PushCommand.self,
            BaselineCommand.self, SilenceCommand.self,
            MigrateCommand.self, TokensCommand.self, RulesCommand.self,
        ]
    )

    public init() {}

    /// Parses the arguments and runs the chosen command. Failures print one line,
    /// `drift: error: ...`, on standard error and exit non-zero (usage errors exit 64).
    public static func runMain(arguments: [String]? = nil) async {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            printError(error.description)
            terminate(error.exitCode)
        } catch let error as ProfileError {
            printError(error.description)
            terminate(1)
        } catch let error as SketchError {
            printError(error.description)
            terminate(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)  // --help, --version
            }
            // ArgumentParser's message for usage errors can span lines ("Help: ..."); the
            // first line says what was wrong, `--help` says the rest.
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError(message)
            terminate(code.rawValue == 1 ? 1 : 64)
        }
    }
}

func printError(_ message: String) {
    let line = "drift: error: " + message.replacingNewlines() + "\n"
    FileHandle.standardError.write(Data(line.utf8))
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}

/// Writes text to standard output followed by a newline.
func printOutput(_ text: String) {
    print(text)
}
