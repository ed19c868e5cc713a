public import Profiles
import Sketches

/// Precision, recall and F1 of one class.
public struct ClassMetrics: Sendable, Hashable {
    public var label: String
    /// tp / (tp + fp): of the rows predicted as this class, the share that are; 0 when the
    /// class was never predicted (scikit-learn's `zero_division=0`). Likewise below.
    public var precision: Double
    /// tp / (tp + fn).
    public var recall: Double
    /// 2tp / (2tp + fp + fn), the harmonic mean of precision and recall.
    public var f1: Double
    /// Rows whose true label is this class.
    public var support: Int64
}

/// Classification metrics of one profile, from its confusion matrix and score sketches, with
/// scikit-learn's definitions (`accuracy_score`, `precision_recall_fscore_support` with
/// `average=None/"macro"/"weighted"`, `roc_auc_score`, `log_loss`).
///
/// The classes are the labels that occur in the matrix as a prediction or a truth (the label
/// set scikit-learn infers from `y_true ∪ y_pred`). Pairs that overflowed the profile's label
/// bound are not in the matrix and are left out of every metric except log loss.
public struct ClassificationMetrics: Sendable, Hashable {
    /// Rows in the confusion matrix.
    public var count: Int64
    /// Rows outside the matrix (label bound exceeded).
    public var overflowCount: Int64
    /// Σ diagonal / count; nil when the matrix is empty.
    public var accuracy: Double?
    /// Per class, in the profile's label order.
    public var classes: [ClassMetrics]
    /// Unweighted means over the classes.
    public var macroPrecision: Double?
    public var macroRecall: Double?
    public var macroF1: Double?
    /// Means weighted by support.
    public var weightedPrecision: Double?
    public var weightedRecall: Double?
    public var weightedF1: Double?
    /// Binary ROC AUC from the score sketches (see ``rocAUC(positive:negative:)``); nil unless
    /// there are exactly two classes and both have scores.
    public var rocAUC: MetricValue?
    /// The class the scores are for in ``rocAUC``.
    public var positiveLabel: String?
    /// Mean of −ln p(true class) over the rows that logged a probability.
    public var logLoss: Double?

    /// - Parameter positiveLabel: the class whose probability the scores are, for ROC AUC; nil
    ///   (or a label not among the classes) takes the larger label in string order, as
    ///   scikit-learn's `pos_label` defaults to the larger class.
    public init(_ profile: ClassificationProfile, positiveLabel: String? = nil) {
        let labels = profile.labels
        let matrix = profile.matrix
        let size = labels.count
        var predicted = [Int64](repeating: 0, count: size)
        var actual = [Int64](repeating: 0, count: size)
        var diagonal: Int64 = 0
        for p in 0..<size {
            for a in 0..<size {
                predicted[p] += matrix[p][a]
                actual[a] += matrix[p][a]
            }
            diagonal += matrix[p][p]
        }
        let total = actual.reduce(0, +)
        count = total
        overflowCount = profile.overflowCount
        accuracy = total > 0 ? Double(diagonal) / Double(total) : nil
        var classes: [ClassMetrics] = []
        var active: [Int] = []
        for c in 0..<size where predicted[c] + actual[c] > 0 {
            let tp = Double(matrix[c][c])
            let fp = Double(predicted[c]) - tp
            let fn = Double(actual[c]) - tp
            classes.append(
                ClassMetrics(
                    label: labels[c], precision: predicted[c] > 0 ? tp / Double(predicted[c]) : 0,
                    recall: actual[c] > 0 ? tp / Double(actual[c]) : 0,
                    f1: 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0, support: actual[c]))
            active.append(c)
        }
        self.classes = classes
        if !classes.isEmpty {
            let k = Double(classes.count)
            macroPrecision = classes.reduce(0) { $0 + $1.precision } / k
            macroRecall = classes.reduce(0) { $0 + $1.recall } / k
            macroF1 = classes.reduce(0) { $0 + $1.f1 } / k
            if total > 0 {
                let weight = Double(total)
                weightedPrecision = classes.reduce(0) { $0 + $1.precision * Double($1.support) } / weight
                weightedRecall = classes.reduce(0) { $0 + $1.recall * Double($1.support) } / weight
                weightedF1 = classes.reduce(0) { $0 + $1.f1 * Double($1.support) } / weight
            }
        }
        logLoss = profile.logLossCount > 0 ? profile.logLossSum / Double(profile.logLossCount) : nil
        if active.count == 2 {
            let (first, second) = (active[0], active[1])
            let positive: Int
            if let positiveLabel, labels[first] == positiveLabel {
                positive = first
            } else if let positiveLabel, labels[second] == positiveLabel {
                positive = second
            } else {
                positive = labels[first] > labels[second] ? first : second
            }
            let negative = positive == first ? second : first
            if let positiveScores = profile.scoresByTrueClass[positive], !positiveScores.isEmpty,
                let negativeScores = profile.scoresByTrueClass[negative], !negativeScores.isEmpty
            {
                self.positiveLabel = labels[positive]
                rocAUC = Self.rocAUC(
                    positive: SketchDistribution(positiveScores), negative: SketchDistribution(negativeScores))
            }
        }
    }

