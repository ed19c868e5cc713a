internal import Sketches

/// The metric paths of whylogs' standard resolver (FORMATS.md section d; whylogs
/// `core/metrics/metrics.py`, `core/metrics/column_metrics.py`, `core/resolvers.py`).
enum WhylogsPath {
    static let countsN = "counts/n"
    static let countsNull = "counts/null"
    static let countsNaN = "counts/nan"
    static let countsInf = "counts/inf"
    static let countsTrue = "counts/true"
    static let typesIntegral = "types/integral"
    static let typesFractional = "types/fractional"
    static let typesBoolean = "types/boolean"
    static let typesString = "types/string"
    static let typesObject = "types/object"
    static let typesTensor = "types/tensor"
    static let kll = "distribution/kll"
    static let mean = "distribution/mean"
    static let m2 = "distribution/m2"
    static let intsMin = "ints/min"
    static let intsMax = "ints/max"
    static let hll = "cardinality/hll"
    static let frequentStrings = "frequent_items/frequent_strings"

    /// `type_id` of whylogs' min / max aggregating components (`MinIntegralComponent`,
    /// `MaxIntegralComponent` in `core/metrics/metric_components.py`).
    static let minTypeID: UInt32 = 1
    static let maxTypeID: UInt32 = 2
}

/// One whylogs column's standard metrics, decoded and validated: the counters, the moments and
/// the sketches as Driftwatch sketch values. Paths outside the standard set (whylogs'
/// `unicode_range/...`, condition counts, custom metrics) are ignored.
struct WhylogsColumnMetrics: Sendable {
    var count: Int64 = 0
    var nullCount: Int64 = 0
    var nanCount: Int64 = 0
    var infCount: Int64 = 0
    var trueCount: Int64 = 0
    var integral: Int64 = 0
    var fractional: Int64 = 0
    var boolean: Int64 = 0
    var string: Int64 = 0
    var object: Int64 = 0
    var tensor: Int64 = 0
    /// `distribution/kll`: KLL doubles (whylogs default k = 1024).
    var kll: KLLSketch<Double>?
    /// `distribution/mean` and `distribution/m2` (sum of squared deviations from the mean).
    var mean: Double?
    var m2: Double?
    /// `ints/min` / `ints/max`; nil when absent or still at whylogs' empty-aggregator sentinels
    /// (min = +sys.maxsize, max = −sys.maxsize, as in bool columns), i.e. whenever min > max.
    var intMin: Int64?
    var intMax: Int64?
    /// `cardinality/hll`: the raw HLL image (decoded by the mapping).
    var hllImage: [UInt8]?
    /// `frequent_items/frequent_strings`.
    var frequentStrings: FrequentStringsSketch?

    init() {}

