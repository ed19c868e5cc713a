// Load generator for `drift serve` (scripts/bench --suite server), with its anchor: a raw
// binary COPY of the same bytes into the same database.
//
//   IngestBench copy --count N --seed S --database-url URL [--batch 64]
//   IngestBench max  --count N --seed S --url URL --token T --concurrency C --seconds SECS
//   IngestBench rate --count N --seed S --url URL --token T --rate R --seconds SECS
//
// Each mode generates the same N profiles for the same seed (20 columns, 200 rows, 1-minute
// windows, distinct upload ids), so `copy` stores exactly the bytes `max` uploaded. Prints one
// JSON line per measurement.
import AsyncHTTPClient
import Foundation
import NIOCore
import Profiles
import Sketches
import Storage
import Synchronization

struct Arguments {
    var values: [String: String] = [:]
    let mode: String
    init() {
        let args = Array(CommandLine.arguments.dropFirst())
        mode = args.first ?? ""
        var i = 1
        while i + 1 < args.count {
            values[String(args[i].drop(while: { $0 == "-" }))] = args[i + 1]
            i += 2
        }
    }
    func string(_ name: String) -> String {
        guard let v = values[name] else { fatalError("missing --\(name)") }
        return v
    }
    func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap { Int($0) } ?? fallback }
}

func emit(_ fields: [(String, Any)]) {
    let body = fields.map { key, value -> String in
        switch value {
        case let s as String: return "\"\(key)\": \"\(s)\""
        case let d as Double: return "\"\(key)\": \(d.isFinite ? String(d) : "null")"
        default: return "\"\(key)\": \(value)"
        }
    }.joined(separator: ", ")
    print("{\(body)}")

}

/// 20-column profiles of one service: 14 numeric and 6 categorical features, 200 rows each,
/// one per minute (distinct upload ids: none is a duplicate).
func generate(count: Int, seed: UInt64) -> [[UInt8]] {
    var random = SplitMix64(seed: 20_261_125 &+ seed &* 0x1000_0000)
    // 2026-01-01T00:00:00Z, a year per seed so that seeds never share a window.
    let base: Int64 = 1_767_225_600_000 + Int64(seed) * 366 * 86_400_000
    let categories = (0..<40).map { "category-\($0)" }
    var images: [[UInt8]] = []
    for i in 0..<count {
        var profile = DatasetProfile(
            model: "bench", windowStart: base + Int64(i) * 60_000, windowLength: 60_000,
            uploadID: UploadID.random(using: &random))
        for c in 0..<20 {
            var column = ColumnProfile()
            for _ in 0..<200 {
                if c < 14 {
                    column.update(double: Double(random.next() % 1_000_000) / 997 + Double(c))
                } else {
                    column.update(string: categories[Int(random.next() % UInt64(8 + c))])
                }
            }
            profile.columns["f\(c)"] = column
        }
        images.append(NativeCodec.encode(profile))
    }
    return images
}

/// The anchor: the same bytes COPYed, in batches like the server's group commit, into a table
/// with the same columns, indexes and compression as raw_profiles (one month partition).
func copyAnchor(_ images: [[UInt8]], conninfo: String, batch: Int) throws -> Double {
    let connection = try PostgresConnection(conninfo)
    try connection.execute("DROP TABLE IF EXISTS bench_copy")
    try connection.execute(
        """
        CREATE TABLE bench_copy (LIKE raw_profiles INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES
                                 INCLUDING COMPRESSION)
        """)
    let profiles = try images.map { try NativeCodec.decode($0) }
    let clock = ContinuousClock()
    let elapsed = try clock.measure {
        var start = 0
        while start < images.count {
            let end = min(images.count, start + batch)
            let rows: [[PostgresValue]] = (start..<end).map { i in
                let p = profiles[i]
                return [
                    .int64(Int64(i + 1)), .text("bench"), .int64(1), .uuid(p.uploadID), .null,
                    .timestamp(milliseconds: p.windowStart), .int64(p.windowLength), .text("native"),
                    .int64(p.rowCount), .bytea(images[i]),
                ]
            }
            try connection.withTransaction { c in
                _ = try c.copyIn(
                    """
                    COPY bench_copy (id, project, stream_id, upload_id, idempotency_key, window_start,
                                     window_length_ms, format, row_count, bytes) FROM STDIN (FORMAT binary)
                    """, binaryRows: rows)
            }
            start = end
        }
    }
    try connection.execute("DROP TABLE bench_copy")
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

final class Cursor: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}

