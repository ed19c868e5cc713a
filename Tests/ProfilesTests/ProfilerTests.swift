import Synchronization
import Testing

@testable import Profiles

/// A manual clock for windowing tests.
final class TestClock: Sendable {
    let now = Atomic<Int64>(0)
    init(_ start: Int64) { now.store(start, ordering: .relaxed) }
    func set(_ t: Int64) { now.store(t, ordering: .relaxed) }
    var read: @Sendable () -> Int64 { { [self] in now.load(ordering: .relaxed) } }
}

@Suite("Profiler")
struct ProfilerTests {
    static let minute: Int64 = 60_000

    @Test func rowsLandInTheirEventTimeWindow() throws {
        let clock = TestClock(10 * Self.minute)
        let profiler = try Profiler(
            options: ProfilerOptions(model: "m", windowLength: Self.minute), clock: clock.read)
        profiler.log(["x": 1.0], at: 10 * Self.minute + 5)
        profiler.log(["x": 2.0], at: 10 * Self.minute + 59_999)
        profiler.log(["x": 3.0], at: 9 * Self.minute + 1)  // previous window, still within lateness
        profiler.log(["x": 4.0])  // now → window 10
        let profiles = profiler.flush().sorted { $0.windowStart < $1.windowStart }
        #expect(profiles.map(\.windowStart) == [9 * Self.minute, 10 * Self.minute])
        #expect(profiles.map { $0.columns["x"]!.count } == [1, 3])
        #expect(profiles.allSatisfy { $0.windowLength == Self.minute && $0.model == "m" })
        #expect(profiles[1].columns["x"]!.numeric!.max == 4)
        #expect(profiler.openWindowCount == 0)
    }

    @Test func windowsCloseAfterTheirLatenessAndLateRowsAreCounted() throws {
        let clock = TestClock(0)
        let profiler = try Profiler(
            options: ProfilerOptions(model: "m", windowLength: Self.minute, allowedLateness: 30_000),
            clock: clock.read)
        profiler.log(["x": 1.0], at: 1000)
        clock.set(Self.minute + 29_999)
        profiler.log(["x": 2.0], at: 2000)  // still open (deadline 90 s)
        #expect(profiler.takeClosedProfiles().isEmpty)
        clock.set(Self.minute + 30_000)
        profiler.log(["x": 3.0], at: 3000)  // window 0 is past its deadline: late
        let closed = profiler.takeClosedProfiles()
        #expect(closed.count == 1)
        #expect(closed.first?.columns["x"]?.count == 2)
        #expect(profiler.statistics.lateRows == 1)
        #expect(profiler.statistics.rows == 2)
        // Negative event times floor to their window too.
        profiler.log(["x": 1.0], at: Self.minute + 30_000)
        #expect(profiler.flush().count == 1)
    }

    @Test func segmentKeysSplitProfiles() throws {
        let clock = TestClock(0)
        let profiler = try Profiler(
            options: ProfilerOptions(model: "m", segmentKeys: ["region"]), clock: clock.read)
        for i in 0..<30 {
            let region: Value = i % 3 == 0 ? "eu" : (i % 3 == 1 ? "us" : .null)
            profiler.log(["region": region, "x": .int(Int64(i))])
        }
        let profiles = profiler.flush()
        let bySegment = Dictionary(uniqueKeysWithValues: profiles.map { ($0.segment.description, $0) })
        #expect(Set(bySegment.keys) == ["region=eu", "region=us", "region=null"])
        #expect(bySegment.values.allSatisfy { $0.columns["x"]!.count == 10 })
        #expect(bySegment["region=eu"]!.columns["x"]!.numeric!.moments.mean == 13.5)
    }

    @Test func delayedOutcomesLandInThePredictionsWindow() throws {
        let clock = TestClock(0)
        let profiler = try Profiler(
            options: ProfilerOptions(model: "m", windowLength: Self.minute), clock: clock.read)
        let predictionTime: Int64 = 5000
        profiler.log(["x": 1.0], at: predictionTime)
        // The window closes; ground truth arrives an hour later with the prediction's time.
        clock.set(60 * Self.minute)
        profiler.closeDueWindows()
        let first = profiler.takeClosedProfiles()
        #expect(first.count == 1 && first[0].performance == nil)
        profiler.logClassification(predicted: "a", actual: "b", score: 0.3, at: predictionTime)
        profiler.logClassification(predicted: "b", actual: "b", score: 0.9, at: predictionTime)
        // Stays open for a window length so that outcomes batch, then closes.
        clock.set(61 * Self.minute)
        profiler.closeDueWindows()
        let second = profiler.takeClosedProfiles()
        #expect(second.count == 1)
        #expect(second[0].windowStart == 0 && second[0].columns.isEmpty)
        guard case .classification(let c)? = second[0].performance else {
            Issue.record("performance expected")
            return
        }
        #expect(c.count == 2)
        // Downstream, it merges into the same window.
        let merged = try first[0].merging(second[0])
        #expect(merged.windowStart == 0 && merged.windowLength == Self.minute)
        #expect(merged.columns["x"]?.count == 1)
        // Outcomes older than the max delay are counted, not profiled.
        clock.set(8 * 86_400_000)
        profiler.logRegression(predicted: 1, actual: 2, at: predictionTime)
        #expect(profiler.statistics.lateOutcomes == 1)
        #expect(profiler.statistics.outcomes == 2)
    }

