import DriftTestSupport
import Foundation
import Testing

/// `drift profile`, `profile inspect` and `profile merge`, run as the real binary on files
/// written by the tests; numbers are checked against values computed here from the same rows.
@Suite struct ProfileCLITests {
    static let csv = """
        ts,region,amount,label,pred,score,latency,note
        2024-05-01T10:00:05Z,eu,10.5,1,1,0.9,12,"hello, world"
        2024-05-01T10:00:20Z,us,2,0,1,0.6,15,
        2024-05-01T10:01:10Z,eu,7.25,0,0,0.2,9,"multi
        line"
        2024-05-01 10:01:40,eu,,1,1,0.8,30,x
        1714557720,us,-4,1,0,0.3,11,x
        """

    @Test func profilesAndInspectsACSV() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("rows.csv")
        try Self.csv.write(to: input, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("rows.dwp").path
        let result = try DriftProcess.run([
            "profile", input.path, "--out", out, "--prediction-column", "pred", "--target-column", "label",
            "--score-column", "score", "--latency-column", "latency", "--model", "fraud",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("profiled 5 rows"))
        // Writing over an existing file replaces it.
        let again = try DriftProcess.run(["profile", input.path, "--out", out, "--model", "fraud", "--quiet"])
        #expect(again.status == 0, "\(again.stderr)")
        _ = try DriftProcess.run([
            "profile", input.path, "--out", out, "--prediction-column", "pred", "--target-column", "label",
            "--score-column", "score", "--latency-column", "latency", "--model", "fraud", "--quiet",
        ])
        let json = try DriftProcess.json(["profile", "inspect", out, "--json"])
        #expect(json["format"] as? String == "native")
        #expect(json["model"] as? String == "fraud")
        let columns = try #require(json["columns"] as? [String: [String: Any]])
        let amount = try #require(columns["amount"])
        #expect(amount["count"] as? Int == 5)
        #expect(amount["null_count"] as? Int == 1)
        let values = [10.5, 2, 7.25, -4]
        let mean = values.reduce(0, +) / 4
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        #expect(abs((amount["mean"] as? Double ?? 0) - mean) < 1e-12)
        #expect(abs((amount["stddev"] as? Double ?? 0) - sd) < 1e-12)
        #expect(amount["min"] as? Double == -4 && amount["max"] as? Double == 10.5)
        let quantiles = try #require(amount["quantiles"] as? [String: Double])
        #expect(quantiles["0.5"] == 7.25)  // exclusive rank 0.5 of 4 values: the third smallest
        let types = try #require(amount["types"] as? [String: Int])
        #expect(types["fractional"] == 2 && types["integral"] == 2)
        let note = try #require(columns["note"])
        let items = try #require(note["frequent_items"] as? [[String: Any]])
        #expect(items.first?["item"] as? String == "x" && items.first?["estimate"] as? Int == 2)
        #expect((note["cardinality"] as? [String: Double])?["estimate"].map { abs($0 - 3) < 0.01 } == true)
        let performance = try #require(json["performance"] as? [String: Any])
        #expect(performance["task"] as? String == "classification")
        #expect(performance["count"] as? Int == 5)
        #expect(abs((performance["accuracy"] as? Double ?? 0) - 0.6) < 1e-12)  // rows 1, 3 and 4 of 5
        let latency = try #require(json["latency"] as? [String: Any])
        #expect(latency["count"] as? Int == 5)
    }

    @Test func windowsAndSegmentsWriteOneFilePerPair() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("rows.csv")
        try Self.csv.write(to: input, atomically: true, encoding: .utf8)
        let outDir = dir.appendingPathComponent("out").path
        let result = try DriftProcess.run([
            "profile", input.path, "--out", outDir, "--timestamp-column", "ts", "--window", "1m", "--segment-by",
            "region", "--model", "m",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: outDir).sorted()
        // 10:00 eu, 10:00 us, 10:01 eu, 10:02 us (epoch 1714557720 = 10:02:00).
        #expect(files.count == 4, "\(files)")
        var rows = 0
        for file in files {
            let json = try DriftProcess.json(["profile", "inspect", outDir + "/" + file, "--json"])
            rows += json["row_count"] as? Int ?? 0
            #expect(json["window_seconds"] as? Double == 60)
            #expect((json["segment"] as? [String: String])?["region"] != nil)
        }
        #expect(rows == 5)
        // Merging everything back gives the whole file's counts.
        let merged = dir.appendingPathComponent("merged.dwp").path
        let mergeResult = try DriftProcess.run(
            ["profile", "merge"] + files.map { outDir + "/" + $0 } + ["--out", merged])
        #expect(mergeResult.status == 0, "\(mergeResult.stderr)")
        let json = try DriftProcess.json(["profile", "inspect", merged, "--json"])
        let columns = try #require(json["columns"] as? [String: [String: Any]])
        #expect(columns["amount"]?["count"] as? Int == 5)
        #expect((json["segment"] as? [String: String])?.isEmpty == true)
        #expect(json["window_seconds"] as? Double == 180)
    }

    @Test func jsonLinesAndWhylogsOutput() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("rows.jsonl")
        try """
        {"x": 1, "y": "a", "z": true, "n": null, "o": {"k": 1}}
        {"x": 2.5, "y": "b", "z": false}

        {"x": 4, "y": "a", "n": null}
        """.write(to: input, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("rows.bin").path
        let result = try DriftProcess.run(["profile", input.path, "--format", "whylogs", "--out", out, "--quiet"])
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        let json = try DriftProcess.json(["profile", "inspect", out, "--json"])
        #expect(json["format"] as? String == "whylogs")
        #expect(json["model"] as? String == "rows")
        let columns = try #require(json["columns"] as? [String: [String: Any]])
        #expect(columns["x"]?["count"] as? Int == 3)
        #expect((columns["x"]?["types"] as? [String: Int])?["fractional"] == 1)
        #expect(columns["n"]?["null_count"] as? Int == 2)
        #expect((columns["o"]?["types"] as? [String: Int])?["object"] == 1)
    }

    static let errorCases: [([String], String)] = [
        (["profile", "/nonexistent/data.csv"], "/nonexistent/data.csv"),
        (["profile", "data.txt"], "--input-format"),
        (["profile", "x.csv", "--window", "1h"], "--window needs --timestamp-column"),
        (["profile", "x.csv", "--format", "parquet"], "--format"),
        (["profile", "x.csv", "--kll-k", "3"], "k=3"),
        (["profile", "inspect", "/nonexistent/p.dwp"], "/nonexistent/p.dwp"),
    ]

    @Test(arguments: errorCases)
    func badInputGivesOneLineError(arguments: [String], fragment: String) throws {
        let result = try DriftProcess.run(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)")
    }

    @Test func raggedRowsAndBadTimestampsNameTheLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ragged = dir.appendingPathComponent("ragged.csv")
        try "a,b\n1,2\n3\n".write(to: ragged, atomically: true, encoding: .utf8)
        let r1 = try DriftProcess.run(["profile", ragged.path, "--out", dir.appendingPathComponent("r.dwp").path])
        #expect(r1.status != 0 && r1.stderr.contains("ragged.csv:3"), "\(r1.stderr)")
        let badTime = dir.appendingPathComponent("time.csv")
        try "ts,v\n2024-01-01,1\nyesterday,2\n".write(to: badTime, atomically: true, encoding: .utf8)
        let r2 = try DriftProcess.run([
            "profile", badTime.path, "--timestamp-column", "ts", "--window", "1d", "--out", dir.path + "/o",
        ])
        #expect(r2.status != 0 && r2.stderr.contains("time.csv:3") && r2.stderr.contains("'yesterday'"), "\(r2.stderr)")
        let r3 = try DriftProcess.run(["profile", ragged.path, "--columns", "nope", "--out", dir.path + "/x.dwp"])
        #expect(r3.status != 0 && r3.stderr.contains("no column 'nope'"), "\(r3.stderr)")
    }

    @Test func corruptProfileIsRejectedWithItsOffset() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("rows.csv")
        try Self.csv.write(to: input, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("rows.dwp")
        _ = try DriftProcess.run(["profile", input.path, "--out", out.path, "--quiet"])
        let bytes = try Data(contentsOf: out)
        try bytes.prefix(bytes.count - 10).write(to: out)
        let result = try DriftProcess.run(["profile", "inspect", out.path])
        #expect(result.status != 0 && result.stderr.contains("at byte"), "\(result.stderr)")
    }
}
