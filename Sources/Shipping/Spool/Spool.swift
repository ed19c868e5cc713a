import Foundation
public import Logging
public import Profiles

/// How much a ``Spool`` may hold. Plain data.
public struct SpoolLimits: Sendable, Equatable {
    /// Most bytes of profile files. Default 64 MiB.
    public var maxBytes: Int
    /// Most profile files. Default 2,000 (a week of 5-minute windows for one segment).
    public var maxFiles: Int

    public init(maxBytes: Int = 64 << 20, maxFiles: Int = 2000) {
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
    }
}

/// One profile file in the spool. Its name carries everything the spool needs without
/// reading it: `SEQUENCE_WINDOWSTART_WINDOWLENGTH_STREAM.dwp`, where the sequence gives the
/// order profiles were spooled in, the window is in milliseconds since the epoch, and the stream
/// is a stable 64-bit hash of (model, version, segment), in hex.
public struct SpoolEntry: Sendable, Hashable {
    public let sequence: UInt64
    public let windowStart: Int64
    public let windowLength: Int64
    public let stream: UInt64
    public let size: Int

    public var name: String {
        let seq = String(sequence)
        let hex = String(stream, radix: 16)
        return String(repeating: "0", count: Swift.max(0, 12 - seq.count)) + seq + "_\(windowStart)_\(windowLength)_"
            + String(repeating: "0", count: 16 - hex.count) + hex + ".dwp"
    }

    /// Parses a spool file name (nil when it is not one).
    init?(name: String, size: Int) {
        guard name.hasSuffix(".dwp") else { return nil }
        let parts = name.dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 4, let sequence = UInt64(parts[0]), let start = Int64(parts[1]),
            let length = Int64(parts[2]), length >= 0, parts[3].count == 16, let stream = UInt64(parts[3], radix: 16)
        else { return nil }
        self.init(sequence: sequence, windowStart: start, windowLength: length, stream: stream, size: size)
    }

    init(sequence: UInt64, windowStart: Int64, windowLength: Int64, stream: UInt64, size: Int) {
        self.sequence = sequence
        self.windowStart = windowStart
        self.windowLength = windowLength
        self.stream = stream
        self.size = size
    }
}

/// Counters of what a ``Spool`` has done since it was opened.
public struct SpoolStatistics: Sendable, Equatable {
    public var files = 0
    public var bytes = 0
    /// Profiles dropped (oldest first) because the spool was full even after merging.
    public var dropped: Int64 = 0
    /// Profiles folded into a merged profile to make room.
    public var merged: Int64 = 0
    /// Unreadable files moved to `corrupt/`.
    public var quarantined: Int64 = 0
    /// Files moved to `rejected/`.
    public var rejected: Int64 = 0

    public init() {}
}

/// A directory of profiles waiting to be uploaded, durable across crashes.
///
/// - Every profile is written before any upload (temporary file, fsync, rename, fsync of the
///   directory), and deleted only once the server acknowledged it (``remove(_:)``).
/// - Bounded by ``SpoolLimits``: when adding would exceed a bound, the spool first merges the
///   oldest group of profiles of the same stream and window length that fall in the same hour
///   (then the same day) into one profile of that hour (day) — sketches merge, so counts,
///   quantiles and cardinalities of the union are kept, only time resolution is lost. Only
///   when nothing can be merged does it drop the oldest profile, counting and logging each drop.
/// - Files the server refused for good go to `rejected/` with a `.reason.json` beside them;
///   files that cannot be read as profiles go to `corrupt/`. Neither is ever sent again.
///
/// Not thread-safe: one owner (the ``Shipper``'s thread) uses it.
public final class Spool {
    public let directory: String
    public let limits: SpoolLimits
    public var rejectedDirectory: String { directory + "/rejected" }
    public var corruptDirectory: String { directory + "/corrupt" }

    /// Profiles in spool order (oldest first).
    public private(set) var entries: [SpoolEntry] = []
    public private(set) var statistics = SpoolStatistics()
    /// Entries whose upload may have reached the server (a lost response): they are not merged,
    /// because the merged profile would carry a new upload id and count them twice.
    var possiblyDelivered: Set<UInt64> = []
    private var nextSequence: UInt64 = 1
    private let logger: Logger

