/// An error the CLI reports as one line on standard error before exiting non-zero.
///
/// The message names what was wrong and where (file, line, option).
public struct CLIError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let exitCode: Int32

    public init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}
