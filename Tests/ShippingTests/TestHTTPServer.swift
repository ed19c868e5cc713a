import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 written with POSIX sockets and a thread per
/// connection, scripted per request. It plays the Driftwatch server's ingest contract:
/// `.accept` commits the body under its `Idempotency-Key` and answers
/// `202 {"id": KEY, "duplicate": BOOL}`; errors answer `{"error": {"code", "message"}}`.
///
/// The state is guarded by `lock`, which is why the unchecked `Sendable` is safe.
final class TestHTTPServer: @unchecked Sendable {
    /// What the server does with one request.
    indirect enum Behaviour: Sendable {
        /// Commit (idempotently) and answer 202.
        case accept
        /// Answer `status` with the error JSON and extra headers.
        case error(status: Int, code: String, message: String, headers: [(String, String)] = [])
        /// Commit, then close the connection without answering (a lost response).
        case commitAndDrop
        /// Wait, then behave as `then` (the client may have given up by then).
        case slow(seconds: Double, then: Behaviour)
    }

    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var receivedAt: ContinuousClock.Instant
    }

    private let lock = NSLock()
    private var listener: Int32 = -1
    private var clients: Set<Int32> = []
    private var script: @Sendable (Request, Int) -> Behaviour = { _, _ in .accept }
    private var _requests: [Request] = []
    private var _committed: [String: [UInt8]] = [:]
    private var _connections = 0
    private(set) var port: UInt16 = 0

    /// Starts listening on 127.0.0.1 (`port` 0: any free port).
    init(port: UInt16 = 0) throws {
        try start(port: port)
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every request received, in order.
    var requests: [Request] { lock.withLock { _requests } }
    /// Bodies committed, by idempotency key.
    var committed: [String: [UInt8]] { lock.withLock { _committed } }
    /// TCP connections accepted so far (reuse keeps it low).
    var connections: Int { lock.withLock { _connections } }

    /// Sets how the server answers; the closure gets the request and its index (0-based) among
    /// all requests received.
    func behave(_ script: @escaping @Sendable (Request, Int) -> Behaviour) {
        lock.withLock { self.script = script }
    }

    func start(port wanted: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = wanted.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ServerError("bind/listen on port \(wanted): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        lock.withLock {
            listener = fd
            port = UInt16(bigEndian: actual.sin_port)
        }
        Thread.detachNewThread { [self] in acceptLoop(fd) }
    }

    /// Stops listening and closes every open connection: the port refuses connections until
    /// ``start(port:)``.
    func stop() {
        let (fd, open) = lock.withLock {
            let state = (listener, clients)
            listener = -1
            clients.removeAll()
            return state
        }
        // Only shut down here: the accept thread closes the descriptor once accept fails, so its
        // number cannot be reused by another test's socket while that thread still uses it.
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        for client in open { shutdown(client, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                close(fd)
                return
            }
            let keep = lock.withLock { () -> Bool in
                guard listener == fd else { return false }
                clients.insert(client)
                _connections += 1
                return true
            }
            guard keep else {
                close(client)
                close(fd)
                return
            }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            lock.withLock { _ = clients.remove(fd) }
            close(fd)
        }
        var buffer: [UInt8] = []
        while let request = readRequest(fd, &buffer) {
            let (behaviour, _) = lock.withLock { () -> (Behaviour, Int) in
                let index = _requests.count
                _requests.append(request)
                return (script(request, index), index)
            }
            guard respond(fd, request, behaviour) else { return }
        }
    }

    /// Returns false when the connection must close.
    private func respond(_ fd: Int32, _ request: Request, _ behaviour: Behaviour) -> Bool {
        switch behaviour {
        case .accept:
            let key = request.headers["idempotency-key"] ?? UUID().uuidString.lowercased()
            let duplicate = lock.withLock { () -> Bool in
                if _committed[key] != nil { return true }
                _committed[key] = request.body
                return false
            }
            return write(fd, status: 202, body: "{\"id\":\"\(key)\",\"duplicate\":\(duplicate)}")
        case .error(let status, let code, let message, let headers):
            return write(
                fd, status: status, headers: headers,
                body: "{\"error\":{\"code\":\"\(code)\",\"message\":\"\(message)\"}}")
        case .commitAndDrop:
            if let key = request.headers["idempotency-key"] {
                lock.withLock { if _committed[key] == nil { _committed[key] = request.body } }
            }
            return false
        case .slow(let seconds, let then):
            Thread.sleep(forTimeInterval: seconds)
            return respond(fd, request, then)
        }
    }

    private func write(_ fd: Int32, status: Int, headers: [(String, String)] = [], body: String) -> Bool {
        var head = "HTTP/1.1 \(status) \(status < 300 ? "Accepted" : "Error")\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while true {
            if buffer.count >= 4 {
                headerEnd = (0...(buffer.count - 4)).first { buffer[$0..<$0 + 4].elementsEqual(separator) }
                if headerEnd != nil { break }
            }
            guard fill(fd, &buffer) else { return nil }
        }
        guard let headerEnd else { return nil }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headerEnd + 4
        while buffer.count < bodyStart + length {
            guard fill(fd, &buffer) else { return nil }
        }
        let body = Array(buffer[bodyStart..<bodyStart + length])
        buffer.removeFirst(bodyStart + length)
        return Request(
            method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body,
            receivedAt: .now)
    }

    private func fill(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
