public import Sketches

/// Model-performance data of a profile: either classification or regression.
public enum PerformanceProfile: Sendable {
    case classification(ClassificationProfile)
    case regression(RegressionProfile)

    public var task: String {
        switch self {
        case .classification: return "classification"
        case .regression: return "regression"
        }
    }

    mutating func merge(_ other: PerformanceProfile) throws(ProfileError) {
        switch (self, other) {
        case (.classification(var mine), .classification(let theirs)):
            mine.merge(theirs)
            self = .classification(mine)
        case (.regression(var mine), .regression(let theirs)):
            mine.merge(theirs)
            self = .regression(mine)
        default:
            throw .incompatible("a \(task) performance block cannot merge with a \(other.task) one")
        }
    }
}

/// Classification outcomes: a confusion matrix over a bounded label set, per-true-class score
/// sketches (for ROC AUC), and the log-loss sum.
///
/// Labels are added in order of first appearance up to `maxLabels`; a pair whose predicted or
/// true label does not fit is counted in ``overflowCount`` (and in ``count``) but not in the
/// matrix.
public struct ClassificationProfile: Sendable {
    public let maxLabels: Int
    public let kllK: Int
    public private(set) var labels: [String] = []
    /// `matrix[predicted][actual]`, indices into ``labels``.
    public private(set) var matrix: [[Int64]] = []
    /// Per true class: the sketch of the scores (the model's probability for the positive /
    /// predicted class, as logged) of rows whose true label is that class.
    public private(set) var scoresByTrueClass: [KLLSketch<Double>?] = []
    public private(set) var count: Int64 = 0
    public private(set) var overflowCount: Int64 = 0
    /// Σ −ln p(true class) over the rows that logged a probability, and how many did.
    public private(set) var logLossSum: Double = 0
    public private(set) var logLossCount: Int64 = 0
    private var index: [String: Int] = [:]

    public init(maxLabels: Int = ProfileConfig.defaultMaxLabels, kllK: Int = ProfileConfig.defaultKLLK) {
        self.maxLabels = maxLabels
        self.kllK = kllK
    }

    /// Rebuilds a decoded block; `matrix` must be labels.count × labels.count.
    public init(
        maxLabels: Int, kllK: Int, labels: [String], matrix: [[Int64]], scoresByTrueClass: [KLLSketch<Double>?],
        count: Int64, overflowCount: Int64, logLossSum: Double, logLossCount: Int64
    ) throws(ProfileError) {
        guard labels.count <= maxLabels, Set(labels).count == labels.count else {
            throw .invalidConfiguration(
                "classification labels: \(labels.count) labels (maximum \(maxLabels)), duplicates not allowed")
        }
        guard matrix.count == labels.count, matrix.allSatisfy({ $0.count == labels.count }),
            scoresByTrueClass.count == labels.count
        else {
            throw .invalidConfiguration("classification matrix is not \(labels.count)×\(labels.count)")
        }
        self.maxLabels = maxLabels
        self.kllK = kllK
        self.labels = labels
        self.matrix = matrix
        self.scoresByTrueClass = scoresByTrueClass
        self.count = count
        self.overflowCount = overflowCount
        self.logLossSum = logLossSum
        self.logLossCount = logLossCount
        for (i, label) in labels.enumerated() { index[label] = i }
    }

    private mutating func slot(_ label: String) -> Int? {
        if let i = index[label] { return i }
        guard labels.count < maxLabels else { return nil }
        let i = labels.count
        index[label] = i
        labels.append(label)
        for row in matrix.indices { matrix[row].append(0) }
        matrix.append([Int64](repeating: 0, count: labels.count))
        scoresByTrueClass.append(nil)
        return i
    }

    /// Counts one prediction/outcome pair.
    /// - Parameters:
    ///   - score: the model's score for the row (e.g. the positive-class probability); goes
    ///     into the true class's score sketch.
    ///   - probabilityOfActual: the probability the model gave the true class, for log loss;
    ///     clipped to [1e-15, 1] as scikit-learn does.
    public mutating func update(
        predicted: String, actual: String, score: Double? = nil, probabilityOfActual: Double? = nil
    ) {
        count += 1
        if let p = probabilityOfActual, p.isFinite || p == .infinity {
            logLossSum -= Self.naturalLog(Swift.min(Swift.max(p, 1e-15), 1))
            logLossCount += 1
        }
        guard let predictedIndex = slot(predicted), let actualIndex = slot(actual) else {
            overflowCount += 1
            return
        }
        matrix[predictedIndex][actualIndex] += 1
        if let score, score.isFinite {
            if scoresByTrueClass[actualIndex] == nil {
                scoresByTrueClass[actualIndex] = try! KLLSketch<Double>(k: kllK)
            }
            scoresByTrueClass[actualIndex]!.update(score)
        }
    }

