import ArgumentParser
import Drift
import Foundation
import Profiles
import Reports

/// `drift diff REFERENCE TARGET`: drift, data quality, performance and latency of a target
/// against a reference, from profiles or from data files profiled on the fly.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare a target with a reference: drift per column, data quality, performance, latency.",
        discussion: """
            Each argument is a profile (Driftwatch or whylogs) or a .csv/.jsonl file, profiled on
            the fly with the profiling options below. Methods and thresholds: docs/statistics.md.
            Exit status 3 with --fail-on-drift when the dataset drifts.
            """
    )

    @Argument(help: "Reference: a profile or a data file.")
    var reference: String

    @Argument(help: "Target: a profile or a data file.")
    var target: String

    @Flag(help: "Print the JSON report.")
    var json = false

    @Flag(help: "Print a Markdown report (summary table ranked by effect size).")
    var markdown = false

    @Option(help: "Comma-separated columns to compare (default: all).")
    var columns: String?

    @Option(
        help:
            "Per-column method, column=method (psi, ks, js, hellinger, wasserstein, wasserstein_normed, linf, chi2); repeatable."
    )
    var stattest: [String] = []

    @Option(help: "Threshold, metric=value, metric.warning=value or dataset_share=value; repeatable.")
    var threshold: [String] = []

    @Flag(name: .customLong("fail-on-drift"), help: "Exit with status 3 when the dataset drifts.")
    var failOnDrift = false

    @Option(name: .customLong("prediction-column"), help: "Data files: column with the model's prediction.")
    var predictionColumn: String?

    @Option(name: .customLong("target-column"), help: "Data files: column with the ground truth.")
    var targetColumn: String?

    @Option(name: .customLong("score-column"), help: "Data files: column with the model's score.")
    var scoreColumn: String?

    @Option(help: "Data files: classification or regression (default: inferred).")
    var task: String?

    @Option(name: .customLong("kll-k"), help: "Data files: KLL k (default 200).")
    var kllK: Int?

    func run() throws {
        if json && markdown { throw CLIError("--json and --markdown are exclusive", exitCode: 64) }
        var options = DriftOptions()
        do {
            for spec in stattest { try options.setMethod(spec) }
            for spec in threshold { try options.setThreshold(spec) }
            options.columns = columns.map { ProfileCreate.list($0) }
            try options.validate()
        } catch {
            throw CLIError("\(error)", exitCode: 64)
        }
        let referenceProfile = try load(reference)
        let targetProfile = try load(target)
        let report = DriftReport.compare(reference: referenceProfile, target: targetProfile, options: options)
        if json {
            print(DiffRendering.json(report).serialized(pretty: true))
        } else if markdown {
            print(DiffRendering.markdown(report))
        } else {
            print(DiffRendering.text(report))
        }
        if failOnDrift && report.datasetDrift.drift {
            throw CLIError(
                "dataset drift: \(report.datasetDrift.driftedColumns) of \(report.datasetDrift.evaluatedColumns) columns drifted",
                exitCode: 3)
        }
    }

    private func load(_ path: String) throws -> DatasetProfile {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") {
            var create = try ProfileCreate.parse([path])
            create.predictionColumn = predictionColumn
            create.targetColumn = targetColumn
            create.scoreColumn = scoreColumn
            create.task = task
            create.kllK = kllK
            return try create.profileInMemory()
        }
        let bytes = try FileIO.read(path, what: "profile")
        do { return try ProfileCodec.decode(bytes).profile } catch { throw CLIError("\(path): \(error)") }
    }
}