    /// Decodes and checks a column's components; `offset` (the column's chunk) is reported in
    /// errors.
    init(column: String, components: [String: WhylogsProfileView.Component], offset: Int) throws(WhylogsError) {
        func integer(_ path: String) throws(WhylogsError) -> Int64? {
            guard let component = components[path] else { return nil }
            switch component.value {
            case .integer(let n): return n
            case .unset: return nil
            default:
                throw .malformed(
                    at: offset, "column '\(column)' \(path): expected an integer (n), found \(component.value.kind)")
            }
        }
        func counter(_ path: String) throws(WhylogsError) -> Int64 {
            let n = try integer(path) ?? 0
            guard n >= 0 else { throw .malformed(at: offset, "column '\(column)' \(path): negative count \(n)") }
            return n
        }
        func double(_ path: String) throws(WhylogsError) -> Double? {
            guard let component = components[path] else { return nil }
            switch component.value {
            case .double(let d): return d
            case .unset: return nil
            default:
                throw .malformed(
                    at: offset, "column '\(column)' \(path): expected a double (d), found \(component.value.kind)")
            }
        }
        func image(_ path: String, _ kind: String) throws(WhylogsError) -> [UInt8]? {
            guard let component = components[path] else { return nil }
            switch (component.value, kind) {
            case (.kll(let bytes), "kll"), (.hll(let bytes), "hll"), (.frequentItems(let bytes), "frequent_items"):
                return bytes
            case (.unset, _): return nil
            default:
                throw .malformed(
                    at: offset, "column '\(column)' \(path): expected a \(kind) sketch, found \(component.value.kind)")
            }
        }

        count = try counter(WhylogsPath.countsN)
        nullCount = try counter(WhylogsPath.countsNull)
        nanCount = try counter(WhylogsPath.countsNaN)
        infCount = try counter(WhylogsPath.countsInf)
        trueCount = try counter(WhylogsPath.countsTrue)
        integral = try counter(WhylogsPath.typesIntegral)
        fractional = try counter(WhylogsPath.typesFractional)
        boolean = try counter(WhylogsPath.typesBoolean)
        string = try counter(WhylogsPath.typesString)
        object = try counter(WhylogsPath.typesObject)
        tensor = try counter(WhylogsPath.typesTensor)
        mean = try double(WhylogsPath.mean)
        m2 = try double(WhylogsPath.m2)

        let minimum = try integer(WhylogsPath.intsMin)
        let maximum = try integer(WhylogsPath.intsMax)
        if let minimum, let maximum, minimum <= maximum {
            intMin = minimum
            intMax = maximum
        }

        if let bytes = try image(WhylogsPath.kll, "kll") {
            do {
                // whylogs 1.x writes doubles (legacy preamble-6 layout when n ≥ 2); whylogs 0.x
                // histograms in v0 messages are floats, widened exactly.
                let doubles =
                    try KLLImage.itemType(of: bytes) == .float ? WhylogsKLLLayout.doubles(fromFloats: bytes) : bytes
                kll = try KLLSketch<Double>(serialized: doubles)
            } catch {
                throw .sketch(column: column, path: WhylogsPath.kll, chunkOffset: offset, error)
            }
        }
        hllImage = try image(WhylogsPath.hll, "hll")
        if let bytes = try image(WhylogsPath.frequentStrings, "frequent_items") {
            do {
                frequentStrings = try FrequentStringsSketch(serialized: bytes)
            } catch {
                throw .sketch(column: column, path: WhylogsPath.frequentStrings, chunkOffset: offset, error)
            }
        }
    }
}

extension WhylogsProfileView.Value {
    /// The oneof field name, for error messages.
    var kind: String {
        switch self {
        case .unset: return "nothing"
        case .integer: return "an integer (n)"
        case .double: return "a double (d)"
        case .frequentItems: return "a frequent_items sketch"
        case .hll: return "an hll sketch"
        case .kll: return "a kll sketch"
        case .cpc: return "a cpc sketch"
        case .serializedBytes: return "serialized_bytes"
        case .dataclassParameters: return "dataclass_param"
        case .message: return "an Any message"
        }
    }
}

extension WhylogsColumnMetrics {
    /// The components whylogs 1.6.4's standard resolver would write for these metrics: the
    /// counters and type counts always; `distribution/*`, `ints/*`, `cardinality/hll` and
    /// `frequent_items/frequent_strings` when present. KLL images are written in the legacy
    /// preamble-6 doubles layout, which is the only one whylogs can read.
    func components() -> [String: WhylogsProfileView.Component] {
        var out: [String: WhylogsProfileView.Component] = [:]
        func put(_ path: String, _ value: WhylogsProfileView.Value, typeID: UInt32 = 0) {
            out[path] = WhylogsProfileView.Component(typeID: typeID, value)
        }
        put(WhylogsPath.countsN, .integer(count))
        put(WhylogsPath.countsNull, .integer(nullCount))
        put(WhylogsPath.countsNaN, .integer(nanCount))
        put(WhylogsPath.countsInf, .integer(infCount))
        put(WhylogsPath.countsTrue, .integer(trueCount))
        put(WhylogsPath.typesIntegral, .integer(integral))
        put(WhylogsPath.typesFractional, .integer(fractional))
        put(WhylogsPath.typesBoolean, .integer(boolean))
        put(WhylogsPath.typesString, .integer(string))
        put(WhylogsPath.typesObject, .integer(object))
        put(WhylogsPath.typesTensor, .integer(tensor))
        if let kll {
            put(WhylogsPath.kll, .kll(WhylogsKLLLayout.legacy(fromStandard: kll.serialized())))
            put(WhylogsPath.mean, .double(mean ?? 0))
            put(WhylogsPath.m2, .double(m2 ?? 0))
        }
        if let intMin, let intMax {
            put(WhylogsPath.intsMin, .integer(intMin), typeID: WhylogsPath.minTypeID)
            put(WhylogsPath.intsMax, .integer(intMax), typeID: WhylogsPath.maxTypeID)
        }
        if let hllImage { put(WhylogsPath.hll, .hll(hllImage)) }
        if let frequentStrings { put(WhylogsPath.frequentStrings, .frequentItems(frequentStrings.serialized())) }
        return out
    }
}
