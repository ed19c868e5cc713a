import ArgumentParser
import Reports
import Sketches

/// `drift sketch inspect FILE`: detect the family of an image and print its answers.
struct SketchInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode a DataSketches image (KLL floats/doubles, frequent strings) and print its answers.",
        discussion: """
            The family is detected from the preamble. KLL images do not record whether they
            hold floats or doubles; the item type is inferred from the image length (an empty
            image is reported as double unless --item-type says otherwise).
            """
    )

    @Argument(help: "The sketch image file.")
    var file: String

    @Option(
        help:
            "Comma-separated ranks in [0, 1] for KLL quantiles (default 0,0.01,0.05,0.1,0.25,0.5,0.75,0.9,0.95,0.99,1)."
    )
    var ranks: String?

    @Flag(help: "KLL: use inclusive quantile semantics (default exclusive, as in DataSketches' Python API).")
    var inclusive = false

    @Option(help: "Frequent items: no-false-positives (default) or no-false-negatives.")
    var errorType: String?

    @Option(help: "KLL: item type to assume for an empty image (double or float).")
    var itemType: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        var options = SketchSummary.Options()
        if let ranks { options.ranks = try parseRanks(ranks) }
        options.inclusive = inclusive
        if let errorType {
            guard let parsed = FrequentItemsErrorType(rawValue: errorType) else {
                throw CLIError("--error-type: '\(errorType)' is not no-false-positives or no-false-negatives")
            }
            options.errorType = parsed
        }
        if let itemType {
            guard let parsed = KLLItemType(rawValue: itemType) else {
                throw CLIError("--item-type: '\(itemType)' is not double or float")
            }
            options.kllItemType = parsed
        }
        let image = try FileIO.read(file, what: "sketch")
        let summary: SketchSummary
        do {
            summary = try SketchSummary(image: image, options: options)
        } catch {
            throw CLIError("\(file): \(error)")
        }
        printOutput(json ? summary.json.serialized(pretty: true) : summary.text)
    }
}

/// Parses `--ranks 0.1,0.5,0.99`.
func parseRanks(_ text: String) throws(CLIError) -> [Double] {
    var ranks: [Double] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let trimmed = part.trimmingCharacters(in: " ")
        guard let rank = Double(trimmed), rank >= 0, rank <= 1 else {
            throw CLIError("--ranks: '\(trimmed)' is not a rank in [0, 1]")
        }
        ranks.append(rank)
    }
    return ranks
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
