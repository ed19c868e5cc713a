import ArgumentParser
import Foundation
import Profiles
import Reports
import Shipping

/// `drift push FILE... [--server URL] [--token T]`: upload profile files to a Driftwatch server.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload profile files (native or whylogs .bin) to a Driftwatch server's POST /v1/profiles.",
        discussion: """
            Each file is validated before it is sent and carries its profile's upload id as
            Idempotency-Key, so pushing a file twice stores it once (the second answer says
            duplicate=true). Network errors, 5xx and 429 are retried (honouring Retry-After); other
            4xx are reported with the server's message. Prints one line per accepted file and exits
            non-zero when any file failed, naming each.
            """
    )

    @Argument(help: "Profile files to upload.")
    var files: [String]

    /// `--server` (profiles go to URL/v1/profiles), `--token`, `--timeout` (per request).
    @OptionGroup var connection: ServerConnection

    @Option(help: "Retries of an upload after a network error, 5xx or 429.")
    var retries: Int = 3

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    func run() async throws {
        guard !files.isEmpty else { throw CLIError("no files to push", exitCode: 64) }
        guard (0...20).contains(retries) else { throw CLIError("--retries: \(retries) is not in 0...20", exitCode: 64) }
        let (base, bearer, timeout) = try connection.resolved()
        let shipping: ShipperConfiguration
        do {
            shipping = try ShipperConfiguration(
                serverURL: base, token: bearer, spoolDirectory: "-",
                http: HTTPUploaderConfiguration(totalTimeout: timeout)
            ).validated()
        } catch {
            throw CLIError("\(error)", exitCode: 64)
        }
        let uploader = HTTPUploader(configuration: shipping.http)
        var failed: [String] = []
        for file in files {
            do {
                let receipt = try await push(file, uploader: uploader, shipping: shipping)
                if json {
                    let line: JSONValue = .object([
                        ("file", .string(file)), ("id", .string(receipt.id)), ("duplicate", .bool(receipt.duplicate)),
                    ])
                    printOutput(line.serialized(pretty: false))
                } else {
                    printOutput("\(file): id=\(receipt.id) duplicate=\(receipt.duplicate)")
                }
            } catch {
                printError("\(file): \(error.description)")
                failed.append(file)
            }
        }
        if !failed.isEmpty {
            throw CLIError("\(failed.count) of \(files.count) uploads failed: \(failed.joined(separator: ", "))")
        }
    }

    private func push(
        _ file: String, uploader: HTTPUploader, shipping: ShipperConfiguration
    ) async throws(CLIError)
        -> UploadReceipt
    {
        let bytes = try FileIO.read(file, what: "profile")
        let profile: DatasetProfile
        do { profile = try ProfileCodec.decode(bytes).profile } catch { throw CLIError("not sent: \(error)") }
        let headers = shipping.headers(idempotencyKey: profile.uploadID.description)
        let policy = RetryPolicy(initialDelay: .milliseconds(500), maxDelay: .seconds(10), maxRetryAfter: .seconds(60))
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            let outcome: UploadDisposition
            let response: HTTPResponse?
            var lastProblem: String
            do {
                let answer = try await uploader.send(shipping.endpoint, body: bytes, headers: headers)
                response = answer
                outcome = policy.disposition(
                    of: answer, failures: attempt, nowMilliseconds: Clock.nowMilliseconds(), using: &generator)
                lastProblem = ServerError.message(of: answer)
            } catch {
                response = nil
                outcome = .retry(after: policy.delay(afterFailures: attempt, using: &generator))
                lastProblem = error.description
            }
            switch outcome {
            case .delivered:
                guard let response, let receipt = UploadReceipt(response) else {
                    throw CLIError(
                        "the server answered \(response?.status ?? 0) without the {\"id\", \"duplicate\"} body")
                }
                return receipt
            case .reject(let message):
                throw CLIError(message)
            case .retry(let delay):
                guard attempt <= retries else {
                    throw CLIError("\(lastProblem) (gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"))")
                }
                try? await Task.sleep(for: delay)
            }
        }
    }
}
