import Testing

@testable import Storage

@Suite("Database source")
struct DatabaseSourceTests {
    @Test(
        arguments: [
            // The flag wins over everything.
            (
                Optional("postgresql://a/b"), ["DRIFT_DATABASE_URL": "host=c", "PGHOST": "d"],
                DatabaseSource.conninfo("postgresql://a/b")
            ),
            // An empty flag counts as absent; DRIFT_DATABASE_URL is next.
            ("", ["DRIFT_DATABASE_URL": "host=c", "PGHOST": "d"], .conninfo("host=c")),
            // libpq's variables: an empty conninfo lets libpq read them (and ~/.pgpass).
            (nil, ["PGDATABASE": "drift"], .conninfo("")),
            (nil, ["PGSERVICE": "prod"], .conninfo("")),
            // An empty variable is not a configuration.
            (nil, ["PGHOST": "", "DRIFT_DATABASE_URL": ""], .embedded(directory: "/var/lib/drift/postgres")),
            // Nothing configured (PGPASSWORD alone names no server): the private cluster.
            (nil, ["PGPASSWORD": "x", "HOME": "/root"], .embedded(directory: "/var/lib/drift/postgres")),
        ] as [(String?, [String: String], DatabaseSource)])
    func resolvesInDocumentedOrder(flag: String?, environment: [String: String], expected: DatabaseSource) {
        #expect(
            DatabaseSource.resolve(flag: flag, environment: environment, dataDirectory: "/var/lib/drift/") == expected)
    }
}
