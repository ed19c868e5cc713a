internal import Foundation
internal import SwiftProtobuf

// whylogs v1 profile container (`.bin`), as whylogs 1.6.4 reads and writes it.
// Source: FORMATS.md section d; whylabs/whylogs `python/whylogs/core/view/dataset_profile_view.py`
// (`_do_write`, `_do_read`) and `segmented_dataset_profile_view.py` (`_write_v1`), commit c9b9b8b.
//
//   byte 0           +---------------------------------------------------------------+
//                    | "WHY1" (4 ASCII bytes)                                        |
//   byte 4           +---------------------------------------------------------------+
//                    | varint n1 | DatasetSegmentHeader (n1 bytes; n1 = 0 when       |
//                    |           | unsegmented: the single byte 0x00)                |
//                    +---------------------------------------------------------------+
//                    | varint n2 | DatasetProfileHeader (n2 bytes): properties,      |
//                    |           | column_offsets{name: [offset]}, length L,         |
//                    |           | indexed_metric_paths{index: "counts/n", ...}      |
//   chunk area  S -> +---------------------------------------------------------------+
//                    | column chunks, by column name:                                |
//                    |   S+offset: varint n3 | ChunkHeader{type COLUMN, length m}    |
//                    |             ChunkMessage (m bytes, NOT delimited):            |
//                    |             metric_components{index: MetricComponentMessage}  |
//   S + L = EOF ---> +---------------------------------------------------------------+
//
// The reader checks the magic, every varint and length against the bytes present (and the
// chunk area), every chunk offset against L, every chunk header's type and every component
// index against indexed_metric_paths. It accepts exactly one profile: a segment header that
// announces more than one segment is rejected (whylogs itself never writes one and reads only
// the first). The header's metric_offsets (dataset-level metrics) are ignored, as whylogs does.
enum WhylogsContainer {
    /// `WHYLOGS_MAGIC_HEADER` in whylogs' `dataset_profile_view.py`.
    static let magic: [UInt8] = Array("WHY1".utf8)

    /// `ChunkHeader.ChunkType.COLUMN`.
    static let columnChunkType = 2

