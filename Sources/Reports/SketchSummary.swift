public import Sketches

/// What `drift sketch inspect` reports about one DataSketches image: the family detected
/// from its preamble and the sketch's answers, as JSON (the documented contract) or text.
public struct SketchSummary: Sendable {
    /// Ranks reported when `--ranks` is not given.
    public static let defaultRanks: [Double] = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]

    public struct Options: Sendable {
        public var ranks: [Double] = SketchSummary.defaultRanks
        public var inclusive = false
        public var errorType: FrequentItemsErrorType = .noFalsePositives
        /// KLL images carry no item type; it is inferred from the image length. An empty
        /// image is the same for both, and is reported as `double` unless this says otherwise.
        public var kllItemType: KLLItemType? = nil
        public init() {}
    }

    public let family: SketchFamily
    public let json: JSONValue
    public let text: String

    /// Decodes `image` and computes its answers; throws ``SketchError`` for a malformed image.
    public init(image: [UInt8], options: Options = Options()) throws(SketchError) {
        family = try SketchFamily.detect(image)
        switch family {
        case .kll:
            let itemType = try KLLImage.itemType(of: image) ?? options.kllItemType ?? .double
            switch itemType {
            case .double:
                (json, text) = Self.summarize(try KLLSketch<Double>(serialized: image), itemType, options)
            case .float:
                (json, text) = Self.summarize(try KLLSketch<Float>(serialized: image), itemType, options)
            }
        case .hll:
            (json, text) = Self.summarize(
                try HLLSketch(serialized: image), compact: image.count > 5 && image[5] & 8 != 0)
        case .frequentItems:
            (json, text) = Self.summarize(try FrequentStringsSketch(serialized: image), options)
        }
    }

    /// The key used for a rank in the `quantiles` object: "0", "0.01", "0.5", "1".
    public static func rankKey(_ rank: Double) -> String {
        JSONValue.format(rank)
    }

    private static func summarize<Item>(
        _ sketch: KLLSketch<Item>, _ itemType: KLLItemType, _ options: Options
    ) -> (JSONValue, String) {
        let values = sketch.quantiles(ranks: options.ranks, inclusive: options.inclusive)
        var quantiles: [(String, JSONValue)] = []
        for (i, rank) in options.ranks.enumerated() {
            quantiles.append((rankKey(rank), .number(values.map { Double($0[i]) })))
        }
        let json = JSONValue.object([
            ("family", .string("kll")),
            ("item_type", .string(itemType.rawValue)),
            ("k", .int(Int64(sketch.k))),
            ("min_k", .int(Int64(sketch.minK))),
            ("n", .uint(sketch.count)),
            ("num_retained", .int(Int64(sketch.numRetained))),
            ("is_empty", .bool(sketch.isEmpty)),
            ("estimation_mode", .bool(sketch.isEstimationMode)),
            ("min", .number(sketch.min.map { Double($0) })),
            ("max", .number(sketch.max.map { Double($0) })),
            ("normalized_rank_error", .double(sketch.normalizedRankError(pmf: false))),
            ("inclusive", .bool(options.inclusive)),
            ("quantiles", .object(quantiles)),
        ])
        var lines: [(String, String)] = [
            ("family", "KLL (\(itemType.rawValue) items)"),
            ("k / min k", "\(sketch.k) / \(sketch.minK)"),
            ("n", "\(sketch.count)"),
            ("retained", "\(sketch.numRetained)"),
            ("min", sketch.min.map { "\(Double($0))" } ?? "-"),
            ("max", sketch.max.map { "\(Double($0))" } ?? "-"),
            ("rank error", "±\(percent(sketch.normalizedRankError(pmf: false))) (99% confidence)"),
        ]
        if sketch.isEmpty { lines.append(("quantiles", "none (empty sketch)")) }
        var text = keyValueLines(lines)
        if let values {
            var table = TextTable("rank", options.inclusive ? "quantile (inclusive)" : "quantile")
            for (i, rank) in options.ranks.enumerated() { table.append(rankKey(rank), "\(Double(values[i]))") }
            text += "\n\n" + table.rendered()
        }
        return (json, text)
    }

    private static func summarize(_ sketch: HLLSketch, compact: Bool) -> (JSONValue, String) {
        func bounds(_ body: (Int) -> Double) -> JSONValue {
            .object((1...3).map { ("\($0)", JSONValue.double(body($0))) })
        }
        let json = JSONValue.object([
            ("family", .string("hll")),
            ("lg_k", .int(Int64(sketch.lgK))),
            ("target_type", .string(sketch.type.name)),
            ("mode", .string(sketch.mode.name)),
            ("compact", .bool(compact)),
            ("is_empty", .bool(sketch.isEmpty)),
            ("out_of_order", .bool(sketch.isOutOfOrder)),
            ("estimate", .double(sketch.estimate)),
            ("lower_bound", bounds { sketch.lowerBound(standardDeviations: $0) }),
            ("upper_bound", bounds { sketch.upperBound(standardDeviations: $0) }),
        ])
        var text = keyValueLines([
            ("family", "HLL (\(sketch.type.name), lg k \(sketch.lgK))"),
            ("mode", sketch.mode.name + (sketch.isOutOfOrder ? " (out of order: composite estimator)" : "")),
            ("image", compact ? "compact" : "updatable"),
            ("estimate", "\(sketch.estimate)"),
            ("relative error", "±\(percent(sketch.relativeStandardError)) (1 standard deviation)"),
        ])
        var table = TextTable("std devs", "lower bound", "upper bound")
        for sd in 1...3 {
            table.append(
                "\(sd)", "\(sketch.lowerBound(standardDeviations: sd))", "\(sketch.upperBound(standardDeviations: sd))")
        }
        text += "\n\n" + table.rendered()
        return (json, text)
    }

    private static func summarize(_ sketch: FrequentStringsSketch, _ options: Options) -> (JSONValue, String) {
        let rows = sortedRows(sketch.frequentItems(errorType: options.errorType))
        let json = JSONValue.object([
            ("family", .string("frequent_items")),
            ("lg_max_map_size", .int(Int64(sketch.lgMaxMapSize))),
            ("lg_cur_map_size", .int(Int64(sketch.lgCurMapSize))),
            ("is_empty", .bool(sketch.isEmpty)),
            ("total_weight", .uint(sketch.totalWeight)),
            ("maximum_error", .uint(sketch.maximumError)),
            ("epsilon", .double(sketch.epsilon)),
            ("num_active", .int(Int64(sketch.numActive))),
            ("error_type", .string(options.errorType.rawValue)),
            ("items", .array(rows.map(rowJSON))),
        ])
        var text = keyValueLines([
            ("family", "frequent items (strings)"),
            ("lg max map size", "\(sketch.lgMaxMapSize)"),
            ("total weight", "\(sketch.totalWeight)"),
            ("maximum error", "\(sketch.maximumError)"),
            ("active items", "\(sketch.numActive)"),
            ("error type", options.errorType.rawValue),
        ])
        var table = TextTable("item", "estimate", "lower bound", "upper bound")
        for row in rows {
            table.append(displayable(row.item), "\(row.estimate)", "\(row.lowerBound)", "\(row.upperBound)")
        }
        text += "\n\n" + (rows.isEmpty ? "no items above the threshold" : table.rendered())
        return (json, text)
    }

    /// Estimate descending, ties by item so that the output is deterministic (the library
    /// leaves tie order unspecified).
    public static func sortedRows(_ rows: [FrequentItemsRow]) -> [FrequentItemsRow] {
        rows.sorted { a, b in
            a.estimate != b.estimate ? a.estimate > b.estimate : a.item.utf8.lexicographicallyPrecedes(b.item.utf8)
        }
    }

    public static func rowJSON(_ row: FrequentItemsRow) -> JSONValue {
        .object([
            ("item", .string(row.item)),
            ("estimate", .uint(row.estimate)),
            ("lower_bound", .uint(row.lowerBound)),
            ("upper_bound", .uint(row.upperBound)),
        ])
    }

    private static func displayable(_ item: String) -> String {
        item.isEmpty ? "\"\"" : JSONValue.string(item).serialized()
    }

    private static func percent(_ fraction: Double) -> String {
        let scaled = (fraction * 10_000).rounded() / 100
        return "\(scaled)%"
    }
}
