import Foundation
import Logging
import Profiles
import Sketches
import Testing

/// Reproducible test data.
typealias SeededRandom = SplitMix64

/// 2024-05-01T10:00:00Z, an hour boundary.
let baseTime: Int64 = 1_714_557_600_000
let fiveMinutes: Int64 = 300_000

/// A profile of `rows` rows (`amount` = 1...rows) in the `index`-th five-minute window.
func sampleProfile(
    window index: Int, rows: Int = 10, model: String = "fraud", segment: Segment = .all
)
    -> DatasetProfile
{
    var amount = ColumnProfile()
    for i in 1...rows { amount.update(.double(Double(i))) }
    return DatasetProfile(
        model: model, segment: segment, windowStart: baseTime + Int64(index) * fiveMinutes, windowLength: fiveMinutes,
        columns: ["amount": amount])
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("drift-ship-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func files(in directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// The rows in a set of native profile bodies (the `amount` column's count).
func totalRows(_ bodies: some Sequence<[UInt8]>) throws -> Int64 {
    try bodies.reduce(0) { $0 + (try NativeCodec.decode($1).columns["amount"]?.count ?? 0) }
}

/// Tests check outcomes, not log lines: only critical messages are printed.
let quietLogger: Logger = {
    var logger = Logger(label: "driftwatch.shipping.tests")
    logger.logLevel = .critical
    return logger
}()