    /// Rows counted in the matrix.
    public var matrixTotal: Int64 { matrix.reduce(0) { $0 + $1.reduce(0, +) } }

    mutating func merge(_ other: ClassificationProfile) {
        count += other.count
        overflowCount += other.overflowCount
        logLossSum += other.logLossSum
        logLossCount += other.logLossCount
        var remap = [Int?](repeating: nil, count: other.labels.count)
        for (i, label) in other.labels.enumerated() { remap[i] = slot(label) }
        for p in other.labels.indices {
            for a in other.labels.indices where other.matrix[p][a] > 0 {
                if let mp = remap[p], let ma = remap[a] {
                    matrix[mp][ma] += other.matrix[p][a]
                } else {
                    overflowCount += other.matrix[p][a]
                }
            }
        }
        for a in other.labels.indices {
            guard let theirs = other.scoresByTrueClass[a], let ma = remap[a] else { continue }
            if scoresByTrueClass[ma] == nil {
                scoresByTrueClass[ma] = theirs
            } else {
                scoresByTrueClass[ma]!.merge(theirs)
            }
        }
    }

    /// ln(x) for x in [1e-15, 1] without libm: x = m·2^e with m in [1, 2), ln x = e·ln 2 +
    /// 2·atanh((m−1)/(m+1)) by its series (|t| ≤ 1/3, converges to full precision in < 30 terms).
    static func naturalLog(_ x: Double) -> Double {
        let e = Double(x.exponent)
        let m = x.significand
        let t = (m - 1) / (m + 1)
        let t2 = t * t
        var term = t
        var sum = 0.0
        var k = 1.0
        while true {
            let next = sum + term / k
            if next == sum { break }
            sum = next
            term *= t2
            k += 2
        }
        return e * 0.693_147_180_559_945_3 + 2 * sum
    }
}

/// Regression outcomes: sums of the error e = prediction − target, a sketch of the residuals,
/// and the moments of the target and the prediction.
public struct RegressionProfile: Sendable {
    public var count: Int64 = 0
    public var sumError: Double = 0
    public var sumAbsoluteError: Double = 0
    public var sumSquaredError: Double = 0
    public var residuals: KLLSketch<Double>
    public var target = Moments()
    public var prediction = Moments()

    public init(kllK: Int = ProfileConfig.defaultKLLK) {
        residuals = try! KLLSketch<Double>(k: kllK)
    }

    public init(
        count: Int64, sumError: Double, sumAbsoluteError: Double, sumSquaredError: Double,
        residuals: KLLSketch<Double>, target: Moments, prediction: Moments
    ) {
        self.count = count
        self.sumError = sumError
        self.sumAbsoluteError = sumAbsoluteError
        self.sumSquaredError = sumSquaredError
        self.residuals = residuals
        self.target = target
        self.prediction = prediction
    }

    /// Counts one pair; pairs with a non-finite value are ignored (returns false).
    @discardableResult
    public mutating func update(predicted: Double, actual: Double) -> Bool {
        guard predicted.isFinite, actual.isFinite else { return false }
        let error = predicted - actual
        count += 1
        sumError += error
        sumAbsoluteError += error.magnitude
        sumSquaredError += error * error
        residuals.update(error)
        target.update(actual)
        prediction.update(predicted)
        return true
    }

    mutating func merge(_ other: RegressionProfile) {
        count += other.count
        sumError += other.sumError
        sumAbsoluteError += other.sumAbsoluteError
        sumSquaredError += other.sumSquaredError
        residuals.merge(other.residuals)
        target.merge(other.target)
        prediction.merge(other.prediction)
    }
}

/// Request latency: a sketch of latencies in milliseconds, the request count and how many
/// requests failed.
public struct LatencyProfile: Sendable {
    public var milliseconds: KLLSketch<Double>
    public var requestCount: Int64 = 0
    public var errorCount: Int64 = 0

    public init(kllK: Int = ProfileConfig.defaultKLLK) {
        milliseconds = try! KLLSketch<Double>(k: kllK)
    }

    public init(milliseconds: KLLSketch<Double>, requestCount: Int64, errorCount: Int64) {
        self.milliseconds = milliseconds
        self.requestCount = requestCount
        self.errorCount = errorCount
    }

    /// Counts one request; a non-finite or negative latency counts the request but not its time.
    public mutating func update(milliseconds value: Double, failed: Bool = false) {
        requestCount += 1
        if failed { errorCount += 1 }
        if value.isFinite && value >= 0 { milliseconds.update(value) }
    }

    mutating func merge(_ other: LatencyProfile) {
        requestCount += other.requestCount
        errorCount += other.errorCount
        milliseconds.merge(other.milliseconds)
    }
}
