import Foundation
import Profiles
import Shipping
import Testing

@Suite struct SpoolTests {
    @Test func profilesSurviveReopeningInOrder() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let profiles = (0..<3).map { sampleProfile(window: $0, rows: 5 + $0) }
        do {
            let spool = try Spool(directory: dir)
            for profile in profiles { try spool.add(profile) }
            #expect(spool.statistics.files == 3)
        }
        let reopened = try Spool(directory: dir)
        #expect(reopened.entries.map(\.windowStart) == profiles.map(\.windowStart))
        let loaded = reopened.entries.compactMap { reopened.load($0)?.profile }
        #expect(loaded.map(\.uploadID) == profiles.map(\.uploadID))
        #expect(loaded.map(\.rowCount) == [5, 6, 7])
        #expect(!files(in: dir).contains { $0.hasSuffix(".tmp") })
        // New profiles continue the sequence after the reopened ones.
        let next = try #require(try reopened.add(sampleProfile(window: 9)))
        #expect(next.sequence > reopened.entries.dropLast().map(\.sequence).max()!)
    }

    @Test func corruptFilesAreQuarantinedNotFatal() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good: SpoolEntry
        do {
            let spool = try Spool(directory: dir)
            good = try #require(try spool.add(sampleProfile(window: 0)))
            let other = try #require(try spool.add(sampleProfile(window: 1)))
            // Truncate the second file as a crash mid-write on a filesystem without rename atomicity would.
            let path = spool.path(of: other)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        }
        try Data("not a profile".utf8).write(
            to: URL(fileURLWithPath: dir + "/000000000007_0_300000_0000000000000001.dwp"))
        try Data("stray".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        try Data("half".utf8).write(to: URL(fileURLWithPath: dir + "/.000000000008_0_1_0000000000000001.dwp.123.tmp"))

        let spool = try Spool(directory: dir)
        #expect(spool.entries == [good])
        #expect(spool.statistics.quarantined == 3)
        #expect(files(in: spool.corruptDirectory).count == 3)
        #expect(!files(in: dir).contains { $0.hasSuffix(".tmp") })  // the unfinished write is gone
        #expect(spool.load(good)?.profile.rowCount == 10)
    }

    @Test func aFullSpoolMergesSameStreamWindowsBeforeDropping() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try Spool(directory: dir, limits: SpoolLimits(maxBytes: 1 << 30, maxFiles: 4))
        // Four 5-minute windows of one hour (10 rows each), then one in the next hour.
        for i in 0..<4 { try spool.add(sampleProfile(window: i)) }
        try spool.add(sampleProfile(window: 12))
        #expect(spool.statistics.merged == 4)
        #expect(spool.statistics.dropped == 0)
        #expect(spool.entries.count == 2)
        let merged = try #require(spool.load(spool.entries[0])?.profile)
        #expect(merged.windowStart == baseTime && merged.windowLength == 3_600_000)
        #expect(merged.rowCount == 40)
        #expect(merged.columns["amount"]?.numeric?.max == 10)
        #expect(merged.metadata["driftwatch.spool_merged"] == "4")
        #expect(spool.load(spool.entries[1])?.profile.windowStart == baseTime + 12 * fiveMinutes)
    }

    @Test func aFullSpoolDropsTheOldestWhenNothingMerges() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try Spool(directory: dir, limits: SpoolLimits(maxBytes: 1 << 30, maxFiles: 3))
        // Different segments are different streams: nothing merges.
        let profiles = (0..<5).map { sampleProfile(window: 0, segment: Segment(["region": "r\($0)"])) }
        for profile in profiles { try spool.add(profile) }
        #expect(spool.statistics.dropped == 2)
        #expect(spool.statistics.merged == 0)
        let kept = spool.entries.compactMap { spool.load($0)?.profile.uploadID }
        #expect(kept == profiles.suffix(3).map(\.uploadID))
    }

    @Test func theByteBoundHoldsToo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size = NativeCodec.encode(sampleProfile(window: 0, segment: Segment(["region": "r0"]))).count
        let spool = try Spool(directory: dir, limits: SpoolLimits(maxBytes: size * 2 + size / 2, maxFiles: 100))
        for i in 0..<6 { try spool.add(sampleProfile(window: 0, segment: Segment(["region": "r\(i)"]))) }
        #expect(spool.statistics.files == 2)
        #expect(spool.statistics.bytes <= size * 2 + size / 2)
        #expect(spool.statistics.dropped == 4)
        // A profile larger than the whole bound is dropped on arrival.
        let tiny = try Spool(directory: try temporaryDirectory(), limits: SpoolLimits(maxBytes: 10, maxFiles: 10))
        #expect(try tiny.add(sampleProfile(window: 0)) == nil)
        #expect(tiny.statistics.dropped == 1)
    }

    @Test func rejectedFilesKeepTheServersMessage() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try Spool(directory: dir)
        let entry = try #require(try spool.add(sampleProfile(window: 0)))
        spool.reject(entry, status: 400, message: "HTTP 400 bad_profile: no columns")
        #expect(spool.entries.isEmpty)
        #expect(files(in: spool.rejectedDirectory) == [entry.name, entry.name + ".reason.json"])
        let reason =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(fileURLWithPath: spool.rejectedDirectory + "/" + entry.name + ".reason.json")))
            as? [String: Any]
        #expect(reason?["status"] as? Int == 400)
        #expect(reason?["message"] as? String == "HTTP 400 bad_profile: no columns")
        #expect(try Spool(directory: dir).entries.isEmpty)  // never sent again
    }

    @Test func refusesAnUnusableDirectory() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        #expect(throws: ShippingError.self) { try Spool(directory: dir + "/file") }
        #expect(throws: ShippingError.self) { try Spool(directory: dir, limits: SpoolLimits(maxBytes: 0, maxFiles: 1)) }
    }
}
