// Profiler throughput harness for scripts/bench (whylogs' per-row logging is the anchor, run on
// the same rows in the same run).
//
// Usage:
//   ProfileBench ROWS.csv [--repeat N]       one JSON object per line: {"name","ops","seconds"}
//                                            (+ "median_ns" for per-row latency)
//   ProfileBench ROWS.csv --ship-to URL      also: the fast path through a DriftMonitor shipping
//                                            to URL (1 s windows closing during the run) next to a
//                                            bare Profiler with the same windows
//   ProfileBench ROWS.csv --alloc-probe N    logs N rows after a warm-up and exits; run under
//                                            `valgrind` twice with different N: equal allocation
//                                            counts mean steady-state logging allocates nothing.
//
// ROWS.csv: a header of 10 numeric (n0..n9) and 10 categorical (c0..c9) columns, then rows.

import Foundation
import Profiles
import Shipping
import Synchronization

@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: ProfileBench ROWS.csv [--repeat N | --alloc-probe N]\n".utf8))
    exit(2)
}
let repeats: Int = {
    if let i = arguments.firstIndex(of: "--repeat"), i + 1 < arguments.count, let n = Int(arguments[i + 1]) { return n }
    return 5
}()

// Load the rows: 10 doubles then 10 strings per row.
let text = try String(contentsOfFile: arguments[1], encoding: .utf8)
var lines = text.split(separator: "\n")
let header = lines.removeFirst().split(separator: ",").map(String.init)
precondition(header.count == 20, "expected 20 columns n0..n9,c0..c9")
let numericRows: [[Double]] = lines.map { line in line.split(separator: ",").prefix(10).map { Double($0)! } }
let categoricalRows: [[String]] = lines.map { line in line.split(separator: ",").dropFirst(10).map(String.init) }
let rowCount = lines.count

func makeProfiler(shards: Int = 4) -> Profiler {
    // One long window so that the measurement is of logging, not of window turnover.
    try! Profiler(options: ProfilerOptions(model: "bench", windowLength: 86_400_000, shards: shards))
}

if let i = arguments.firstIndex(of: "--alloc-probe"), i + 1 < arguments.count, let n = Int(arguments[i + 1]) {
    let profiler = makeProfiler(shards: 1)
    let ids = (0..<10).map { profiler.column("n\($0)") }
    let time = Clock.nowMilliseconds()
    // Warm-up: every sketch reaches its steady state (KLL levels allocated, HLL in HLL mode).
    for r in 0..<200_000 {
        let row = numericRows[r % rowCount]
        profiler.log(at: time) { w in for c in 0..<10 { w.set(ids[c], row[c] + Double(r)) } }
    }
    for r in 0..<n {
        let row = numericRows[r % rowCount]
        profiler.log(at: time) { w in for c in 0..<10 { w.set(ids[c], row[c] + Double(r)) } }
    }
    blackHole(profiler)
    exit(0)
}

let clock = ContinuousClock()

