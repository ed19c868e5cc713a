import DriftTestSupport
import Foundation
import Testing

/// `drift diff` on data files and profiles, run as the real binary.
@Suite struct DiffCLITests {
    static func write(_ rows: [(Double, String, Int, Int)], to url: URL) throws {
        var text = "x,c,label,pred\n"
        for (x, c, label, pred) in rows { text += "\(x),\(c),\(label),\(pred)\n" }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    @Test func reportsDriftQualityAndPerformance() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = dir.appendingPathComponent("ref.csv")
        let same = dir.appendingPathComponent("same.csv")
        let shifted = dir.appendingPathComponent("shifted.csv")
        var base: [(Double, String, Int, Int)] = []
        var moved: [(Double, String, Int, Int)] = []
        for i in 0..<400 {
            let x = Double(i % 50)
            base.append((x, i % 3 == 0 ? "a" : "b", i % 2, i % 2))
            moved.append((x + 40, i % 3 == 0 ? "c" : "b", i % 2, (i / 2) % 2))
        }
        try Self.write(base, to: reference)
        try Self.write(base, to: same)
        try Self.write(moved, to: shifted)
        let args = ["--prediction-column", "pred", "--target-column", "label"]

        let identical = try DriftProcess.json(["diff", reference.path, same.path, "--json"] + args)
        let drift = try #require(identical["dataset_drift"] as? [String: Any])
        #expect(drift["drift"] as? Bool == false && drift["drifted_columns"] as? Int == 0)
        let columns = try #require(identical["columns"] as? [String: [String: Any]])
        for (name, column) in columns {
            let metrics = try #require(column["metrics"] as? [String: [String: Any]])
            for (metric, value) in metrics where metric != "ks" && metric != "chi2" {
                #expect(value["value"] as? Double == 0, "\(name) \(metric) on identical data")
            }
        }

        let changed = try DriftProcess.json(["diff", reference.path, shifted.path, "--json"] + args)
        let changedColumns = try #require(changed["columns"] as? [String: [String: Any]])
        #expect(changedColumns["x"]?["drift"] as? Bool == true)
        #expect(changedColumns["x"]?["type"] as? String == "numeric")
        // the bins with each side's masses and errors: x is 0…49 eight times, deciles 4, 9, …, 44
        // (10 bins); every shifted value is above 39. 400 rows > k = 200: the sketches compacted,
        // so both sides carry a mass error (the PMF error at k = 200, 1.65%) and a rank error
        let bins = try #require(changedColumns["x"]?["bins"] as? [String: Any])
        #expect(bins["cuts"] as? [Double] == [4, 9, 14, 19, 24, 29, 34, 39, 44])
        for side in ["reference", "target"] {
            let masses = try #require(bins[side] as? [Double])
            let errors = try #require(bins["\(side)_error"] as? [Double])
            #expect(masses.count == 10 && abs(masses.reduce(0, +) - 1) < 1e-12, "\(side) \(masses)")
            #expect(errors.count == 10 && errors.allSatisfy { abs($0 - 0.0165) < 0.0001 }, "\(side) \(errors)")
        }
        #expect((bins["target"] as? [Double])?.prefix(8).allSatisfy { $0 == 0 } == true)
        let rankErrors = try #require(bins["rank_error"] as? [String: Double])
        #expect(rankErrors.count == 2 && rankErrors.values.allSatisfy { abs($0 - 0.0133) < 0.0001 })
        let quality = try #require(changedColumns["c"]?["quality"] as? [String: Any])
        #expect(quality["new_categories"] as? [String] == ["c"])
        #expect(quality["missing_categories"] as? [String] == ["a"])
        let performance = try #require(changed["performance"] as? [String: Any])
        let accuracy = try #require((performance["metrics"] as? [String: [String: Any]])?["accuracy"])
        #expect(accuracy["reference"] as? Double == 1)
        #expect(accuracy["target"] as? Double == 0.5)

        // Profiles work as arguments too, and --fail-on-drift exits 3.
        let profile = dir.appendingPathComponent("ref.dwp").path
        _ = try DriftProcess.run(["profile", reference.path, "--out", profile, "--quiet"])
        let failing = try DriftProcess.run(["diff", profile, shifted.path, "--fail-on-drift"])
        #expect(failing.status == 3, "\(failing.stderr)")
        #expect(failing.stdout.contains("dataset drift"))
        let markdown = try DriftProcess.run(["diff", reference.path, shifted.path, "--markdown"])
        #expect(markdown.status == 0 && markdown.stdout.contains("| x | numeric | drift |"), "\(markdown.stdout)")
    }

    @Test func badOptionsGiveOneLineErrors() throws {
        for (arguments, fragment) in [
            (["diff", "/nonexistent/a.dwp", "/nonexistent/b.dwp"], "/nonexistent/a.dwp"),
            (["diff", "a.csv", "b.csv", "--stattest", "x=magic"], "magic"),
            (["diff", "a.csv", "b.csv", "--threshold", "psi=abc"], "abc"),
        ] {
            let result = try DriftProcess.run(arguments)
            #expect(result.status != 0)
            #expect(
                result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(fragment), "\(result.stderr)")
        }
    }
}