    /// ROC AUC = P(S₊ > S₋) + ½ P(S₊ = S₋) for a score S₊ of a random positive row and S₋ of a
    /// random negative one (the Mann–Whitney form of the area, which `roc_auc_score` equals,
    /// ties counted half), computed exactly on the two sketches' distributions by one merged
    /// pass over their sorted views.
    ///
    /// bound: the two rank errors added — AUC = E₋[1 − F₊(S₋) + ½ΔF₊(S₋)], and changing F₊ by ε₊
    /// everywhere moves it by at most ε₊; integrating a [0, 1]-valued monotone function against
    /// a CDF that is off by ε₋ moves it by at most ε₋.
    public static func rocAUC(positive: SketchDistribution, negative: SketchDistribution) -> MetricValue {
        precondition(!positive.isEmpty && !negative.isEmpty, "ROC AUC needs scores of both classes")
        let positiveTotal = Double(positive.count)
        var sum = 0.0
        var i = 0
        var j = 0
        let negativeItems = negative.items
        let positiveItems = positive.items
        var previousNegativeWeight: UInt64 = 0
        while j < negativeItems.count {
            let x = negativeItems[j]
            while j < negativeItems.count && negativeItems[j] == x { j += 1 }
            let negativeWeight = Double(negative.cumulativeWeights[j - 1] - previousNegativeWeight)
            previousNegativeWeight = negative.cumulativeWeights[j - 1]
            while i < positiveItems.count && positiveItems[i] < x { i += 1 }
            let below = i > 0 ? positive.cumulativeWeights[i - 1] : 0
            var k = i
            while k < positiveItems.count && positiveItems[k] == x { k += 1 }
            let atOrBelow = k > 0 ? positive.cumulativeWeights[k - 1] : 0
            let greater = positiveTotal - Double(atOrBelow)
            let equal = Double(atOrBelow - below)
            sum += negativeWeight * (greater + equal / 2)
        }
        let auc = sum / (positiveTotal * Double(negative.count))
        return MetricValue(value: auc, bound: Swift.min(1, positive.rankError + negative.rankError))
    }

    /// The metrics by the names the comparison reports, in a fixed order.
    public var namedValues: [(String, Double?)] {
        [
            ("accuracy", accuracy), ("precision_macro", macroPrecision), ("recall_macro", macroRecall),
            ("f1_macro", macroF1), ("precision_weighted", weightedPrecision), ("recall_weighted", weightedRecall),
            ("f1_weighted", weightedF1), ("roc_auc", rocAUC?.value), ("log_loss", logLoss),
        ]
    }
}