    static func hasMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= magic.count && Array(bytes[0..<magic.count]) == magic
    }

    // MARK: Reading

    static func read(_ bytes: [UInt8]) throws(WhylogsError) -> WhylogsProfileView {
        guard hasMagic(bytes) else {
            throw .malformed(at: 0, "missing the WHY1 magic")
        }
        var reader = WhylogsWireReader(bytes, offset: magic.count)

        let segmentHeaderOffset = reader.offset
        let segmentHeader = try reader.delimited(Whylogs_DatasetSegmentHeader.self, "segment header")
        guard segmentHeader.segments.count <= 1, segmentHeader.offsets.count <= 1 else {
            throw .unsupported(
                at: segmentHeaderOffset,
                "the segment header lists \(max(segmentHeader.segments.count, segmentHeader.offsets.count)) "
                    + "segments; only single-profile files are read")
        }

        let profileHeaderOffset = reader.offset
        let header = try reader.delimited(Whylogs_DatasetProfileHeader.self, "profile header")
        let areaStart = reader.offset
        guard header.length <= UInt64(reader.remaining) else {
            throw .malformed(
                at: profileHeaderOffset,
                "truncated: the profile header announces a \(header.length)-byte chunk area but \(reader.remaining) "
                    + "bytes follow it (starting at byte \(areaStart))")
        }
        let areaEnd = areaStart + Int(header.length)
        guard areaEnd == bytes.count else {
            throw .malformed(at: areaEnd, "\(bytes.count - areaEnd) unexpected bytes after the chunk area")
        }
        reader.limit = areaEnd

        var view = WhylogsProfileView()
        view.encoding = .v1
        let properties = header.properties
        view.schemaMajorVersion = properties.schemaMajorVersion
        view.schemaMinorVersion = properties.schemaMinorVersion
        view.creationTimestamp = try timestamp(properties.creationTimestamp, "creation_timestamp", profileHeaderOffset)
        view.datasetTimestamp = try timestamp(properties.datasetTimestamp, "dataset_timestamp", profileHeaderOffset)
        view.tags = properties.tags
        view.metadata = properties.metadata
        view.segments = segmentHeader.segments.map { segment in
            WhylogsProfileView.Segment(
                tags: segment.tags.map { WhylogsProfileView.Tag(key: $0.key, value: $0.value) },
                partitionID: segment.partitionID)
        }

        // Chunks are parsed in file order and must not overlap, so each byte of the chunk area is
        // parsed at most once whatever the offsets say (no work amplification from a header that
        // points many columns at one large chunk).
        var chunks: [(relative: UInt64, column: String)] = []
        for (name, offsets) in header.columnOffsets {
            view.columns[name] = [:]
            for relative in offsets.offsets {
                guard relative < header.length else {
                    throw .malformed(
                        at: profileHeaderOffset,
                        "column '\(name)': chunk offset \(relative) lies outside the \(header.length)-byte chunk area")
                }
                chunks.append((relative, name))
            }
        }
        chunks.sort { ($0.relative, $0.column) < ($1.relative, $1.column) }

        var previousEnd = areaStart
        for (relative, name) in chunks {
            let chunkOffset = areaStart + Int(relative)
            if view.columnOffsets[name] == nil { view.columnOffsets[name] = chunkOffset }
            guard chunkOffset >= previousEnd else {
                throw .malformed(
                    at: profileHeaderOffset,
                    "column '\(name)': chunk at byte \(chunkOffset) overlaps the previous chunk (ends at byte \(previousEnd))"
                )
            }
            reader.seek(to: chunkOffset)
            let chunkHeader = try reader.delimited(Whylogs_ChunkHeader.self, "column '\(name)' chunk header")
            guard chunkHeader.type.rawValue == columnChunkType else {
                throw .malformed(
                    at: chunkOffset,
                    "column '\(name)': chunk type \(chunkHeader.type.rawValue), expected \(columnChunkType) (COLUMN)")
            }
            guard Int64(chunkHeader.length) <= Int64(reader.remaining) else {
                throw .malformed(
                    at: chunkOffset,
                    "truncated: column '\(name)' chunk of \(chunkHeader.length) bytes runs past the chunk area "
                        + "(\(reader.remaining) bytes remain, area ends at byte \(areaEnd))")
            }
            let bodyStart = reader.offset
            previousEnd = bodyStart + Int(chunkHeader.length)
            let chunk = try WhylogsWireReader.parse(
                Whylogs_ChunkMessage.self, bytes[bodyStart..<previousEnd], "column '\(name)' chunk", at: bodyStart)
            for (index, message) in chunk.metricComponents {
                guard let path = header.indexedMetricPaths[index] else {
                    throw .malformed(
                        at: chunkOffset,
                        "column '\(name)': metric index \(index) is not in the header's indexed_metric_paths "
                            + "(\(header.indexedMetricPaths.count) paths)")
                }
                view.columns[name, default: [:]][path] = component(message)
            }
        }
        return view
    }

    /// whylogs stores "no timestamp" as 0; real values are milliseconds since the epoch and must
    /// fit an Int64.
    private static func timestamp(_ raw: UInt64, _ what: String, _ offset: Int) throws(WhylogsError) -> Int64? {
        if raw == 0 { return nil }
        guard raw <= UInt64(Int64.max) else {
            throw .malformed(at: offset, "\(what) \(raw) ms is out of range")
        }
        return Int64(raw)
    }

    static func component(_ message: Whylogs_MetricComponentMessage) -> WhylogsProfileView.Component {
        let value: WhylogsProfileView.Value
        switch message.value {
        case .none: value = .unset
        case .n(let n): value = .integer(n)
        case .d(let d): value = .double(d)
        case .frequentItems(let sketch): value = .frequentItems(Array(sketch.sketch))
        case .hll(let sketch): value = .hll(Array(sketch.sketch))
        case .kll(let sketch): value = .kll(Array(sketch.sketch))
        case .cpc(let sketch): value = .cpc(Array(sketch.sketch))
        case .serializedBytes(let data): value = .serializedBytes(Array(data))
        case .dataclassParam: value = .dataclassParameters
        case .msg(let any): value = .message(typeURL: any.typeURL)
        }
        return WhylogsProfileView.Component(typeID: message.typeID, value)
    }

    // MARK: Writing

    /// Writes a view in the layout above: columns sorted by name, metric paths indexed in
    /// alphabetical order, one chunk per column — what whylogs 1.6.4's `_do_write` produces.
    /// Components whose value cannot be represented on write (`.dataclassParameters`,
    /// `.message`) are written as unset.
    static func write(_ view: WhylogsProfileView) -> [UInt8] {
        let paths = Set(view.columns.values.flatMap(\.keys)).sorted()
        var indexOf: [String: UInt32] = [:]
        var header = Whylogs_DatasetProfileHeader()
        for (i, path) in paths.enumerated() {
            indexOf[path] = UInt32(i)
            header.indexedMetricPaths[UInt32(i)] = path
        }

        var area = WhylogsWireWriter()
        for name in view.columns.keys.sorted() {
            var offsets = Whylogs_ChunkOffsets()
            offsets.offsets = [UInt64(area.bytes.count)]
            header.columnOffsets[name] = offsets

            var chunk = Whylogs_ChunkMessage()
            for (path, component) in view.columns[name] ?? [:] {
                guard let index = indexOf[path] else { preconditionFailure("path \(path) missing from the index") }
                chunk.metricComponents[index] = message(component)
            }
            let body = WhylogsWireWriter.serialize(chunk)
            var chunkHeader = Whylogs_ChunkHeader()
            chunkHeader.type = .column
            chunkHeader.length = UInt32(body.count)
            area.delimited(chunkHeader)
            area.append(body)
        }

        var properties = Whylogs_DatasetProperties()
        properties.schemaMajorVersion = view.schemaMajorVersion
        properties.schemaMinorVersion = view.schemaMinorVersion
        properties.creationTimestamp = UInt64(clamping: max(0, view.creationTimestamp ?? 0))
        properties.datasetTimestamp = UInt64(clamping: max(0, view.datasetTimestamp ?? 0))
        properties.tags = view.tags
        properties.metadata = view.metadata
        header.properties = properties
        header.length = UInt64(area.bytes.count)

        var segmentHeader = Whylogs_DatasetSegmentHeader()
        if !view.segments.isEmpty {
            segmentHeader.hasSegments_p = true
            segmentHeader.segments = view.segments.map { segment in
                var message = Whylogs_Segment()
                message.tags = segment.tags.map { tag in
                    var t = Whylogs_SegmentTag()
                    t.key = tag.key
                    t.value = tag.value
                    return t
                }
                message.partitionID = segment.partitionID
                return message
            }
            // whylogs' `_write_v1` records one entry per segment; its value is not used by readers.
            for i in view.segments.indices { segmentHeader.offsets[UInt32(i)] = 0 }
        }

        var out = WhylogsWireWriter()
        out.append(magic)
        out.delimited(segmentHeader)
        out.delimited(header)
        out.append(area.bytes)
        return out.bytes
    }

    static func message(_ component: WhylogsProfileView.Component) -> Whylogs_MetricComponentMessage {
        var message = Whylogs_MetricComponentMessage()
        message.typeID = component.typeID
        switch component.value {
        case .unset, .dataclassParameters, .message: break
        case .integer(let n): message.n = n
        case .double(let d): message.d = d
        case .frequentItems(let bytes):
            var sketch = Whylogs_FrequentItemsSketchMessage()
            sketch.sketch = Data(bytes)
            message.frequentItems = sketch
        case .hll(let bytes):
            var sketch = Whylogs_HllSketchMessage()
            sketch.sketch = Data(bytes)
            message.hll = sketch
        case .kll(let bytes):
            var sketch = Whylogs_KllSketchMessage()
            sketch.sketch = Data(bytes)
            message.kll = sketch
        case .cpc(let bytes):
            var sketch = Whylogs_CpcSketchMessage()
            sketch.sketch = Data(bytes)
            message.cpc = sketch
        case .serializedBytes(let bytes): message.serializedBytes = Data(bytes)
        }
        return message
    }
}
