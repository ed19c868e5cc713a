internal import CoreMetrics

/// The shipper's counters and gauges in swift-metrics. Names (Prometheus style) are documented
/// in docs/shipping.md:
///
/// | name | kind |
/// |---|---|
/// | `driftwatch_shipping_profiles_shipped_total` | counter |
/// | `driftwatch_shipping_profiles_retried_total` | counter (failed attempts to be retried) |
/// | `driftwatch_shipping_profiles_rejected_total` | counter |
/// | `driftwatch_shipping_profiles_dropped_total` | counter |
/// | `driftwatch_shipping_profiles_merged_total` | counter |
/// | `driftwatch_shipping_spool_files` | gauge |
/// | `driftwatch_shipping_spool_bytes` | gauge |
/// | `driftwatch_shipping_last_success_timestamp_seconds` | gauge (Unix time) |
struct ShippingMetrics: Sendable {
    let shipped: Counter
    let retried: Counter
    let rejected: Counter
    let dropped: Counter
    let merged: Counter
    let spoolFiles: Gauge
    let spoolBytes: Gauge
    let lastSuccess: Gauge

    init(dimensions: [(String, String)], factory: (any MetricsFactory)?) {
        func counter(_ label: String) -> Counter {
            if let factory { return Counter(label: label, dimensions: dimensions, factory: factory) }
            return Counter(label: label, dimensions: dimensions)
        }
        func gauge(_ label: String) -> Gauge {
            if let factory { return Gauge(label: label, dimensions: dimensions, factory: factory) }
            return Gauge(label: label, dimensions: dimensions)
        }
        shipped = counter("driftwatch_shipping_profiles_shipped_total")
        retried = counter("driftwatch_shipping_profiles_retried_total")
        rejected = counter("driftwatch_shipping_profiles_rejected_total")
        dropped = counter("driftwatch_shipping_profiles_dropped_total")
        merged = counter("driftwatch_shipping_profiles_merged_total")
        spoolFiles = gauge("driftwatch_shipping_spool_files")
        spoolBytes = gauge("driftwatch_shipping_spool_bytes")
        lastSuccess = gauge("driftwatch_shipping_last_success_timestamp_seconds")
    }

    /// Increments counters by what changed since `previous` and sets the gauges.
    func publish(_ current: ShippingStatistics, previous: ShippingStatistics) {
        func add(_ counter: Counter, _ delta: Int64) { if delta > 0 { counter.increment(by: delta) } }
        add(shipped, current.shipped - previous.shipped)
        add(retried, current.retried - previous.retried)
        add(rejected, current.rejected - previous.rejected)
        add(dropped, current.dropped - previous.dropped)
        add(merged, current.merged - previous.merged)
        spoolFiles.record(current.spoolFiles)
        spoolBytes.record(current.spoolBytes)
        if let last = current.lastSuccessMilliseconds, last != previous.lastSuccessMilliseconds {
            lastSuccess.record(Double(last) / 1000)
        }
    }
}
