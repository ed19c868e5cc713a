import Testing

@testable import Sketches

@Suite struct SketchFamilyTests {
    @Test func detectsFamilyFromPreamble() throws {
        #expect(try SketchFamily.detect([2, 1, 15, 1, 200, 0, 8, 0]) == .kll)
        #expect(try SketchFamily.detect([2, 1, 7, 12, 3, 12, 0, 8]) == .hll)
        #expect(try SketchFamily.detect([1, 1, 10, 5, 3, 5, 0, 0]) == .frequentItems)
    }

    @Test func rejectsUnknownFamilyAndShortImages() {
        #expect(throws: SketchError.self) { try SketchFamily.detect([2, 1, 99, 0]) }
        #expect(throws: SketchError.self) { try SketchFamily.detect([2, 1]) }
    }

    @Test func byteReaderNamesFieldAndOffsetWhenTruncated() throws {
        var reader = ByteReader([1, 2, 3], family: "KLL")
        _ = try reader.u16("k")
        do {
            _ = try reader.u32("n")
            Issue.record("expected a truncation error")
        } catch {
            #expect(error.offset == 2)
            #expect(error.description.contains("n needs 4 bytes"))
        }
    }
}
