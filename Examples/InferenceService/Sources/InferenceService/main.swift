import Foundation
import Hummingbird
import Logging
import Profiles
import Shipping

/// A toy fraud model behind `POST /predict`, monitored by Driftwatch: every request's features,
/// score and latency go to the monitor, ground truth comes later through `POST /feedback`.
///
/// Environment: `DRIFT_SERVER` (default http://127.0.0.1:8080), `DRIFT_TOKEN`, `DRIFT_SPOOL`
/// (default ./drift-spool), `PORT` (default 8081).

struct PredictRequest: Decodable {
    var amount: Double
    var country: String
    var newUser: Bool
}

struct PredictResponse: ResponseCodable {
    var label: String
    var score: Double
    /// Send this back with the ground truth so that it lands in the prediction's window.
    var predictionTimeMs: Int64
}

struct Feedback: Decodable {
    var predicted: String
    var actual: String
    var score: Double?
    var predictionTimeMs: Int64
    var country: String
}

/// The "model": a logistic score of the amount, higher for new users.
func score(_ input: PredictRequest) -> Double {
    let z = (input.amount - 200) / 80 + (input.newUser ? 1.0 : 0.0)
    return 1 / (1 + exp(-z))
}

let environment = ProcessInfo.processInfo.environment
let logger = Logger(label: "inference-service")

// Five lines of setup: what is monitored, where profiles go, where they wait meanwhile.
let monitor = try DriftMonitor(
    DriftMonitorConfiguration(
        model: "fraud", modelVersion: "1", segmentKeys: ["country"], windowLength: .seconds(60),
        serverURL: environment["DRIFT_SERVER"] ?? "http://127.0.0.1:8080", token: environment["DRIFT_TOKEN"],
        spoolDirectory: environment["DRIFT_SPOOL"] ?? "./drift-spool"))

let decoder = JSONDecoder()
decoder.keyDecodingStrategy = .convertFromSnakeCase

let router = Router()
router.get("healthz") { _, _ in HTTPResponse.Status.ok }

router.post("predict") { request, context -> PredictResponse in
    let started = ContinuousClock.now
    let body = try await request.body.collect(upTo: 64 << 10)
    let input = try decoder.decode(PredictRequest.self, from: Data(buffer: body))
    let p = score(input)
    let label = p >= 0.5 ? "fraud" : "ok"
    let now = Clock.nowMilliseconds()
    // Monitoring: never blocks on the network; about a microsecond.
    monitor.log(
        [
            "amount": .double(input.amount), "country": .string(input.country), "new_user": .bool(input.newUser),
            "score": .double(p),
        ], at: now)
    let elapsed = ContinuousClock.now - started
    monitor.logLatency(
        milliseconds: Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000,
        segment: Segment(["country": input.country]))
    return PredictResponse(label: label, score: p, predictionTimeMs: now)
}

router.post("feedback") { request, context -> HTTPResponse.Status in
    let body = try await request.body.collect(upTo: 64 << 10)
    let feedback = try decoder.decode(Feedback.self, from: Data(buffer: body))
    monitor.logOutcome(
        predicted: feedback.predicted, actual: feedback.actual, score: feedback.score, at: feedback.predictionTimeMs,
        segment: Segment(["country": feedback.country]))
    return .accepted
}

let port = environment["PORT"].flatMap { Int($0) } ?? 8081
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
// Runs until SIGINT/SIGTERM, then returns after a graceful shutdown of the HTTP server.
try await app.runService()
// Close the open windows, spool them, and give the upload 5 seconds; the rest waits in the spool.
let report = await monitor.shutdown(deadline: .seconds(5))
logger.info("drift monitor: shipped \(report.shipped) at shutdown, \(report.remaining) left in the spool")
