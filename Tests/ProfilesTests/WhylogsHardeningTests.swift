import Foundation
import SwiftProtobuf
import Testing

@testable import Profiles

/// Decoder hardening: every malformed input throws a `WhylogsError` with an offset, never traps.
@Suite("Whylogs hardening")
struct WhylogsHardeningTests {
    @Test func rejectsEveryTruncationOfTheSmallFixture() throws {
        let bytes = try WhylogsFixtures.bytes("whylogs_profile_small")
        for n in 0..<bytes.count {
            do {
                _ = try WhylogsCodec.readView(Array(bytes.prefix(n)))
                Issue.record("a \(n)-byte prefix decoded")
            } catch {
                #expect((error.offset ?? Int.max) <= n, "prefix \(n): \(error)")
            }
        }
    }

    @Test func rejectsWrongMagic() throws {
        var bytes = try WhylogsFixtures.bytes("whylogs_profile_small")
        bytes[3] = UInt8(ascii: "2")
        let error = try #require(throws: WhylogsError.self) { try WhylogsCodec.readView(bytes) }
        #expect(error.offset == 0)
        #expect(error.description.contains("not a whylogs profile"))
        #expect(!WhylogsCodec.isWhylogs(bytes))
        #expect(throws: WhylogsError.self) { try WhylogsCodec.readView([]) }
    }

    /// Table of hand-built containers, one defect each (comment per case).
    @Test func rejectsCorruptContainers() throws {
        let cases: [(String, [UInt8], String)] = [
            // A chunk offset past the end of the chunk area.
            ("offset outside", container(offsets: ["a": [999]]), "lies outside"),
            // The chunk header says DATASET (0), not COLUMN.
            ("dataset chunk", container(chunkType: .dataset), "chunk type 0"),
            // A chunk header whose length runs past the chunk area.
            ("long chunk", container(chunkLengthDelta: 50), "runs past the chunk area"),
            // A component keyed by an index the header does not list.
            ("unknown index", container(paths: [1: "counts/n"]), "metric index 0"),
            // Two columns pointing at the same chunk.
            ("overlap", container(offsets: ["a": [0], "b": [0]]), "overlaps"),
            // The header announces more chunk bytes than the file holds.
            ("short area", container(lengthDelta: 10), "truncated"),
            // Garbage after the chunk area.
            ("trailing", container() + [0, 0], "unexpected bytes after the chunk area"),
            // A segment header that lists two segments.
            ("two segments", container(segments: 2), "only single-profile files"),
            // A varint longer than 10 bytes in place of the segment header length.
            ("long varint", Array("WHY1".utf8) + Array(repeating: 0xFF, count: 11) + [0], "varint"),
            // A segment header length of 2^40: over protobuf's 2 GiB limit, nothing allocated.
            ("huge length", Array("WHY1".utf8) + [0x80, 0x80, 0x80, 0x80, 0x80, 0x20], "2 GiB"),
            // A profile header length larger than the rest of the file.
            ("header too long", Array("WHY1".utf8) + [0x00, 0xE8, 0x07, 0x0A], "truncated"),
            // Bytes that are not a protobuf message where the profile header should be.
            ("bad header", Array("WHY1".utf8) + [0x00, 0x02, 0xFF, 0xFF], "not a valid protobuf message"),
        ]
        for (label, bytes, expected) in cases {
            do {
                let view = try WhylogsCodec.readView(bytes)
                Issue.record("\(label): decoded \(view.columns.keys.sorted())")
            } catch {
                #expect(error.description.contains(expected), "\(label): \(error)")
                #expect(error.offset != nil, "\(label)")
            }
        }
        // The unmodified builder output is valid, so each case above fails for its own defect.
        let valid = try WhylogsCodec.readView(container())
        #expect(valid.columns["a"]?["counts/n"]?.value == .integer(7))
    }

    @Test func segmentedUnsupportedErrorIsFlagged() throws {
        let error = try #require(throws: WhylogsError.self) { try WhylogsCodec.readView(container(segments: 2)) }
        #expect(error.isUnsupported)
    }

    /// Random byte flips in both fixtures: every result is a view or a `WhylogsError`.
    @Test func survivesRandomCorruption() throws {
        let seed: UInt64 = 0x5EED_0003
        var rng = WhylogsSplitMix64(seed: seed)
        var decoded = 0
        for name in WhylogsFixtures.names {
            let original = try WhylogsFixtures.bytes(name)
            for _ in 0..<400 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] = UInt8.random(in: 0...255, using: &rng)
                }
                guard let view = try? WhylogsCodec.readView(bytes) else { continue }
                decoded += 1
                // The sketch decoders behind the column metrics get the corrupted images too.
                for (column, components) in view.columns {
                    _ = try? WhylogsColumnMetrics(column: column, components: components, offset: 0)
                }
            }
        }
        // Most flips land inside sketch images, which the container does not interpret.
        #expect(decoded > 0, "seed \(seed)")
    }
}

/// Builds a one- or two-column container with `counts/n = 7` per column and the given defect.
private func container(
    offsets: [String: [UInt64]]? = nil, chunkType: Whylogs_ChunkHeader.ChunkType = .column,
    chunkLengthDelta: Int = 0, paths: [UInt32: String] = [0: "counts/n"], lengthDelta: Int = 0, segments: Int = 0
) -> [UInt8] {
    var component = Whylogs_MetricComponentMessage()
    component.n = 7
    var chunk = Whylogs_ChunkMessage()
    chunk.metricComponents[0] = component
    let body = WhylogsWireWriter.serialize(chunk)
    var chunkHeader = Whylogs_ChunkHeader()
    chunkHeader.type = chunkType
    chunkHeader.length = UInt32(body.count + chunkLengthDelta)
    var area = WhylogsWireWriter()
    area.delimited(chunkHeader)
    area.append(body)
    let columns = offsets ?? ["a": [0]]
    var areaBytes = area.bytes
    if columns.count > 1 { areaBytes += areaBytes }

    var header = Whylogs_DatasetProfileHeader()
    for (name, list) in columns {
        var o = Whylogs_ChunkOffsets()
        o.offsets = list
        header.columnOffsets[name] = o
    }
    header.indexedMetricPaths = paths
    header.length = UInt64(areaBytes.count + lengthDelta)

    var segmentHeader = Whylogs_DatasetSegmentHeader()
    for i in 0..<segments {
        segmentHeader.hasSegments_p = true
        var segment = Whylogs_Segment()
        var tag = Whylogs_SegmentTag()
        tag.key = "whylogs.tag.k"
        tag.value = "v\(i)"
        segment.tags = [tag]
        segmentHeader.segments.append(segment)
    }
    var out = WhylogsWireWriter()
    out.append(Array("WHY1".utf8))
    out.delimited(segmentHeader)
    out.delimited(header)
    out.append(areaBytes)
    return out.bytes
}
