import Foundation
import Testing

@testable import Profiles

@Suite("Whylogs container")
struct WhylogsContainerTests {
    @Test(arguments: WhylogsFixtures.names)
    func readsFixtureContainers(name: String) throws {
        let bytes = try WhylogsFixtures.bytes(name)
        let json = try WhylogsFixtures.json(name)
        let decoded = try #require(json["container_decoded"] as? [String: Any])
        let header = try #require(decoded["profile_header"] as? [String: Any])
        let view = try WhylogsCodec.readView(bytes)

        #expect(view.encoding == .v1)
        #expect(view.datasetTimestamp == WhylogsFixtures.int64(header["dataset_timestamp"]))
        #expect(view.creationTimestamp == WhylogsFixtures.int64(header["creation_timestamp"]))
        #expect(view.metadata == (header["metadata"] as? [String: String]))
        #expect(view.tags.isEmpty)
        #expect(view.segments.isEmpty)

        let columns = try #require(decoded["columns"] as? [String: [String: Any]])
        #expect(Set(view.columns.keys) == Set(columns.keys))
        for (column, expected) in columns {
            let components = try #require(expected["components"] as? [String: [String: Any]])
            let actual = try #require(view.columns[column])
            #expect(Set(actual.keys) == Set(components.keys), "column \(column)")
            for (path, want) in components {
                let got = try #require(actual[path])
                #expect(Int(got.typeID) == (want["type_id"] as? Int), "\(column) \(path)")
                switch (want["oneof"] as? String, got.value) {
                case ("n", .integer(let n)):
                    #expect(n == WhylogsFixtures.int64(want["value"]), "\(column) \(path)")
                case ("d", .double(let d)):
                    let w = try #require(WhylogsFixtures.double(want["value"]))
                    #expect(d.bitPattern == w.bitPattern || (d.isNaN && w.isNaN), "\(column) \(path)")
                case ("kll", .kll(let image)), ("hll", .hll(let image)), ("frequent_items", .frequentItems(let image)):
                    #expect(image.count == want["sketch_size_bytes"] as? Int, "\(column) \(path)")
                    let prefix = image.prefix(48).map { String(format: "%02x", $0) }.joined()
                    #expect(prefix == want["sketch_hex_prefix"] as? String, "\(column) \(path)")
                default:
                    Issue.record("\(column) \(path): expected \(want["oneof"] ?? "?"), got \(got.value)")
                }
            }
        }
    }

    @Test(arguments: WhylogsFixtures.names)
    func rewritingAViewKeepsEveryComponent(name: String) throws {
        let bytes = try WhylogsFixtures.bytes(name)
        let view = try WhylogsCodec.readView(bytes)
        let written = WhylogsCodec.writeView(view)
        let again = try WhylogsCodec.readView(written)
        #expect(sameComponents(view, again))
        // Same size; the bytes differ only in map-entry order (whylogs keeps Python insertion
        // order, Driftwatch writes keys sorted).
        #expect(written.count == bytes.count)
    }
}

/// Views are equal with doubles compared by bit pattern (the fixtures hold NaN).
func sameComponents(_ a: WhylogsProfileView, _ b: WhylogsProfileView) -> Bool {
    func normalised(_ v: WhylogsProfileView) -> WhylogsProfileView {
        var v = v
        v.columnOffsets = [:]
        for (c, comps) in v.columns {
            for (p, comp) in comps {
                if case .double(let d) = comp.value {
                    v.columns[c]?[p]?.value = .integer(Int64(bitPattern: d.bitPattern))
                }
            }
        }
        return v
    }
    return normalised(a) == normalised(b)
}

@Suite("Whylogs KLL layout")
struct WhylogsKLLLayoutTests {
    /// Every KLL image whylogs wrote converts to the standard layout and back byte for byte.
    @Test(arguments: WhylogsFixtures.names)
    func legacyImagesConvertLosslessly(name: String) throws {
        let view = try WhylogsCodec.readView(try WhylogsFixtures.bytes(name))
        var multiItem = 0
        for (column, components) in view.columns {
            guard case .kll(let legacy)? = components["distribution/kll"]?.value else { continue }
            let standard = WhylogsKLLLayout.standard(fromLegacy: legacy)
            if legacy[0] == 6 {
                multiItem += 1
                #expect(standard[0] == 5 && standard.count == legacy.count - 4, "\(column)")
                #expect(Array(standard[0..<20].dropFirst()) == Array(legacy[1..<20]), "\(column)")
                #expect(Array(standard[20...]) == Array(legacy[24...]), "\(column)")
            } else {
                #expect(standard == legacy, "\(column): empty/single images are shared")
            }
            #expect(WhylogsKLLLayout.legacy(fromStandard: standard) == legacy, "\(column)")
        }
        #expect(multiItem == 3)
    }
}
