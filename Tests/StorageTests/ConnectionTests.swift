import DriftTestSupport
import Profiles
import Testing

@testable import Storage

@Suite("PostgreSQL connection")
struct ConnectionTests {
    let database: TestDatabase

    init() throws { database = try TestDatabase.shared("connection") }

    @Test func everyByteValueRoundTripsAsBytea() throws {
        let connection = try database.connect()
        let bytes = (0...255).map(UInt8.init) + [0, 0, 255]
        let row = try connection.query(
            """
            SELECT $1::bytea, length($1::bytea),
                   (SELECT sum(get_byte($1::bytea, i)) FROM generate_series(0, length($1::bytea) - 1) i)::int8
            """, [.bytea(bytes)])[0]
        #expect(try row.decode([UInt8].self, at: 0) == bytes)
        // The server saw exactly these bytes, not an echo of an encoding.
        #expect(try row.decode(Int.self, at: 1) == 259)
        #expect(try row.decode(Int64.self, at: 2) == Int64((0...255).reduce(0, +) + 255))
        // The text (hex) format decodes to the same bytes, and the empty bytea is not NULL.
        let text = try connection.query("SELECT $1::bytea, $2::bytea", [.bytea(bytes), .bytea([])], format: .text)[0]
        #expect(try text.decode([UInt8].self, at: 0) == bytes)
        #expect(try text.decode([UInt8]?.self, at: 1) == [])
    }