final class Latencies: Sendable {
    private let values = Mutex<[Double]>([])
    private let traced = Mutex<[(Double, Double)]>([])
    func trace(at offset: Double, _ ms: Double) { traced.withLock { $0.append((offset, ms)) } }
    var trace: [(Double, Double)] { traced.withLock { $0 } }
    private let failures = Atomic<Int>(0)
    func add(_ ms: Double) { values.withLock { $0.append(ms) } }
    func fail() { failures.add(1, ordering: .relaxed) }
    var all: [Double] { values.withLock { $0 } }
    var failed: Int { failures.load(ordering: .relaxed) }
}

func post(_ client: HTTPClient, url: String, token: String, body: [UInt8]) async -> Bool {
    var request = HTTPClientRequest(url: url + "/v1/profiles")
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Bearer \(token)")
    request.headers.add(name: "Content-Type", value: "application/octet-stream")
    request.body = .bytes(ByteBuffer(bytes: body))
    do {
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 16)
        return response.status.code == 202
    } catch {
        return false
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
}

let arguments = Arguments()
switch arguments.mode {
case "copy":
    let images = generate(count: arguments.int("count", 5000), seed: UInt64(arguments.int("seed", 1)))
    let seconds = try copyAnchor(images, conninfo: arguments.string("database-url"), batch: arguments.int("batch", 64))
    emit([
        ("name", "copy"), ("ops", images.count), ("seconds", seconds),
        ("bytes_each", images.map(\.count).reduce(0, +) / max(1, images.count)),
    ])
case "max", "rate":
    let images = generate(count: arguments.int("count", 5000), seed: UInt64(arguments.int("seed", 1)))
    let url = arguments.string("url")
    let token = arguments.string("token")
    let seconds = Double(arguments.int("seconds", 10))
    let offset = arguments.int("offset", 0)
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let cursor = Cursor()
    let latencies = Latencies()
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: .milliseconds(Int64(seconds * 1000)))
    if arguments.mode == "max" {
        let concurrency = arguments.int("concurrency", 32)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while clock.now < deadline {
                        let i = cursor.take()
                        guard offset + i < images.count else { return }
                        let sent = clock.now
                        if await post(client, url: url, token: token, body: images[offset + i]) {
                            latencies.add(
                                Double((clock.now - sent).components.attoseconds) / 1e15
                                    + Double((clock.now - sent).components.seconds) * 1000)
                        } else {
                            latencies.fail()
                        }
                    }
                }
            }
        }
    } else {
        // Open loop: request i is due at start + i/rate; latency counts from when it was due.
        let rate = Double(arguments.int("rate", 500))
        let total = min(images.count - offset, Int(rate * seconds))
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<total {
                let due = start.advanced(by: .nanoseconds(Int64(Double(i) / rate * 1e9)))
                if due > clock.now { try? await Task.sleep(until: due, clock: clock) }
                group.addTask {
                    if await post(client, url: url, token: token, body: images[offset + i]) {
                        let d = clock.now - due
                        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
                        latencies.add(ms)
                        latencies.trace(at: Double(i) / rate, ms)
                    } else {
                        latencies.fail()
                    }
                }
            }
        }
    }
    let elapsed = clock.now - start
    let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    try await client.shutdown().get()
    if let path = arguments.values["trace"] {
        let lines = latencies.trace.sorted { $0.0 < $1.0 }.map { "\($0.0) \($0.1)" }.joined(separator: "\n")
        try Data(lines.utf8).write(to: URL(fileURLWithPath: path))
    }
    let sorted = latencies.all.sorted()
    emit([
        ("name", arguments.mode), ("ops", sorted.count), ("seconds", wall), ("failed", latencies.failed),
        ("p50_ms", percentile(sorted, 0.5)), ("p90_ms", percentile(sorted, 0.9)), ("p99_ms", percentile(sorted, 0.99)),
        ("max_ms", sorted.last ?? .nan),
    ])
default:
    FileHandle.standardError.write(Data("usage: IngestBench copy|max|rate ...\n".utf8))
    exit(2)
}
