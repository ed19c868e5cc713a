/// A column registered with a ``Profiler``: logging through it skips the name lookup.
public struct ColumnID: Sendable, Hashable {
    public let name: String
    let index: Int
}

/// The open window a row is being logged into, handed to the body of
/// ``Profiler/log(at:segment:_:)``. Setting a value updates that column's sketches in place.
///
/// Valid only inside the body; the body runs under the shard's lock, so it must be short and
/// must not call back into the profiler.
public struct ProfilerRow: Sendable {
    let config: ProfileConfig
    /// By column index; a column this window has not seen has count 0 (and is left out of
    /// the profile). Non-optional so that updates reach the value in place.
    var columns: [ColumnProfile] = []
    var performance: PerformanceProfile?
    var latency: LatencyProfile?
    var rows: Int64 = 0

    init(config: ProfileConfig) {
        self.config = config
    }

    @inline(__always)
    mutating func withColumn(_ index: Int, _ body: (inout ColumnProfile) -> Void) {
        if index >= columns.count {
            for _ in columns.count...index { columns.append(ColumnProfile(config: config)) }
        }
        body(&columns[index])
    }

    public mutating func set(_ column: ColumnID, _ value: Double) {
        withColumn(column.index) { $0.update(double: value) }
    }

    public mutating func set(_ column: ColumnID, _ value: Int) {
        withColumn(column.index) { $0.update(int: Int64(value)) }
    }

    public mutating func set(_ column: ColumnID, _ value: Int64) {
        withColumn(column.index) { $0.update(int: value) }
    }

    public mutating func set(_ column: ColumnID, _ value: Bool) {
        withColumn(column.index) { $0.update(bool: value) }
    }

    public mutating func set(_ column: ColumnID, _ value: String) {
        withColumn(column.index) { $0.update(string: value) }
    }

    public mutating func set(_ column: ColumnID, _ value: Value) {
        withColumn(column.index) { $0.update(value) }
    }

    /// Records that the column had no value in this row.
    public mutating func setNull(_ column: ColumnID) {
        withColumn(column.index) { $0.updateNull() }
    }
}