/// Regression metrics of one profile, from its error sums and target moments (scikit-learn's
/// `mean_absolute_error`, `root_mean_squared_error`, `r2_score`; bias is the mean of
/// prediction − target).
public struct RegressionMetrics: Sendable, Hashable {
    public var count: Int64
    public var meanAbsoluteError: Double?
    public var rootMeanSquaredError: Double?
    /// Mean error, prediction − target: positive when the model over-predicts.
    public var bias: Double?
    /// 1 − SSE/SST with SST = Σ (y − ȳ)² from the target's moments; for a constant target
    /// 1 when every prediction is exact and 0 otherwise (scikit-learn's `force_finite`).
    public var r2: Double?

    public init(_ profile: RegressionProfile) {
        count = profile.count
        guard profile.count > 0 else { return }
        let n = Double(profile.count)
        meanAbsoluteError = profile.sumAbsoluteError / n
        rootMeanSquaredError = (profile.sumSquaredError / n).squareRoot()
        bias = profile.sumError / n
        if profile.target.count == profile.count {
            let total = profile.target.m2
            r2 = total > 0 ? 1 - profile.sumSquaredError / total : (profile.sumSquaredError == 0 ? 1 : 0)
        }
    }

    public var namedValues: [(String, Double?)] {
        [("mae", meanAbsoluteError), ("rmse", rootMeanSquaredError), ("bias", bias), ("r2", r2)]
    }
}

/// One metric in both profiles and its change (target − reference).
public struct MetricChange: Sendable, Hashable {
    public var name: String
    public var reference: Double?
    public var target: Double?

    public init(name: String, reference: Double?, target: Double?) {
        self.name = name
        self.reference = reference
        self.target = target
    }

    /// target − reference, when both are known.
    public var change: Double? {
        guard let reference, let target else { return nil }
        return target - reference
    }
}

/// Model performance in both profiles.
public struct PerformanceComparison: Sendable, Hashable {
    /// `classification` or `regression`.
    public var task: String
    public var referenceClassification: ClassificationMetrics?
    public var targetClassification: ClassificationMetrics?
    public var referenceRegression: RegressionMetrics?
    public var targetRegression: RegressionMetrics?
    /// Every metric with its values and change, in a fixed order.
    public var changes: [MetricChange]
    /// Set when the two profiles' tasks differ (the comparison then has no changes).
    public var note: String?

    /// nil when neither profile has a performance block.
    public init?(reference: PerformanceProfile?, target: PerformanceProfile?, positiveLabel: String?) {
        switch (reference, target) {
        case (nil, nil):
            return nil
        case (.classification(let r)?, .classification(let t)?):
            task = "classification"
            referenceClassification = ClassificationMetrics(r, positiveLabel: positiveLabel)
            targetClassification = ClassificationMetrics(t, positiveLabel: positiveLabel)
        case (.regression(let r)?, .regression(let t)?):
            task = "regression"
            referenceRegression = RegressionMetrics(r)
            targetRegression = RegressionMetrics(t)
        case (.classification(let r)?, nil):
            task = "classification"
            referenceClassification = ClassificationMetrics(r, positiveLabel: positiveLabel)
        case (nil, .classification(let t)?):
            task = "classification"
            targetClassification = ClassificationMetrics(t, positiveLabel: positiveLabel)
        case (.regression(let r)?, nil):
            task = "regression"
            referenceRegression = RegressionMetrics(r)
        case (nil, .regression(let t)?):
            task = "regression"
            targetRegression = RegressionMetrics(t)
        case (let r?, let t?):
            task = t.task
            note = "reference is \(r.task), target is \(t.task): not compared"
            changes = []
            return
        }
        let referenceValues = referenceClassification?.namedValues ?? referenceRegression?.namedValues
        let targetValues = targetClassification?.namedValues ?? targetRegression?.namedValues
        let names = (referenceValues ?? targetValues ?? []).map(\.0)
        changes = names.enumerated().map { index, name in
            MetricChange(name: name, reference: referenceValues?[index].1, target: targetValues?[index].1)
        }
    }
}