    @Test func latencyAndRegressionBlocks() throws {
        let profiler = try Profiler(options: ProfilerOptions(model: "m"))
        for i in 0..<100 {
            profiler.logLatency(milliseconds: Double(i), failed: i % 10 == 0)
            profiler.logRegression(predicted: Double(i) + 1, actual: Double(i))
        }
        let profiles = profiler.flush()
        let latency = profiles.compactMap(\.latency).reduce(into: LatencyProfile()) { $0.merge($1) }
        #expect(latency.requestCount == 100 && latency.errorCount == 10)
        var total: Int64 = 0
        for p in profiles {
            if case .regression(let r)? = p.performance {
                total += r.count
                #expect(r.sumError == Double(r.count))
            }
        }
        #expect(total == 100)
    }

    @Test func tooManyOpenWindowsCloseTheSoonestEarly() throws {
        let clock = TestClock(0)
        let profiler = try Profiler(
            options: ProfilerOptions(model: "m", segmentKeys: ["s"], maxOpenWindows: 3), clock: clock.read)
        for i in 0..<5 { profiler.log(["s": .int(Int64(i)), "x": 1.0]) }
        #expect(profiler.openWindowCount == 3)
        #expect(profiler.statistics.windowsClosedEarly == 2)
        let all = profiler.takeClosedProfiles() + profiler.flush()
        #expect(all.count == 5)
        #expect(all.reduce(0) { $0 + $1.columns["x"]!.count } == 5)
    }

    @Test func closureAPIAndColumnIDs() throws {
        let profiler = try Profiler(options: ProfilerOptions(model: "m"))
        let age = profiler.column("age")
        let name = profiler.column("name")
        #expect(profiler.column("age") == age)
        for i in 0..<10 {
            profiler.log { row in
                row.set(age, Double(i))
                if i % 2 == 0 { row.set(name, "n\(i)") } else { row.setNull(name) }
            }
        }
        let merged = try profiler.flush().reduce(nil as DatasetProfile?) { acc, p in try acc?.merging(p) ?? p }!
        #expect(merged.columns["age"]!.numeric!.moments.mean == 4.5)
        #expect(merged.columns["name"]!.nullCount == 5)
        #expect(merged.columns["name"]!.types.string == 5)
    }

    @Test func columnarBatches() throws {
        let profiler = try Profiler(options: ProfilerOptions(model: "m"))
        try profiler.log(columns: ["a": [1, 2, 3], "b": ["x", "y", .null]])
        #expect(throws: ProfileError.self) { try profiler.log(columns: ["a": [1], "b": [1, 2]]) }
        let p = profiler.flush()
        #expect(p.count == 1)
        #expect(p[0].columns["a"]!.count == 3 && p[0].columns["b"]!.nullCount == 1)
    }

    @Test func rejectsBadOptions() {
        #expect(throws: ProfileError.self) { try Profiler(options: ProfilerOptions(model: "")) }
        #expect(throws: ProfileError.self) { try Profiler(options: ProfilerOptions(model: "m", windowLength: 10)) }
        #expect(throws: ProfileError.self) { try Profiler(options: ProfilerOptions(model: "m", shards: 0)) }
        #expect(throws: ProfileError.self) {
            try Profiler(options: ProfilerOptions(model: "m", segmentKeys: ["a", "a"]))
        }
    }

    /// N threads logging M rows each (into several windows and segments) lose no count.
    @Test func concurrentLoggingLosesNothing() async throws {
        let clock = TestClock(0)
        let profiler = try Profiler(
            options: ProfilerOptions(model: "m", windowLength: Self.minute, segmentKeys: ["s"], shards: 4),
            clock: clock.read)
        let threads = 8
        let rowsPerThread = 5000
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<threads {
                group.addTask {
                    let x = profiler.column("x")
                    for i in 0..<rowsPerThread {
                        if i % 2 == 0 {
                            profiler.log(["s": .int(Int64(i % 3)), "x": .double(Double(i)), "t": .int(Int64(t))])
                        } else {
                            profiler.log(at: Int64(i % 2) * 1000, segment: Segment(["s": String(i % 3)])) { row in
                                row.set(x, Double(i))
                            }
                        }
                        if i % 1000 == 0 { profiler.logLatency(milliseconds: 1) }
                    }
                }
            }
        }
        let profiles = profiler.flush()
        let total = profiles.reduce(Int64(0)) { $0 + ($1.columns["x"]?.count ?? 0) }
        #expect(total == Int64(threads * rowsPerThread))
        #expect(profiler.statistics.rows == Int64(threads * rowsPerThread))
        let latencies = profiles.reduce(Int64(0)) { $0 + ($1.latency?.requestCount ?? 0) }
        #expect(latencies == Int64(threads * rowsPerThread / 1000))
        // Each (window, segment) came out once.
        let keys = profiles.map { "\($0.windowStart) \($0.segment)" }
        #expect(Set(keys).count == keys.count)
    }
}
