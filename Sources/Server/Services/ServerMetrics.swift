import Prometheus
import Storage

/// The daemon's own metrics, exposed at `/metrics` in Prometheus' text format. Names are
/// listed in docs/operations.md ("Metrics").
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    let uploadsAccepted: Counter
    let uploadsDuplicate: Counter
    let uploadsRejected: Counter
    let ingestLatency: DurationHistogram
    let ingestBytes: Counter
    let rollupProfiles: Counter
    let rollupSetAside: Counter
    let rollupErrors: Counter
    let rollupPending: Gauge
    let metricWindows: Counter
    let metricRows: Counter
    let metricErrors: Counter
    let notificationsSent: Counter
    let notificationsRetried: Counter
    let notificationsFailed: Counter
    let notificationsPending: Gauge
    let notificationsOldestPending: Gauge
    let alertsFiring: Gauge
    let alertsPending: Gauge
    let alertsMuted: Gauge
    let silencesActive: Gauge
    let poolOpen: Gauge
    let poolInUse: Gauge
    let poolWaiting: Gauge
    let poolReconnects: Gauge

    init() {
        let registry = self.registry
        // Full names in `metricName`: the descriptor joins its non-empty parts with "_".
        func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: descriptor(name, help), labels: labels)
        }
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: descriptor(name, help), labels: labels)
        }
        uploadsAccepted = counter(
            "drift_ingest_uploads_total", "Profile uploads by outcome.", [("outcome", "accepted")])
        uploadsDuplicate = counter(
            "drift_ingest_uploads_total", "Profile uploads by outcome.", [("outcome", "duplicate")])
        uploadsRejected = counter(
            "drift_ingest_uploads_total", "Profile uploads by outcome.", [("outcome", "rejected")])
        ingestLatency = registry.makeDurationHistogram(
            descriptor: descriptor("drift_ingest_duration_seconds", "Time from a complete upload body to its COMMIT."),
            labels: [],
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(5),
            ])
        ingestBytes = counter("drift_ingest_bytes_total", "Bytes of accepted profile uploads.")
        rollupProfiles = counter("drift_rollup_profiles_total", "Raw profiles merged into rollups.")
        rollupSetAside = counter(
            "drift_rollup_set_aside_total", "Raw profiles that could not be merged (see rollup_error).")
        rollupErrors = counter("drift_rollup_errors_total", "Rollup passes that failed (retried).")
        rollupPending = gauge("drift_rollup_pending_profiles", "Raw profiles not yet merged (rollup lag).")
        metricWindows = counter("drift_metric_windows_total", "Rollup windows whose metrics were computed.")
        metricRows = counter("drift_metric_rows_total", "Metric rows written.")
        metricErrors = counter("drift_metric_errors_total", "Metric passes that failed (retried).")
        notificationsSent = counter(
            "drift_notifications_total", "Notification deliveries by outcome.", [("outcome", "sent")])
        notificationsRetried = counter(
            "drift_notifications_total", "Notification deliveries by outcome.", [("outcome", "retried")])
        notificationsFailed = counter(
            "drift_notifications_total", "Notification deliveries by outcome.", [("outcome", "failed")])
        notificationsPending = gauge(
            "drift_notifications_pending", "Notifications in the outbox not yet delivered (all replicas).")
        notificationsOldestPending = gauge(
            "drift_notifications_oldest_pending_age_seconds", "Age of the oldest undelivered notification (0: none).")
        alertsFiring = gauge("drift_alerts", "Current alerts by state (all projects).", [("state", "firing")])
        alertsPending = gauge("drift_alerts", "Current alerts by state (all projects).", [("state", "pending")])
        alertsMuted = gauge("drift_alerts_muted", "Firing alerts a silence or an inhibition rule mutes.")
        silencesActive = gauge("drift_silences_active", "Silences in force (all projects).")
        poolOpen = gauge("drift_db_pool_connections_open", "Open database connections.")
        poolInUse = gauge("drift_db_pool_connections_in_use", "Database connections in use.")
        poolWaiting = gauge("drift_db_pool_waiters", "Tasks waiting for a database connection.")
        poolReconnects = gauge("drift_db_pool_reconnects", "Database reconnections since start.")
    }

    /// The text exposition, with the pool's gauges read now.
    func exposition(pool: ConnectionPool) -> String {
        let m = pool.metrics
        poolOpen.set(Double(m.open))
        poolInUse.set(Double(m.inUse))
        poolWaiting.set(Double(m.waiting))
        poolReconnects.set(Double(m.reconnects))
        return registry.emitToString()
    }
}
