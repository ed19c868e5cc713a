import Profiles
import Testing

@testable import Drift

@Suite("Performance and latency metrics")
struct PerformanceTests {
    /// y_true = a a a b b c, y_pred = a a b b c c. By hand (scikit-learn's definitions):
    /// precision a 2/2, b 1/2, c 1/2; recall a 2/3, b 1/2, c 1/1; F1 a 0.8, b 0.5, c 2/3;
    /// accuracy 4/6; supports 3, 2, 1.
    @Test func confusionMatrixMetricsByHand() {
        var profile = ClassificationProfile()
        for (actual, predicted) in zip(["a", "a", "a", "b", "b", "c"], ["a", "a", "b", "b", "c", "c"]) {
            profile.update(predicted: predicted, actual: actual)
        }
        let m = ClassificationMetrics(profile)
        #expect(m.count == 6)
        #expect(close(m.accuracy!, 4.0 / 6))
        let byLabel = Dictionary(uniqueKeysWithValues: m.classes.map { ($0.label, $0) })
        #expect(
            close(byLabel["a"]!.precision, 1) && close(byLabel["a"]!.recall, 2.0 / 3) && close(byLabel["a"]!.f1, 0.8))
        #expect(close(byLabel["b"]!.precision, 0.5) && close(byLabel["b"]!.recall, 0.5) && close(byLabel["b"]!.f1, 0.5))
        #expect(
            close(byLabel["c"]!.precision, 0.5) && close(byLabel["c"]!.recall, 1) && close(byLabel["c"]!.f1, 2.0 / 3))
        #expect(byLabel["a"]!.support == 3 && byLabel["b"]!.support == 2 && byLabel["c"]!.support == 1)
        #expect(close(m.macroPrecision!, 2.0 / 3))
        #expect(close(m.macroRecall!, (2.0 / 3 + 0.5 + 1) / 3))
        #expect(close(m.macroF1!, (0.8 + 0.5 + 2.0 / 3) / 3))
        #expect(close(m.weightedPrecision!, 4.5 / 6))  // (3·1 + 2·½ + 1·½) / 6
        #expect(close(m.weightedRecall!, 4.0 / 6))
        let weightedF1: Double = (2.4 + 1 + 2.0 / 3) / 6  // (3·0.8 + 2·0.5 + 1·⅔) / 6
        #expect(close(m.weightedF1!, weightedF1))
        // three classes: no binary AUC
        #expect(m.rocAUC == nil)
    }

    @Test func classNeverPredictedHasZeroPrecision() {
        var profile = ClassificationProfile()
        profile.update(predicted: "x", actual: "x")
        profile.update(predicted: "x", actual: "y")
        let m = ClassificationMetrics(profile)
        let y = m.classes.first { $0.label == "y" }!
        #expect(y.precision == 0 && y.recall == 0 && y.f1 == 0)
    }

    /// Positives score 0.9, 0.8, 0.4; negatives 0.5, 0.3, 0.4: of the 9 pairs the positive wins
    /// 7 and ties 1 → AUC = 7.5 / 9.
    @Test func rocAUCCountsTiesHalf() {
        var profile = ClassificationProfile()
        for (label, score) in [("1", 0.9), ("1", 0.8), ("1", 0.4), ("0", 0.5), ("0", 0.3), ("0", 0.4)] {
            profile.update(predicted: score >= 0.5 ? "1" : "0", actual: label, score: score)
        }
        let m = ClassificationMetrics(profile)
        #expect(m.positiveLabel == "1")
        #expect(close(m.rocAUC!.value, 7.5 / 9))
        #expect(m.rocAUC!.bound == 0)
        // scores are P("1"); naming "0" positive flips the area
        let flipped = ClassificationMetrics(profile, positiveLabel: "0")
        #expect(close(flipped.rocAUC!.value, 1.5 / 9))
    }

    /// A large sample: the sketch AUC is within its bound of the exact pairwise one.
    @Test func rocAUCFromCompactedSketchesWithinBound() {
        let seed: UInt64 = 31
        var rng = TestRandom(seed: seed)
        var profile = ClassificationProfile()
        var positives: [Double] = []
        var negatives: [Double] = []
        for _ in 0..<20_000 {
            let positive = rng.next() % 3 == 0
            let score = ((positive ? 0.6 : 0.0) + rng.normal() * 0.5 * 100).rounded() / 100
            if positive { positives.append(score) } else { negatives.append(score) }
            profile.update(predicted: score > 0.3 ? "1" : "0", actual: positive ? "1" : "0", score: score)
        }
        let auc = ClassificationMetrics(profile).rocAUC!
        // exact: Mann–Whitney over sorted positives
        let sorted = positives.sorted()
        var wins = 0.0
        for x in negatives {
            var low = 0
            var high = sorted.count
            while low < high {
                let mid = (low + high) / 2
                if sorted[mid] <= x { low = mid + 1 } else { high = mid }
            }
            var below = low
            while below > 0 && sorted[below - 1] == x { below -= 1 }
            wins += Double(sorted.count - low) + Double(low - below) / 2
        }
        let exact = wins / Double(sorted.count * negatives.count)
        #expect(auc.bound! > 0)
        #expect(abs(auc.value - exact) <= auc.bound!, "seed \(seed): \(auc.value) vs \(exact)")
        #expect(abs(auc.value - exact) <= 0.01, "seed \(seed)")
    }

    @Test func logLossIsTheMeanNegativeLogProbability() {
        var profile = ClassificationProfile()
        profile.update(predicted: "1", actual: "1", probabilityOfActual: 0.8)
        profile.update(predicted: "1", actual: "0", probabilityOfActual: 0.6)
        profile.update(predicted: "1", actual: "1", probabilityOfActual: 0.9)
        let expected = -(Elementary.naturalLog(0.8) + Elementary.naturalLog(0.6) + Elementary.naturalLog(0.9)) / 3
        #expect(close(ClassificationMetrics(profile).logLoss!, expected, 1e-15))
    }

    /// y = 1, 2, 3, 4 and ŷ = 1.5, 2, 2.5, 5: errors 0.5, 0, −0.5, 1; MAE 0.5; RMSE √0.375;
    /// bias 0.25; SST 5, SSE 1.5 → R² 0.7.
    @Test func regressionMetricsByHand() {
        var profile = RegressionProfile()
        for (y, yHat) in zip([1.0, 2, 3, 4], [1.5, 2, 2.5, 5]) { profile.update(predicted: yHat, actual: y) }
        let m = RegressionMetrics(profile)
        #expect(close(m.meanAbsoluteError!, 0.5))
        #expect(close(m.rootMeanSquaredError!, 0.375.squareRoot()))
        #expect(close(m.bias!, 0.25))
        #expect(close(m.r2!, 0.7))
    }

    @Test func constantTargetRSquaredFollowsScikitLearn() {
        var exact = RegressionProfile()
        var wrong = RegressionProfile()
        for _ in 0..<3 {
            exact.update(predicted: 2, actual: 2)
            wrong.update(predicted: 3, actual: 2)
        }
        #expect(RegressionMetrics(exact).r2 == 1)
        #expect(RegressionMetrics(wrong).r2 == 0)
        #expect(RegressionMetrics(RegressionProfile()).r2 == nil)
    }

    @Test func performanceComparisonReportsChanges() {
        var before = ClassificationProfile()
        var after = ClassificationProfile()
        for i in 0..<10 {
            before.update(predicted: i < 9 ? "1" : "0", actual: "1")
            after.update(predicted: i < 6 ? "1" : "0", actual: "1")
        }
        let comparison = PerformanceComparison(
            reference: .classification(before), target: .classification(after), positiveLabel: nil)!
        let accuracy = comparison.changes.first { $0.name == "accuracy" }!
        #expect(close(accuracy.reference!, 0.9) && close(accuracy.target!, 0.6) && close(accuracy.change!, -0.3))
        #expect(PerformanceComparison(reference: nil, target: nil, positiveLabel: nil) == nil)
        let mismatched = PerformanceComparison(
            reference: .classification(before), target: .regression(RegressionProfile()), positiveLabel: nil)!
        #expect(mismatched.note != nil && mismatched.changes.isEmpty)
    }

    /// Latencies 1…100 ms, every 20th failed: percentiles are the values themselves.
    @Test func latencyPercentilesAndErrorRate() {
        var profile = LatencyProfile()
        for i in 1...100 { profile.update(milliseconds: Double(i), failed: i % 20 == 0) }
        let m = LatencyMetrics(profile)
        #expect(m.p50 == 50 && m.p90 == 90 && m.p95 == 95 && m.p99 == 99 && m.max == 100)
        #expect(m.requestCount == 100 && close(m.errorRate!, 0.05) && m.rankError == 0)
        var slower = LatencyProfile()
        for i in 1...100 { slower.update(milliseconds: Double(2 * i)) }
        let comparison = LatencyComparison(reference: profile, target: slower)!
        let p99 = comparison.changes.first { $0.name == "p99" }!
        #expect(p99.reference == 99 && p99.target == 198 && p99.change == 99)
        #expect(LatencyComparison(reference: nil, target: nil) == nil)
    }
}