    /// Opens (creating it when needed) a spool directory and indexes what it holds. Leftover
    /// temporary files of an interrupted write are removed; files that are not spool profiles,
    /// or whose bytes do not decode, are moved to `corrupt/` and logged.
    ///
    /// - Throws: ``ShippingError`` when the directory cannot be created or listed.
    public init(
        directory: String, limits: SpoolLimits = .init(), logger: Logger = Logger(label: "driftwatch.shipping.spool")
    ) throws(ShippingError) {
        guard limits.maxBytes > 0, limits.maxFiles > 0 else {
            throw ShippingError(
                "spool limits must be positive (maxBytes \(limits.maxBytes), maxFiles \(limits.maxFiles))")
        }
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.limits = limits
        self.logger = logger
        try FileSystem.createDirectory(self.directory)
        try FileSystem.createDirectory(rejectedDirectory)
        try FileSystem.createDirectory(corruptDirectory)
        for name in try FileSystem.list(self.directory) {
            let path = "\(self.directory)/\(name)"
            if name.hasPrefix("."), name.hasSuffix(".tmp") {
                FileSystem.remove(path)  // an interrupted write: the profile is in memory of a dead process only
                logger.notice("spool: removed the unfinished write \(name)")
                continue
            }
            guard let size = FileSystem.regularFileSize(path) else { continue }  // rejected/, corrupt/
            guard let entry = SpoolEntry(name: name, size: size) else {
                quarantine(name, reason: "not a spool file name")
                continue
            }
            guard let bytes = FileSystem.read(path) else {
                quarantine(name, reason: "unreadable")
                continue
            }
            do {
                _ = try NativeCodec.decode(bytes)
            } catch {
                quarantine(name, reason: error.description)
                continue
            }
            entries.append(entry)
            nextSequence = Swift.max(nextSequence, entry.sequence + 1)
        }
        entries.sort { $0.sequence < $1.sequence }
        refreshTotals()
        if !entries.isEmpty {
            logger.info("spool: \(entries.count) profiles (\(statistics.bytes) bytes) waiting from an earlier run")
        }
    }

    /// Writes a profile durably, making room first if the spool is full.
    ///
    /// - Returns: the new entry, or nil when the profile alone is larger than the byte bound
    ///   (it is dropped, counted and logged).
    /// - Throws: ``ShippingError`` when the file cannot be written (disk full, permissions).
    @discardableResult
    public func add(_ profile: DatasetProfile) throws(ShippingError) -> SpoolEntry? {
        let bytes = NativeCodec.encode(profile)
        guard bytes.count <= limits.maxBytes else {
            statistics.dropped += 1
            logger.error(
                "spool: dropped profile \(profile.uploadID) of \(profile.model) (\(bytes.count) bytes alone exceed the \(limits.maxBytes)-byte bound); \(statistics.dropped) dropped so far"
            )
            return nil
        }
        makeRoom(for: bytes.count)
        let entry = SpoolEntry(
            sequence: nextSequence, windowStart: profile.windowStart, windowLength: profile.windowLength,
            stream: Self.streamHash(profile), size: bytes.count)
        try FileSystem.writeDurably(bytes, directory: directory, name: entry.name)
        nextSequence += 1
        entries.append(entry)
        refreshTotals()
        return entry
    }

    /// Reads and decodes an entry. A file that is gone or no longer decodes is moved to
    /// `corrupt/` (logged) and nil is returned.
    public func load(_ entry: SpoolEntry) -> (bytes: [UInt8], profile: DatasetProfile)? {
        guard let bytes = FileSystem.read(path(of: entry)) else {
            forget(entry)
            logger.error("spool: \(entry.name) vanished or is unreadable; skipped")
            return nil
        }
        do {
            return (bytes, try NativeCodec.decode(bytes))
        } catch {
            forget(entry)
            quarantine(entry.name, reason: error.description)
            return nil
        }
    }

    /// Deletes an acknowledged entry.
    public func remove(_ entry: SpoolEntry) {
        FileSystem.remove(path(of: entry))
        FileSystem.syncDirectory(directory)
        forget(entry)
    }

    /// Moves an entry the server refused for good to `rejected/`, with the server's message in
    /// `NAME.reason.json` beside it.
    public func reject(_ entry: SpoolEntry, status: Int, message: String) {
        let reason: [String: Any] = [
            "status": status, "message": message, "rejected_at_ms": Clock.nowMilliseconds(), "file": entry.name,
        ]
        if let json = try? JSONSerialization.data(withJSONObject: reason, options: [.sortedKeys]) {
            try? FileSystem.writeDurably(Array(json), directory: rejectedDirectory, name: entry.name + ".reason.json")
        }
        do {
            try FileSystem.move(path(of: entry), to: "\(rejectedDirectory)/\(entry.name)")
        } catch {
            logger.error("spool: \(error.description); deleting it instead")
            FileSystem.remove(path(of: entry))
        }
        FileSystem.syncDirectory(directory)
        forget(entry)
        statistics.rejected += 1
        logger.error("spool: server rejected \(entry.name) (\(message)); moved to rejected/")
    }

    public func path(of entry: SpoolEntry) -> String { "\(directory)/\(entry.name)" }

    // MARK: Bounds

    /// The window granularities the spool merges into, finest first: an hour, then a day.
    static let mergeGranularities: [Int64] = [3_600_000, 86_400_000]

    private func makeRoom(for size: Int) {
        while !entries.isEmpty && (entries.count + 1 > limits.maxFiles || statistics.bytes + size > limits.maxBytes) {
            if !mergeOldestGroup() { dropOldest() }
        }
    }