/// Per-row latency: batches of 64 rows timed, median over all batches of the best repetition.
func measureRows(_ name: String, _ body: (Int) -> Void) {
    var best = Double.infinity
    var bestMedian = 0.0
    for _ in 0..<repeats {
        var batches: [Double] = []
        batches.reserveCapacity(rowCount / 64 + 1)
        let total = clock.measure {
            var r = 0
            while r < rowCount {
                let end = min(r + 64, rowCount)
                let start = clock.now
                for i in r..<end { body(i) }
                batches.append(seconds(clock.now - start) / Double(end - r))
                r = end
            }
        }
        let t = seconds(total)
        if t < best {
            best = t
            batches.sort()
            bestMedian = batches[batches.count / 2] * 1e9
        }
    }
    print(#"{"name":"\#(name)","ops":\#(rowCount),"seconds":\#(best),"median_ns":\#(bestMedian)}"#)
}

// Event time "now" (as a service logs); the day-long window stays open through the run.
let time = Clock.nowMilliseconds()

do {
    // Fast path: ColumnIDs and typed setters.
    var profiler = makeProfiler()
    var n = (0..<10).map { profiler.column("n\($0)") }
    var c = (0..<10).map { profiler.column("c\($0)") }
    measureRows("profiler_log_row") { i in
        if i == 0 {
            profiler = makeProfiler()
            n = (0..<10).map { profiler.column("n\($0)") }
            c = (0..<10).map { profiler.column("c\($0)") }
        }
        let numbers = numericRows[i]
        let strings = categoricalRows[i]
        profiler.log(at: time) { row in
            for k in 0..<10 { row.set(n[k], numbers[k]) }
            for k in 0..<10 { row.set(c[k], strings[k]) }
        }
    }
    blackHole(profiler.flush())
}

do {
    // Dictionary rows, as whylogs' why.log(row=...) takes them.
    let dictRows: [[String: Value]] = (0..<rowCount).map { i in
        var row: [String: Value] = [:]
        for k in 0..<10 { row["n\(k)"] = .double(numericRows[i][k]) }
        for k in 0..<10 { row["c\(k)"] = .string(categoricalRows[i][k]) }
        return row
    }
    var profiler = makeProfiler()
    measureRows("profiler_log_dict") { i in
        if i == 0 { profiler = makeProfiler() }
        profiler.log(dictRows[i], at: time)
    }
    blackHole(profiler.flush())
}

// Shipping active: 1-second windows with event time "now", so windows close during the
// measurement and the monitor's shipper spools (fsync) and uploads them on its own thread while
// the measured thread logs. The bare Profiler has the same windows and discards its profiles.
// Run alternately so that neither gets a systematically warmer machine.
if let i = arguments.firstIndex(of: "--ship-to"), i + 1 < arguments.count {
    let spool = FileManager.default.temporaryDirectory.appendingPathComponent("drift-bench-spool-\(getpid())").path
    let options = ProfilerOptions(model: "bench", windowLength: 1000, allowedLateness: 0)
    let bare = try! Profiler(options: options, onProfile: { blackHole($0) })
    var configuration = DriftMonitorConfiguration(
        profiler: options, shipping: ShipperConfiguration(serverURL: arguments[i + 1], spoolDirectory: spool))
    configuration.shipping.tickInterval = .milliseconds(100)
    let monitor = try! DriftMonitor(configuration)
    let bareN = (0..<10).map { bare.column("n\($0)") }
    let bareC = (0..<10).map { bare.column("c\($0)") }
    let monN = (0..<10).map { monitor.column("n\($0)") }
    let monC = (0..<10).map { monitor.column("c\($0)") }
    for round in 0..<3 {
        measureRows("profiler_log_row_1s_windows\(round == 2 ? "" : "_warmup")") { i in
            let numbers = numericRows[i]
            let strings = categoricalRows[i]
            bare.log { row in
                for k in 0..<10 { row.set(bareN[k], numbers[k]) }
                for k in 0..<10 { row.set(bareC[k], strings[k]) }
            }
        }
        measureRows("monitor_log_row_1s_windows_shipping\(round == 2 ? "" : "_warmup")") { i in
            let numbers = numericRows[i]
            let strings = categoricalRows[i]
            monitor.log { row in
                for k in 0..<10 { row.set(monN[k], numbers[k]) }
                for k in 0..<10 { row.set(monC[k], strings[k]) }
            }
        }
    }
    let report = await monitor.shutdown(deadline: .seconds(10))
    let stats = monitor.statistics
    print(
        #"{"name":"monitor_shipping_summary","shipped":\#(stats.shipped),"retried":\#(stats.retried),"left":\#(report.remaining)}"#
    )
    try? FileManager.default.removeItem(atPath: spool)
}

// Four threads, each logging all rows (fast path): aggregate rows/s.
for threads in [2, 4] {
    var best = Double.infinity
    for _ in 0..<repeats {
        let profiler = makeProfiler()
        let n = (0..<10).map { profiler.column("n\($0)") }
        let c = (0..<10).map { profiler.column("c\($0)") }
        let elapsed = clock.measure {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                for i in 0..<rowCount {
                    let numbers = numericRows[i]
                    let strings = categoricalRows[i]
                    profiler.log(at: time) { row in
                        for k in 0..<10 { row.set(n[k], numbers[k]) }
                        for k in 0..<10 { row.set(c[k], strings[k]) }
                    }
                }
            }
        }
        best = min(best, seconds(elapsed))
        blackHole(profiler.flush())
    }
    print(#"{"name":"profiler_log_row_\#(threads)threads","ops":\#(rowCount * threads),"seconds":\#(best)}"#)
}

// Serialized size per column at the default configuration (native format), after all rows:
// the encoded profile with one column minus the encoded profile with none.
do {
    let profiler = makeProfiler(shards: 1)
    let n = profiler.column("n0")
    let c = profiler.column("c9")
    for i in 0..<rowCount {
        profiler.log(at: time) { row in
            row.set(n, numericRows[i][0])
            row.set(c, categoricalRows[i][9])
        }
    }
    let profile = profiler.flush()[0]
    var empty = profile
    empty.columns = [:]
    let base = NativeCodec.encode(empty).count
    for (name, kind) in [("n0", "numeric"), ("c9", "categorical")] {
        var one = empty
        one.columns = [name: profile.columns[name]!]
        let bytes = NativeCodec.encode(one).count - base
        print(#"{"name":"column_bytes_\#(kind)","rows":\#(rowCount),"bytes":\#(bytes)}"#)
    }
}
