import DriftTestSupport
import Foundation
import Testing

@testable import Storage

@Suite("Migrations")
struct MigrationTests {
    @Test func bundledMigrationsApplyOnceAndCreateTheSchema() throws {
        let database = try TestDatabase.create("migrate", migrated: false)
        let connection = try database.connect()
        let migrator = try Migrator.bundled()
        #expect(migrator.migrations.first?.version == 1 && migrator.migrations.first?.name == "initial")
        #expect(try migrator.status(connection) == Migrator.Status(applied: [], pending: migrator.migrations))
        #expect(try migrator.migrate(connection).map(\.version) == migrator.migrations.map(\.version))
        #expect(try migrator.migrate(connection).isEmpty)
        #expect(try migrator.status(connection).isCurrent)
        let tables = try connection.query(
            """
            SELECT array_agg(relname::text ORDER BY relname) FROM pg_class
            WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace AND NOT relispartition
            """)[0].decodeArray(String.self, at: 0)
        #expect(
            tables == [
                "alert_groups", "alert_states", "baselines", "metrics", "notifications", "raw_profiles", "rollup_ledger",
                "rollups", "schema_migrations", "silences", "streams", "tokens",
            ])
    }

    @Test func concurrentStartersApplyEachMigrationOnce() async throws {
        let database = try TestDatabase.create("migraterace", migrated: false)
        let migrator = try Migrator.bundled()
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let pool = database.pool(maxConnections: 1)
                    defer { pool.close() }
                    return try await migrator.migrate(pool).count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(applied == migrator.migrations.count)
        let recorded = try database.connect().query("SELECT count(*) FROM schema_migrations").scalar(Int.self)
        #expect(recorded == migrator.migrations.count)
    }

    @Test func anAppliedMigrationThatChangedIsRefused() throws {
        let database = try TestDatabase.create("migratechanged", migrated: false)
        let connection = try database.connect()
        let original = Migrator(migrations: [
            Migration(version: 1, name: "one", sql: "CREATE TABLE one (v int)"),
            Migration(version: 2, name: "two", sql: "CREATE TABLE two (v int)"),
        ])
        try original.migrate(connection)
        let edited = Migrator(migrations: [
            Migration(version: 1, name: "one", sql: "CREATE TABLE one (v int8)"),
            Migration(version: 2, name: "two", sql: "CREATE TABLE two (v int)"),
            Migration(version: 3, name: "three", sql: "CREATE TABLE three (v int)"),
        ])
        let error = #expect(throws: StorageError.self) { try edited.migrate(connection) }
        #expect(error?.code == .migration && error?.message.contains("migration 1 (one) was changed") == true)
        #expect(throws: StorageError.self) { try edited.status(connection) }
        // Nothing after the refusal ran.
        #expect(try connection.query("SELECT to_regclass('three') IS NULL").scalar(Bool.self))
    }

    @Test func aDatabaseFromANewerBuildIsRefused() throws {
        let database = try TestDatabase.create("migratenewer", migrated: false)
        let connection = try database.connect()
        let newer = Migrator(migrations: [
            Migration(version: 1, name: "one", sql: "CREATE TABLE one (v int)"),
            Migration(version: 2, name: "two", sql: "CREATE TABLE two (v int)"),
        ])
        try newer.migrate(connection)
        let older = Migrator(migrations: [Migration(version: 1, name: "one", sql: "CREATE TABLE one (v int)")])
        let error = #expect(throws: StorageError.self) { try older.migrate(connection) }
        #expect(error?.code == .migration && error?.message.contains("migration 2 (two)") == true)
    }

    @Test func migrationsLoadFromADirectoryByNumericPrefix() throws {
        let directory =
            NSTemporaryDirectory() + "driftwatch-migrations-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "CREATE TABLE b (v int);".write(toFile: directory + "/0010_second.sql", atomically: true, encoding: .utf8)
        try "CREATE TABLE a (v int);".write(
            toFile: directory + "/0002_first_one.sql", atomically: true, encoding: .utf8)
        try "not a migration".write(toFile: directory + "/README.md", atomically: true, encoding: .utf8)
        let migrator = try Migrator.load(directory: directory)
        #expect(migrator.migrations.map(\.version) == [2, 10])
        #expect(migrator.migrations.map(\.name) == ["first_one", "second"])
        try "SELECT 1;".write(toFile: directory + "/latest.sql", atomically: true, encoding: .utf8)
        let error = #expect(throws: StorageError.self) { try Migrator.load(directory: directory) }
        #expect(error?.code == .migration && error?.message.contains("latest.sql") == true)
    }

    @Test func aFailingMigrationLeavesNoTrace() throws {
        let database = try TestDatabase.create("migratefail", migrated: false)
        let connection = try database.connect()
        let migrator = Migrator(migrations: [
            Migration(version: 1, name: "good", sql: "CREATE TABLE good (v int)"),
            Migration(version: 2, name: "bad", sql: "CREATE TABLE half (v int); SELECT no_such_function();"),
        ])
        let error = #expect(throws: StorageError.self) { try migrator.migrate(connection) }
        #expect(error?.sqlState == "42883" && error?.message.contains("migration 2 (bad) failed") == true)
        #expect(try connection.query("SELECT to_regclass('half') IS NULL").scalar(Bool.self))
        #expect(try migrator.status(connection).applied == [1])
        #expect(connection.transactionState == .idle)
    }
}