    private func dropOldest() {
        let oldest = entries[0]
        FileSystem.remove(path(of: oldest))
        forget(oldest)
        statistics.dropped += 1
        logger.error(
            "spool: full (\(limits.maxFiles) files / \(limits.maxBytes) bytes) and nothing left to merge; dropped the oldest profile \(oldest.name); \(statistics.dropped) dropped so far"
        )
    }

    /// Merges the oldest group of ≥ 2 mergeable entries at the finest granularity that has one.
    /// Returns whether the spool shrank.
    private func mergeOldestGroup() -> Bool {
        for granularity in Self.mergeGranularities {
            var groups: [MergeKey: [SpoolEntry]] = [:]
            for entry in entries where entry.windowLength > 0 && entry.windowLength <= granularity {
                guard !possiblyDelivered.contains(entry.sequence) else { continue }
                let bucket = Self.floor(entry.windowStart, granularity)
                guard Self.floor(entry.windowStart + entry.windowLength - 1, granularity) == bucket else { continue }
                groups[MergeKey(stream: entry.stream, windowLength: entry.windowLength, bucket: bucket), default: []]
                    .append(entry)
            }
            let candidates = groups.filter { $0.value.count >= 2 }
            guard let (key, members) = candidates.min(by: { $0.value[0].sequence < $1.value[0].sequence }) else {
                continue
            }
            if merge(members, bucket: key.bucket, granularity: granularity) { return true }
        }
        return false
    }

    private func merge(_ members: [SpoolEntry], bucket: Int64, granularity: Int64) -> Bool {
        var merged: DatasetProfile?
        var used: [SpoolEntry] = []
        for entry in members {
            guard let (_, profile) = load(entry) else { continue }  // quarantined: the spool shrank anyway
            guard var combined = merged else {
                merged = profile
                used.append(entry)
                continue
            }
            if (try? combined.merge(profile)) != nil {
                merged = combined
                used.append(entry)
            }
        }
        guard var merged, used.count >= 2 else { return used.count < members.count }
        merged.windowStart = bucket
        merged.windowLength = granularity
        merged.uploadID = .random()
        let count = used.count + (Int(merged.metadata["driftwatch.spool_merged"] ?? "") ?? 1) - 1
        merged.metadata["driftwatch.spool_merged"] = String(count)
        let bytes = NativeCodec.encode(merged)
        let entry = SpoolEntry(
            sequence: used[0].sequence, windowStart: bucket, windowLength: granularity, stream: used[0].stream,
            size: bytes.count)
        do {
            // Written before the originals go: a crash in between may upload the rows twice, never lose them.
            try FileSystem.writeDurably(bytes, directory: directory, name: entry.name)
        } catch {
            logger.error("spool: cannot write a merged profile: \(error.description)")
            return false
        }
        for old in used {
            if old.name != entry.name { FileSystem.remove(path(of: old)) }
            forget(old)
        }
        FileSystem.syncDirectory(directory)
        entries.append(entry)
        entries.sort { $0.sequence < $1.sequence }
        statistics.merged += Int64(used.count)
        refreshTotals()
        logger.warning(
            "spool: full; merged \(used.count) profiles of \(merged.model) into one for [\(bucket), +\(granularity) ms)"
        )
        return true
    }

    // MARK: Internals

    private struct MergeKey: Hashable {
        var stream: UInt64
        var windowLength: Int64
        var bucket: Int64
    }

    private static func floor(_ value: Int64, _ step: Int64) -> Int64 {
        value >= 0 ? value / step * step : ((value + 1) / step - 1) * step
    }

    private func forget(_ entry: SpoolEntry) {
        entries.removeAll { $0.sequence == entry.sequence && $0.name == entry.name }
        possiblyDelivered.remove(entry.sequence)
        refreshTotals()
    }

    private func refreshTotals() {
        statistics.files = entries.count
        statistics.bytes = entries.reduce(0) { $0 + $1.size }
    }

    private func quarantine(_ name: String, reason: String) {
        do {
            try FileSystem.move("\(directory)/\(name)", to: "\(corruptDirectory)/\(name)")
            statistics.quarantined += 1
            logger.error("spool: \(name) is not a readable profile (\(reason)); moved to corrupt/")
        } catch {
            logger.error("spool: \(name) is not a readable profile (\(reason)) and \(error.description)")
        }
    }

    /// A stable 64-bit FNV-1a hash of (model, version, segment): the stream a profile belongs
    /// to. (FNV-1a: Fowler, Noll, Vo; offset basis 0xcbf29ce484222325, prime 0x100000001b3.)
    static func streamHash(_ profile: DatasetProfile) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [profile.model, profile.modelVersion ?? "", profile.segment.description] {
            for byte in part.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            hash = (hash ^ 0xff) &* 0x0000_0100_0000_01b3  // separator: ("ab","c") ≠ ("a","bc")
        }
        return hash
    }
}
