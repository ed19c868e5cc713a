import DriftTestSupport
import Foundation
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/datasketches")

@Suite struct SketchInspectCLITests {
    @Test func kllJSONFollowsTheContractAndTheLibrarysAnswers() throws {
        let path = fixtures.appendingPathComponent("kll/kll_doubles_k200_splitmix64_n100000.bin").path
        let js = try DriftProcess.json(["sketch", "inspect", path, "--json"])
        #expect(js["family"] as? String == "kll")
        #expect(js["item_type"] as? String == "double")
        #expect(js["k"] as? Int == 200)
        #expect(js["n"] as? Int == 100_000)
        let quantiles = try #require(js["quantiles"] as? [String: Double])
        #expect(Set(quantiles.keys) == ["0", "0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95", "0.99", "1"])
        // The library's answers are in the sidecar.
        let sidecar = try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("kll/kll_doubles_k200_splitmix64_n100000.json")))
        let answers = try #require((sidecar as? [String: Any])?["answers"] as? [String: Any])
        #expect(js["num_retained"] as? Int == answers["num_retained"] as? Int)
        #expect(js["min"] as? Double == answers["min"] as? Double)
        #expect(js["max"] as? Double == answers["max"] as? Double)
    }

    @Test func floatImagesAreRecognisedByTheirLength() throws {
        let path = fixtures.appendingPathComponent("kll/kll_floats_k200_splitmix64_n100000.bin").path
        #expect(try DriftProcess.json(["sketch", "inspect", path, "--json"])["item_type"] as? String == "float")
        let single = fixtures.appendingPathComponent("kll/kll_floats_k200_seq_n1.bin").path
        #expect(try DriftProcess.json(["sketch", "inspect", single, "--json"])["item_type"] as? String == "float")
    }

    @Test func frequentItemsJSONListsRowsByEstimateDescending() throws {
        let path = fixtures.appendingPathComponent("fi/fi_strings_lg7_zipf_n100000.bin").path
        let js = try DriftProcess.json(["sketch", "inspect", path, "--json"])
        #expect(js["family"] as? String == "frequent_items")
        #expect(js["lg_max_map_size"] as? Int == 7)
        #expect(js["total_weight"] as? Int == 100_000)
        let items = try #require(js["items"] as? [[String: Any]])
        #expect(!items.isEmpty)
        let estimates = items.compactMap { $0["estimate"] as? Int }
        #expect(estimates == estimates.sorted(by: >))
        for row in items {
            let lower = try #require(row["lower_bound"] as? Int)
            let upper = try #require(row["upper_bound"] as? Int)
            #expect(lower <= upper)
        }
    }
}

@Suite struct SketchBuildCLITests {
    @Test func buildsEachFamilyFromStandardInput() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let numbers = (1...1000).map { "\(Double($0) / 4)" }.joined(separator: "\n")

        let kll = dir.appendingPathComponent("a.kll").path
        #expect(
            try DriftProcess.run(["sketch", "build", "--family", "kll-doubles", "--out", kll], stdin: numbers).status
                == 0)
        let kllJS = try DriftProcess.json(["sketch", "inspect", kll, "--json", "--ranks", "0.5"])
        #expect(kllJS["n"] as? Int == 1000)
        #expect(kllJS["min"] as? Double == 0.25)
        #expect(kllJS["max"] as? Double == 250)

        let fi = dir.appendingPathComponent("a.fi").path
        let weighted = "apple\t5\nbanana\napple\t2\ncherry\t0\n"
        #expect(
            try DriftProcess.run(["sketch", "build", "--family", "frequent-strings", "--out", fi], stdin: weighted)
                .status == 0)
        let fiJS = try DriftProcess.json(["sketch", "inspect", fi, "--json"])
        #expect(fiJS["total_weight"] as? Int == 8)
        let items = try #require(fiJS["items"] as? [[String: Any]])
        #expect(items.first?["item"] as? String == "apple")
        #expect(items.first?["estimate"] as? Int == 7)
    }

    @Test func mergeCombinesImagesOfOneFamily() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.kll").path
        let b = dir.appendingPathComponent("b.kll").path
        let merged = dir.appendingPathComponent("m.kll").path
        _ = try DriftProcess.run(["sketch", "build", "--family", "kll-floats", "--out", a], stdin: "1\n2\n3\n")
        _ = try DriftProcess.run(
            ["sketch", "build", "--family", "kll-floats", "--k", "50", "--out", b], stdin: "10\n20\n")
        let result = try DriftProcess.run(["sketch", "merge", a, b, "--out", merged])
        #expect(result.status == 0, "\(result.stderr)")
        let js = try DriftProcess.json(["sketch", "inspect", merged, "--json"])
        #expect(js["n"] as? Int == 5)
        // As in DataSketches, a merged-in sketch lowers min k only once it has compacted
        // (before that it holds its items exactly and adds no error).
        #expect(js["min_k"] as? Int == 200)
        #expect(js["max"] as? Double == 20)
    }
}

@Suite struct SketchCLIErrorTests {
    /// Each case: arguments, standard input, and a fragment the one-line error must contain.
    static let cases: [([String], String?, String)] = [
        (["sketch", "inspect", "/nonexistent/x.bin"], nil, "/nonexistent/x.bin"),
        (["sketch", "build", "--family", "tdigest", "--out", "/tmp/x"], "", "unknown family 'tdigest'"),
        (["sketch", "build", "--family", "kll-doubles", "--k", "3", "--out", "/tmp/x"], "", "k=3"),
        (["sketch", "build", "--family", "kll-doubles", "--out", "/tmp/x"], "1\n2\nabc\n", "standard input:3: 'abc'"),
        (["sketch", "build", "--family", "frequent-strings", "--out", "/tmp/x"], "a\t-1\n", "weight '-1'"),
        (["sketch", "build", "--family", "frequent-strings", "--k", "10", "--out", "/tmp/x"], "", "--k applies only"),
        (["sketch", "inspect", "/dev/null", "--ranks", "0.5,1.5"], nil, "'1.5'"),
        (["sketch", "frobnicate"], nil, "frobnicate"),
    ]

    @Test(arguments: cases)
    func badInputGivesOneLineErrorAndNonZeroExit(arguments: [String], stdin: String?, fragment: String) throws {
        let result = try DriftProcess.run(arguments, stdin: stdin)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("drift: error: "))
        #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)")
    }

    @Test func truncatedImageIsRejectedWithItsOffset() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for family in ["kll/kll_doubles_k200_seq_n1000.bin", "fi/fi_strings_lg7_zipf_n100000.bin"] {
            let bytes = try Data(contentsOf: fixtures.appendingPathComponent(family))
            let cut = dir.appendingPathComponent("cut.bin")
            try bytes.prefix(bytes.count / 2).write(to: cut)
            let result = try DriftProcess.run(["sketch", "inspect", cut.path, "--json"])
            #expect(result.status != 0)
            #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("at byte"), "stderr: \(result.stderr)")
        }
    }
}
