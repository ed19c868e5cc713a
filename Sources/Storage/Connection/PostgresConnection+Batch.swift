internal import CLibPQ

/// Batch writes: `COPY ... FROM STDIN` and pipelined statements.
///
/// Measured on this project's 2-core machine (the project's platform notes): 100k rows of 2 KB
/// random bytea into one table, one transaction — one statement per row 6.7–8.3 k rows/s,
/// pipelined 28–41 k rows/s, binary COPY 45–71 k rows/s.
extension PostgresConnection {
    /// Bytes gathered before each `PQputCopyData`.
    static let copyChunk = 256 * 1024

    /// Streams rows into `COPY table (columns) FROM STDIN (FORMAT binary)` and returns the
    /// number of rows copied.
    ///
    /// Each row's values must match the table columns in number and type exactly: binary COPY
    /// does no conversion (an `int8` value for an `int4` column is rejected by the server).
    ///
    /// Binary COPY format (PostgreSQL "COPY", section "Binary Format"): the 11-byte signature
    /// `PGCOPY\n\xff\r\n\0`, an int32 flags field (0), an int32 header-extension length (0); per
    /// tuple an int16 field count, then per field an int32 length (-1 for NULL) and the value's
    /// binary form; an int16 -1 trailer.
    ///
    /// - Parameter sql: the `COPY ... FROM STDIN (FORMAT binary)` statement (trusted text: it
    ///   cannot carry parameters).
    /// - Throws: the server's error (the whole COPY is then void), or ``StorageError/Code/misuse``
    ///   for a value that cannot be encoded (the COPY is aborted).
    @discardableResult
    public func copyIn(_ sql: String, binaryRows rows: some Sequence<[PostgresValue]>) throws -> Int {
        try copy(sql) { send in
            var buffer: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
            buffer.appendBigEndian(UInt32(0))
            buffer.appendBigEndian(UInt32(0))
            for row in rows {
                buffer.appendBigEndian(UInt16(row.count))
                for value in row { try value.writeLengthPrefixed(into: &buffer) }
                if buffer.count >= Self.copyChunk {
                    try send(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            buffer.appendBigEndian(UInt16(bitPattern: -1))
            try send(buffer)
        }
    }

    /// Streams rows into `COPY table (columns) FROM STDIN` in text format; nil is NULL (`\N`).
    /// Fields are escaped as COPY's text format requires (backslash, tab, newline, carriage
    /// return), so any string is safe. Returns the number of rows copied.
    @discardableResult
    public func copyIn(_ sql: String, textRows rows: some Sequence<[String?]>) throws -> Int {
        try copy(sql) { send in
            var buffer: [UInt8] = []
            for row in rows {
                for (i, field) in row.enumerated() {
                    if i > 0 { buffer.append(UInt8(ascii: "\t")) }
                    guard let field else {
                        buffer.append(contentsOf: "\\N".utf8)
                        continue
                    }
                    for byte in field.utf8 {
                        switch byte {
                        case UInt8(ascii: "\\"): buffer.append(contentsOf: "\\\\".utf8)
                        case UInt8(ascii: "\t"): buffer.append(contentsOf: "\\t".utf8)
                        case UInt8(ascii: "\n"): buffer.append(contentsOf: "\\n".utf8)
                        case UInt8(ascii: "\r"): buffer.append(contentsOf: "\\r".utf8)
                        default: buffer.append(byte)
                        }
                    }
                }
                buffer.append(UInt8(ascii: "\n"))
                if buffer.count >= Self.copyChunk {
                    try send(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try send(buffer)
        }
    }

    /// Starts a COPY FROM STDIN, lets `produce` send data, ends it and returns the row count.
    private func copy(_ sql: String, _ produce: (_ send: ([UInt8]) throws -> Void) throws -> Void) throws -> Int {
        guard let start = PQexec(handle, sql) else { throw connectionError() }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            if PQresultStatus(start) == PGRES_FATAL_ERROR {
                defer { PQclear(start) }
                throw error(from: start)
            }
            PQclear(start)
            throw StorageError(.misuse, "not a COPY ... FROM STDIN statement: \(sql.prefix(80))")
        }
        PQclear(start)
        do {
            try produce { bytes in
                let sent = bytes.withUnsafeBytes { raw in
                    PQputCopyData(handle, raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count))
                }
                guard sent == 1 else { throw connectionError() }
            }
        } catch {
            // Abort the COPY so that the connection returns to a usable state.
            _ = PQputCopyEnd(handle, "aborted by the client: \(error)")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionError() }
        var copied = 0
        var failure: StorageError?
        while let result = PQgetResult(handle) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                copied = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = error(from: result)
            }
            PQclear(result)
        }
        if let failure { throw failure }
        return copied
    }

    /// The next result of a pipeline, skipping the nil that ends each statement's results.
    private func nextPipelineResult() throws -> OpaquePointer {
        for _ in 0..<2 {
            if let result = PQgetResult(handle) { return result }
            if PQstatus(handle) != CONNECTION_OK { throw connectionError() }
        }
        // Two nils in a row: nothing is pending, so the pipeline is out of step.
        throw StorageError(.connection, "pipeline ended before all answers arrived")
    }

    private func readUntilSync() throws {
        while true {
            let result = try nextPipelineResult()
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { return }
        }
    }

    private func drainResults() {
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    /// Runs one statement once per parameter set in libpq's pipeline mode: statements are sent
    /// without waiting for each answer, which removes a round trip per statement. Returns the
    /// affected-row count of each execution, in order.
    ///
    /// Outside a transaction each chunk of statements (up to `chunk`, ended by a pipeline sync)
    /// commits as one implicit transaction; wrap the call in ``withTransaction(isolation:_:)``
    /// to make the whole batch atomic. After the first error, the statements after it in the
    /// same chunk are skipped by the server and the error is thrown once all answers are read.
    ///
    /// Pipeline mode: libpq §34.5 (PostgreSQL 14+ client; any v3-protocol server).
    @discardableResult
    public func executeBatch(_ sql: String, _ parameterSets: [[PostgresValue]], chunk: Int = 256) throws -> [Int] {
        try queryBatch(sql, parameterSets, chunk: chunk).map(\.affectedRows)
    }

    /// ``executeBatch(_:_:chunk:)`` returning each execution's rows (e.g. of `RETURNING`).
    public func queryBatch(
        _ sql: String, _ parameterSets: [[PostgresValue]], chunk: Int = 256
    ) throws
        -> [PostgresResult]
    {
        precondition(chunk > 0, "chunk must be positive")
        guard !parameterSets.isEmpty else { return [] }
        guard PQenterPipelineMode(handle) == 1 else {
            throw StorageError(.misuse, "cannot enter pipeline mode: \(Self.trimmed(PQerrorMessage(handle)))")
        }
        defer { PQexitPipelineMode(handle) }
        var results: [PostgresResult] = []
        results.reserveCapacity(parameterSets.count)
        var failure: StorageError?
        var index = 0
        while index < parameterSets.count {
            let end = Swift.min(index + chunk, parameterSets.count)
            do {
                for parameters in parameterSets[index..<end] {
                    let sent = try Self.withParameters(parameters) { count, types, values, lengths, formats in
                        PQsendQueryParams(handle, sql, count, types, values, lengths, formats, 1)
                    }
                    guard sent == 1 else { throw connectionError() }
                }
            } catch {
                // A value that would not encode: end the chunk so that the connection leaves
                // pipeline mode cleanly, then report the value's error.
                if isConnected, PQpipelineSync(handle) == 1 { try? readUntilSync() }
                throw error
            }
            guard PQpipelineSync(handle) == 1 else { throw connectionError() }
            // Each statement's answer is one result followed by nil; the sync answers with
            // PGRES_PIPELINE_SYNC.
            for _ in index..<end {
                let result = try nextPipelineResult()
                switch PQresultStatus(result) {
                case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
                    results.append(PostgresResult(taking: result))
                case PGRES_PIPELINE_ABORTED:
                    PQclear(result)
                default:
                    if failure == nil { failure = error(from: result) }
                    PQclear(result)
                }
            }
            try readUntilSync()
            index = end
        }
        if let failure { throw failure }
        guard results.count == parameterSets.count else {
            throw StorageError(
                .connection, "pipeline returned \(results.count) answers for \(parameterSets.count) statements")
        }
        return results
    }
}
