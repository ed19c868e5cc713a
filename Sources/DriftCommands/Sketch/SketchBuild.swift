import ArgumentParser
import Reports
import Sketches

/// `drift sketch build`: build a sketch from one item per line and write its image.
struct SketchBuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a DataSketches image from one item per line.",
        discussion: """
            Families: kll-doubles, kll-floats (numbers; blank lines skipped, "nan" ignored by
            the sketch), hll (each line an item, hashed as a string, a double or a 64-bit
            integer per --item-type; blank lines are empty strings, which HLL ignores),
            frequent-strings (each line an item; a line `item<TAB>N` adds the item with integer
            weight N).
            """
    )

    enum Family: String, CaseIterable {
        case kllDoubles = "kll-doubles"
        case kllFloats = "kll-floats"
        case hll
        case frequentStrings = "frequent-strings"
    }

    @Option(help: "kll-doubles, kll-floats, hll or frequent-strings.")
    var family: String

    @Option(help: "KLL: k, 8...65535 (default 200).")
    var k: Int?

    @Option(name: .customLong("lg-k"), help: "HLL: log2 of the number of registers, 4...21 (default 12).")
    var lgK: Int?

    @Option(name: .customLong("hll-type"), help: "HLL: register width 4, 6 or 8 (default 4).")
    var hllType: String?

    @Option(name: .customLong("item-type"), help: "HLL: hash each line as a string, double or int (default string).")
    var itemType: String?

    @Flag(help: "HLL: write the updatable image instead of the compact one.")
    var updatable = false

    @Option(name: .customLong("lg-max-map-size"), help: "Frequent strings: log2 of the maximum map size (default 10).")
    var lgMaxMapSize: Int?

    @Option(help: "Input file, one item per line (default: standard input).")
    var input: String?

    @Option(help: "Where to write the image.")
    var out: String

    func run() throws {
        guard let family = Family(rawValue: family) else {
            throw CLIError(
                "--family: unknown family '\(family)' (expected \(Family.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        try checkOptionsApply(to: family)
        let reader = try LineReader(path: input)
        let image: [UInt8]
        switch family {
        case .kllDoubles: image = try buildKLL(Double.self, reader)
        case .kllFloats: image = try buildKLL(Float.self, reader)
        case .hll: image = try buildHLL(reader)
        case .frequentStrings: image = try buildFrequentStrings(reader)
        }
        try FileIO.write(image, to: out)
    }

    private func checkOptionsApply(to family: Family) throws(CLIError) {
        let isKLL = family == .kllDoubles || family == .kllFloats
        if k != nil, !isKLL { throw CLIError("--k applies only to kll-doubles and kll-floats") }
        if family != .hll {
            for (set, name) in [
                (lgK != nil, "--lg-k"), (hllType != nil, "--hll-type"), (itemType != nil, "--item-type"),
                (updatable, "--updatable"),
            ] where set {
                throw CLIError("\(name) applies only to hll")
            }
        }
        if lgMaxMapSize != nil, family != .frequentStrings {
            throw CLIError("--lg-max-map-size applies only to frequent-strings")
        }
    }

    private func buildKLL<Item: KLLItem & LosslessStringConvertible>(
        _: Item.Type, _ reader: LineReader
    ) throws -> [UInt8] {
        var sketch: KLLSketch<Item>
        do {
            sketch = try k.map { k throws(SketchError) in try KLLSketch<Item>(k: k) } ?? KLLSketch<Item>()
        } catch {
            throw CLIError("--k: \(error)")
        }
        while let line = try reader.next() {
            let text = line.trimmingCharacters(in: " ")
            if text.isEmpty { continue }
            guard let value = Item(text) ?? Item(text.lowercased()) else {
                throw CLIError("\(reader.name):\(reader.lineNumber): '\(text)' is not a number")
            }
            sketch.update(value)
        }
        return sketch.serialized()
    }

    private func buildHLL(_ reader: LineReader) throws -> [UInt8] {
        guard let type = HLLTargetType(name: hllType ?? "4") else {
            throw CLIError("--hll-type: '\(hllType ?? "")' is not 4, 6 or 8")
        }
        let kind = itemType ?? "string"
        guard ["string", "double", "int"].contains(kind) else {
            throw CLIError("--item-type: '\(kind)' is not string, double or int")
        }
        var sketch: HLLSketch
        do { sketch = try HLLSketch(lgK: lgK ?? HLLSketch.defaultLgK, type: type) } catch {
            throw CLIError("--lg-k: \(error)")
        }
        while let line = try reader.next() {
            switch kind {
            case "double":
                let text = line.trimmingCharacters(in: " ")
                if text.isEmpty { continue }
                guard let value = Double(text) ?? Double(text.lowercased()) else {
                    throw CLIError("\(reader.name):\(reader.lineNumber): '\(text)' is not a number")
                }
                sketch.update(value)
            case "int":
                let text = line.trimmingCharacters(in: " ")
                if text.isEmpty { continue }
                guard let value = Int64(text) else {
                    throw CLIError("\(reader.name):\(reader.lineNumber): '\(text)' is not a 64-bit integer")
                }
                sketch.update(value)
            default:
                sketch.update(line)
            }
        }
        return sketch.serialized(compact: !updatable)
    }

    private func buildFrequentStrings(_ reader: LineReader) throws -> [UInt8] {
        var sketch: FrequentStringsSketch
        do {
            sketch =
                try lgMaxMapSize.map { lg throws(SketchError) in try FrequentStringsSketch(lgMaxMapSize: lg) }
                ?? FrequentStringsSketch()
        } catch {
            throw CLIError("--lg-max-map-size: \(error)")
        }
        while let line = try reader.next() {
            if let tab = line.lastIndex(of: "\t") {
                let weightText = line[line.index(after: tab)...]
                guard let weight = UInt64(weightText) else {
                    throw CLIError(
                        "\(reader.name):\(reader.lineNumber): weight '\(weightText)' after the tab is not a non-negative integer"
                    )
                }
                sketch.update(String(line[..<tab]), weight: weight)
            } else {
                sketch.update(line)
            }
        }
        return sketch.serialized()
    }
}
