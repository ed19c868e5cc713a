import Testing

@testable import DriftCommands
@testable import Reports

@Suite struct JSONValueTests {
    @Test func keepsKeyOrderAndEscapesStrings() {
        let value = JSONValue.object([
            ("family", .string("kll")),
            ("quote", .string("a\"b\\c\n\u{01}é")),
            ("list", .array([.int(-3), .uint(7), .bool(true), .null])),
        ])
        #expect(value.serialized() == #"{"family":"kll","quote":"a\"b\\c\n\u0001é","list":[-3,7,true,null]}"#)
    }

    @Test func writesDoublesShortestAndNonFiniteAsStrings() {
        #expect(JSONValue.double(0.1).serialized() == "0.1")
        #expect(JSONValue.double(2).serialized() == "2")
        #expect(JSONValue.double(-0.5).serialized() == "-0.5")
        #expect(JSONValue.double(1e20).serialized() == "1e+20")
        #expect(JSONValue.double(.nan).serialized() == "\"NaN\"")
        #expect(JSONValue.double(.infinity).serialized() == "\"Infinity\"")
        #expect(JSONValue.double(-.infinity).serialized() == "\"-Infinity\"")
        #expect(Double(JSONValue.double(0.30000000000000004).serialized()) == 0.30000000000000004)
    }

    @Test func rankKeysMatchTheDocumentedForm() {
        #expect(
            SketchSummary.defaultRanks.map(SketchSummary.rankKey) == [
                "0", "0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95", "0.99", "1",
            ])
    }

    @Test func prettyPrintingIndentsNestedValues() {
        let value = JSONValue.object([("a", .object([("b", .array([.int(1)]))])), ("c", .object([]))])
        #expect(value.serialized(pretty: true) == "{\n  \"a\": {\n    \"b\": [\n      1\n    ]\n  },\n  \"c\": {}\n}")
    }
}