    @Test func textAndNumbersRoundTripExactly() throws {
        let connection = try database.connect()
        let strings = [
            "", "ascii", "naïve café", "日本語のテキスト", "emoji 🧪🚀 and ZWJ 👩‍💻", "tab\tnewline\nquote'\"\\",
        ]
        for s in strings {
            let row = try connection.query(
                "SELECT $1::text, char_length($1::text), octet_length($1::text)", [.text(s)])[0]
            #expect(try row.decode(String.self, at: 0) == s)
            #expect(try row.decode(Int.self, at: 1) == s.unicodeScalars.count)
            #expect(try row.decode(Int.self, at: 2) == s.utf8.count)
        }
        let integers: [Int64] = [.min, .min + 1, -1, 0, 1, .max - 1, .max]
        for v in integers {
            let row = try connection.query("SELECT $1::int8, ($1::int8)::text", [.int64(v)])[0]
            #expect(try row.decode(Int64.self, at: 0) == v)
            #expect(try row.decode(String.self, at: 1) == String(v))
        }
        let int32 = try connection.query("SELECT $1::int4, $2::int4", [.int32(.min), .int32(.max)])[0]
        #expect(try int32.decode(Int32.self, at: 0) == .min && int32.decode(Int32.self, at: 1) == .max)
        let doubles: [Double] = [
            0, -0.0, 1.5, -2.25e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi,
            .infinity, -.infinity,
        ]
        for v in doubles {
            for format in [PostgresFormat.binary, .text] {
                let got = try connection.query("SELECT $1::float8", [.double(v)], format: format).scalar(Double.self)
                #expect(got == v && got.sign == v.sign, "\(v) in \(format)")
            }
        }
        for format in [PostgresFormat.binary, .text] {
            #expect(
                try connection.query("SELECT $1::float8", [.double(.nan)], format: format).scalar(Double.self).isNaN)
        }
        let bools = try connection.query("SELECT $1::bool, $2::bool", [.bool(true), .bool(false)])[0]
        #expect(try bools.decode(Bool.self, at: 0) == true && bools.decode(Bool.self, at: 1) == false)
    }

    @Test func nullsDecodeAsOptionalsAndNeverAsValues() throws {
        let connection = try database.connect()
        let row = try connection.query(
            "SELECT $1::text, $2::int8, $3::bytea, $4::float8, $5::timestamptz, $6::uuid",
            [.null, .int64(nil), .null, .double(nil), .null, .null])[0]
        #expect(try row.decode(String?.self, at: 0) == nil)
        #expect(try row.decode(Int64?.self, at: 1) == nil)
        #expect(try row.decode([UInt8]?.self, at: 2) == nil)
        #expect(try row.decode(Double?.self, at: 3) == nil)
        #expect(try row.decode(PostgresTimestamp?.self, at: 4) == nil)
        #expect(try row.decode(UploadID?.self, at: 5) == nil)
        #expect(row.isNull(at: 0))
        let error = #expect(throws: StorageError.self) { try row.decode(String.self, at: 0) }
        #expect(error?.code == .decoding && error?.message.contains("NULL") == true)
    }

    @Test func uuidsTimestampsAndArraysRoundTrip() throws {
        let connection = try database.connect()
        var random = SeededRandom(seed: 7)
        let id = UploadID.random(using: &random)
        let row = try connection.query("SELECT $1::uuid, $1::uuid::text", [.uuid(id)])[0]
        #expect(try row.decode(UploadID.self, at: 0) == id)
        #expect(try row.decode(String.self, at: 1) == id.description)
        // Before 1970, at the epoch, PostgreSQL's own epoch, and far ahead; with milliseconds.
        for ms: Int64 in [-86_400_000 * 365 * 30 - 1, 0, 946_684_800_000, 1_764_000_123_456, 253_402_300_799_999] {
            let t = try connection.query(
                """
                SELECT $1::timestamptz,
                       to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                """, [.timestamp(milliseconds: ms)])[0]
            #expect(try t.decode(PostgresTimestamp.self, at: 0).milliseconds == ms)
            #expect(try t.decode(String.self, at: 1) == RFC3339.format(milliseconds: ms))
            let text = try connection.query("SELECT $1::timestamptz", [.timestamp(milliseconds: ms)], format: .text)
            #expect(try text.scalar(PostgresTimestamp.self).milliseconds == ms)
        }
        let arrays = try connection.query(
            "SELECT $1::text[], $2::int8[], $3::float8[], cardinality($1::text[])",
            [.textArray(["a", "", "ü,{}\"", "NULL"]), .int64Array([]), .doubleArray([1, nil, .infinity])])[0]
        #expect(try arrays.decodeArray(String.self, at: 0) == ["a", "", "ü,{}\"", "NULL"])
        #expect(try arrays.decodeArray(Int64.self, at: 1) == [])
        #expect(try arrays.decodeArray(Double?.self, at: 2) == [1, nil, .infinity])
        #expect(try arrays.decode(Int.self, at: 3) == 4)
    }

    @Test func serverErrorsCarrySQLStateAndLeaveTheConnectionUsable() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TEMP TABLE uniq (k text CONSTRAINT uniq_k UNIQUE)")
        try connection.execute("INSERT INTO uniq VALUES ($1)", ["a"])
        let duplicate = #expect(throws: StorageError.self) {
            try connection.execute("INSERT INTO uniq VALUES ($1)", ["a"])
        }
        #expect(duplicate?.sqlState == "23505" && duplicate?.isUniqueViolation == true)
        #expect(duplicate?.code == .server && duplicate?.constraint == "uniq_k")
        #expect(duplicate?.detail?.contains("(k)=(a)") == true)
        let syntax = #expect(throws: StorageError.self) { try connection.query("SELEC 1") }
        #expect(syntax?.sqlState == "42601" && syntax?.description.contains("syntax error") == true)
        let missing = #expect(throws: StorageError.self) { try connection.query("SELECT * FROM no_such_table") }
        #expect(missing?.sqlState == "42P01")
        let division = #expect(throws: StorageError.self) { try connection.query("SELECT 1 / $1::int4", [.int32(0)]) }
        #expect(division?.sqlState == "22012")
        #expect(try connection.query("SELECT 41 + $1::int8", [1]).scalar(Int64.self) == 42)
    }

    @Test func connectingToNothingIsAConnectionError() {
        let error = #expect(throws: StorageError.self) {
            try PostgresConnection("host=127.0.0.1 port=1 connect_timeout=2 dbname=x user=x")
        }
        #expect(error?.code == .connection && error?.isConnectionFailure == true)
        #expect(error?.message.isEmpty == false)
    }

    @Test func transactionsCommitOrRollBack() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TEMP TABLE t (v int8)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try connection.withTransaction { c in
                try c.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(try connection.query("SELECT count(*) FROM t").scalar(Int.self) == 0)
        #expect(connection.transactionState == .idle)
        try connection.withTransaction { c in
            try c.execute("INSERT INTO t VALUES (2)")
            // A nested failure rolls back to its savepoint only.
            #expect(throws: Boom.self) {
                try c.withTransaction { c in
                    try c.execute("INSERT INTO t VALUES (3)")
                    throw Boom()
                }
            }
            try c.withTransaction { c in try c.execute("INSERT INTO t VALUES (4)") }
        }
        #expect(
            try connection.query("SELECT array_agg(v ORDER BY v) FROM t")[0].decodeArray(Int64.self, at: 0) == [2, 4])
        // A body that swallows a server error cannot commit the aborted transaction.
        let refused = #expect(throws: StorageError.self) {
            try connection.withTransaction { c in
                try c.execute("INSERT INTO t VALUES (5)")
                _ = try? c.query("SELECT 1 / 0")
            }
        }
        #expect(refused?.code == .misuse)
        #expect(try connection.query("SELECT count(*) FROM t").scalar(Int.self) == 2)
        #expect(connection.transactionState == .idle)
    }

    @Test func binaryCopyWritesEveryRow() throws {
        let connection = try database.connect()
        try connection.execute(
            "CREATE TEMP TABLE c (id int8, name text, payload bytea, score float8, at timestamptz, note text)")
        var random = SeededRandom(seed: 11)
        let rows: [[PostgresValue]] = (0..<5000).map { i in
            let payload = (0..<(Int(random.next() % 300))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            return [
                .int64(Int64(i)), .text("row \(i) ✓"), .bytea(payload), .double(i % 7 == 0 ? .nan : Double(i) / 3),
                .timestamp(milliseconds: 1_700_000_000_000 + Int64(i)), i % 2 == 0 ? .null : .text("tab\there"),
            ]
        }
        let copied = try connection.copyIn(
            "COPY c (id, name, payload, score, at, note) FROM STDIN (FORMAT binary)", binaryRows: rows)
        #expect(copied == 5000)
        let summary = try connection.query(
            """
            SELECT count(*), sum(length(payload))::int8, count(note), count(*) FILTER (WHERE score = 'NaN'),
                   max(at), min(name)
            FROM c
            """)[0]
        let payloadBytes = rows.reduce(0) { total, row in
            if case .bytea(let b) = row[2] { total + b.count } else { total }
        }
        #expect(try summary.decode(Int.self, at: 0) == 5000)
        #expect(try summary.decode(Int.self, at: 1) == payloadBytes)
        #expect(try summary.decode(Int.self, at: 2) == 2500)
        #expect(try summary.decode(Int.self, at: 3) == 715)
        #expect(try summary.decode(PostgresTimestamp.self, at: 4).milliseconds == 1_700_000_004_999)
        #expect(try summary.decode(String.self, at: 5) == "row 0 ✓")
    }

    @Test func textCopyEscapesAndFailedCopyIsVoid() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TEMP TABLE tc (a text, b int8)")
        let awkward = "back\\slash\ttab\nnewline\rcr \\N"
        try connection.copyIn("COPY tc (a, b) FROM STDIN", textRows: [[awkward, "1"], [nil, "2"], ["", nil]])
        let rows = try connection.query("SELECT a, b FROM tc ORDER BY b NULLS LAST")
        #expect(try rows[0].decode(String.self, at: 0) == awkward)
        #expect(try rows[1].decode(String?.self, at: 0) == nil)
        #expect(try rows[2].decode(String.self, at: 0) == "" && rows[2].decode(Int64?.self, at: 1) == nil)
        // A type mismatch fails the whole COPY; the connection stays usable.
        let error = #expect(throws: StorageError.self) {
            try connection.copyIn("COPY tc (a, b) FROM STDIN (FORMAT binary)", binaryRows: [[.text("x"), .int32(1)]])
        }
        #expect(error?.code == .server && error?.sqlState != nil)
        #expect(try connection.query("SELECT count(*) FROM tc").scalar(Int.self) == 3)
        // COPY sent as an ordinary statement is refused and ended, in either direction.
        for sql in ["COPY tc FROM STDIN", "COPY tc TO STDOUT"] {
            let misuse = #expect(throws: StorageError.self) { try connection.query(sql) }
            #expect(misuse?.code == .misuse)
            #expect(try connection.query("SELECT count(*) FROM tc").scalar(Int.self) == 3)
        }
    }

    @Test func pipelinedBatchRunsEveryStatementAndReportsTheFirstError() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TEMP TABLE p (k int8 PRIMARY KEY, v text)")
        let sets: [[PostgresValue]] = (0..<1000).map { [.int64(Int64($0)), .text("v\($0)")] }
        let counts = try connection.withTransaction {
            try $0.executeBatch("INSERT INTO p VALUES ($1, $2)", sets, chunk: 64)
        }
        #expect(counts == [Int](repeating: 1, count: 1000))
        let returned = try connection.queryBatch("SELECT v FROM p WHERE k = $1", [[.int64(5)], [.int64(999)]])
        #expect(try returned.map { try $0.scalar(String.self) } == ["v5", "v999"])
        let error = #expect(throws: StorageError.self) {
            try connection.withTransaction { c in
                try c.executeBatch(
                    "INSERT INTO p VALUES ($1, $2)",
                    [[.int64(2000), "new"], [.int64(5), "dup"], [.int64(2001), "x"]])
            }
        }
        #expect(error?.isUniqueViolation == true)
        #expect(try connection.query("SELECT count(*) FROM p").scalar(Int.self) == 1000)
        #expect(try connection.query("SELECT 1::int8").scalar(Int64.self) == 1)
    }

    @Test func rfc3339RoundTripsAndRejectsNonsense() {
        #expect(RFC3339.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.parse("2024-02-29T12:34:56.789Z") == 1_709_210_096_789)
        #expect(RFC3339.parse("2024-02-29 13:34:56.789+01") == 1_709_210_096_789)
        #expect(RFC3339.parse("2024-02-29T07:04:56.789-05:30") == 1_709_210_096_789)
        for bad in [
            "", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00Zjunk",
        ] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
        var random = SeededRandom(seed: 3)
        for _ in 0..<1000 {
            let ms = Int64(bitPattern: random.next()) % 253_402_300_799_999
            #expect(RFC3339.parse(RFC3339.format(milliseconds: abs(ms))) == abs(ms))
        }
    }
}
