import ArgumentParser
import Reports
import Sketches

/// `drift sketch merge A B ... --out C`: merge images of one family.
struct SketchMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge DataSketches images of the same family into one.",
        discussion: """
            KLL: all inputs must hold the same item type; the result keeps the first input's k
            and the smallest k seen (min k) for its error bound. Frequent strings: merged into a sketch with the first input's map size.
            """
    )

    @Argument(help: "Two or more sketch image files.")
    var files: [String]

    @Option(help: "Where to write the merged image.")
    var out: String

    func run() throws {
        guard files.count >= 2 else { throw CLIError("merge needs at least two input files") }
        var images: [(String, [UInt8])] = []
        for file in files { images.append((file, try FileIO.read(file, what: "sketch"))) }
        let families = try images.map { file, image throws(CLIError) in
            do { return try SketchFamily.detect(image) } catch { throw CLIError("\(file): \(error)") }
        }
        guard let family = families.first, families.allSatisfy({ $0 == family }) else {
            let list = zip(files, families).map { "\($0) is \($1.rawValue)" }.joined(separator: ", ")
            throw CLIError("cannot merge different families: \(list)")
        }
        let merged: [UInt8]
        switch family {
        case .kll:
            let types = try images.map { file, image throws(CLIError) in
                do { return try KLLImage.itemType(of: image) } catch { throw CLIError("\(file): \(error)") }
            }
            let known = Set(types.compactMap { $0 })
            guard known.count <= 1 else { throw CLIError("cannot merge KLL float and double images") }
            if known.first == .float {
                merged = try mergeKLL(Float.self, images)
            } else {
                merged = try mergeKLL(Double.self, images)
            }
        case .hll:
            // The union takes the largest lgK offered and shrinks to the smallest input's; the
            // result keeps the first image's register width.
            var sketches: [HLLSketch] = []
            for (file, image) in images {
                do { sketches.append(try HLLSketch(serialized: image)) } catch { throw CLIError("\(file): \(error)") }
            }
            var union: HLLUnion
            do { union = try HLLUnion(lgMaxK: sketches.map(\.lgK).max() ?? HLLSketch.defaultLgK) } catch {
                throw CLIError("\(error)")
            }
            for sketch in sketches { union.update(sketch) }
            merged = union.result(type: sketches.first?.type ?? .hll4).serialized()
        case .frequentItems:
            var result: FrequentStringsSketch?
            for (file, image) in images {
                let sketch: FrequentStringsSketch
                do { sketch = try FrequentStringsSketch(serialized: image) } catch {
                    throw CLIError("\(file): \(error)")
                }
                if result == nil { result = sketch } else { result?.merge(sketch) }
            }
            merged = result?.serialized() ?? []
        }
        try FileIO.write(merged, to: out)
    }

    private func mergeKLL<Item: KLLItem>(_: Item.Type, _ images: [(String, [UInt8])]) throws(CLIError) -> [UInt8] {
        var result: KLLSketch<Item>?
        for (file, image) in images {
            let sketch: KLLSketch<Item>
            do { sketch = try KLLSketch<Item>(serialized: image) } catch { throw CLIError("\(file): \(error)") }
            if result == nil { result = sketch } else { result?.merge(sketch) }
        }
        return result?.serialized() ?? []
    }
}
