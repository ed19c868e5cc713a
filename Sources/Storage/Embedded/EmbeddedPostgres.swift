internal import Foundation
import Synchronization

/// A private PostgreSQL cluster in a directory of its own, run with the server's own
/// `initdb` and `pg_ctl`: what `drift serve` uses when no database is configured, and what the
/// tests start when `DRIFT_TEST_DATABASE_URL` is not set.
///
/// Layout under ``Configuration/directory``: `data/` (the cluster, created by `initdb` on the
/// first ``start()``), `postgres.log` (the server's log) and `run/` (the Unix socket directory;
/// a directory under `/tmp` when the path would exceed the 107-byte socket path limit).
///
/// `initdb` refuses to run as root, so as root every command runs as the `postgres` user
/// (`runuser -u postgres --`) and the directories are handed to that user. Authentication is
/// `trust`, which is safe only because the server listens on a Unix socket in a directory only
/// its owner can enter (`unix_socket_permissions=0700`); ``Configuration/listenOnLoopback``
/// adds TCP on 127.0.0.1, open to every local user.
///
/// The server keeps running until ``stop()``; a cluster found running in the directory (left
/// over by a process that died) is adopted rather than started twice.
public final class EmbeddedPostgres: Sendable {
    public struct Configuration: Sendable {
        /// Where the cluster, its log and its socket live; created when missing.
        public var directory: String
        /// The port (in the socket's file name, and on loopback when listening there); nil
        /// picks a free one at the first start.
        public var port: Int?
        /// Also listen on 127.0.0.1 (for tools such as psql or Grafana over TCP).
        public var listenOnLoopback: Bool
        /// The directory holding `initdb`, `pg_ctl` and `postgres`; nil searches `PATH`, then
        /// `/usr/lib/postgresql/*/bin` (newest version first).
        public var binDirectory: String?
        /// Extra server settings passed as `-c name=value` (e.g. `fsync=off` for throwaway
        /// test clusters).
        public var settings: [String: String]
        /// Seconds `pg_ctl` waits for the server to start or stop.
        public var timeoutSeconds: Int

        public init(
            directory: String, port: Int? = nil, listenOnLoopback: Bool = false, binDirectory: String? = nil,
            settings: [String: String] = [:], timeoutSeconds: Int = 60
        ) {
            self.directory = directory
            self.port = port
            self.listenOnLoopback = listenOnLoopback
            self.binDirectory = binDirectory
            self.settings = settings
            self.timeoutSeconds = timeoutSeconds
        }
    }

    /// The database superuser `initdb` creates.
    public static let superuser = "postgres"

    public let configuration: Configuration
    private let state: Mutex<State>

    private struct State {
        var port: Int?
        var socketDirectory: String?
        var binDirectory: String?
        var running = false
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
        state = Mutex(State(port: configuration.port))
    }

    public var dataDirectory: String { configuration.directory + "/data" }
    public var logPath: String { configuration.directory + "/postgres.log" }

    /// A `key=value` connection string for the `postgres` database as the superuser, once
    /// started (through the Unix socket).
    public var conninfo: String? {
        state.withLock { s in
            guard s.running, let port = s.port, let socket = s.socketDirectory else { return nil }
            return "host=\(Self.quoteConninfo(socket)) port=\(port) user=\(Self.superuser) dbname=postgres"
        }
    }

    // MARK: Lifecycle

    /// Creates the cluster when the data directory is empty, then starts the server (or adopts
    /// one already running there) and returns the connection string.
    ///
    /// - Throws: ``StorageError/Code/embedded`` naming the command that failed, with its output.
    @discardableResult
    public func start() throws -> String {
        let bin = try binDirectory()
        let fm = FileManager.default
        let asRoot = getuid() == 0
        try makeDirectory(configuration.directory, asRoot: asRoot)
        try makeDirectory(dataDirectory, asRoot: asRoot)
        if !fm.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            try run(
                bin + "/initdb",
                ["-D", dataDirectory, "-U", Self.superuser, "--auth=trust", "--encoding=UTF8", "--no-locale"],
                asRoot: asRoot,
                hint: asRoot
                    ? "as root the cluster runs as the postgres user, who must be able to enter "
                        + configuration.directory
                    : nil)
        }
        if let (port, socket) = runningServer() {
            state.withLock { s in
                s.port = port
                s.socketDirectory = socket
                s.running = true
            }
            return conninfo ?? ""
        }
        let socket = try socketDirectory(asRoot: asRoot)
        let port = try state.withLock { s in s.port } ?? Self.freeLoopbackPort()
        var options = ["-p \(port)", "-k \(Self.quoteShell(socket))", "-c unix_socket_permissions=0700"]
        options.append("-c listen_addresses=\(configuration.listenOnLoopback ? "127.0.0.1" : "''")")
        for (name, value) in configuration.settings.sorted(by: { $0.key < $1.key }) {
            options.append("-c \(name)=\(Self.quoteShell(value))")
        }
        try run(
            bin + "/pg_ctl",
            [
                "-D", dataDirectory, "-l", logPath, "-w", "-t", "\(configuration.timeoutSeconds)",
                "-o", options.joined(separator: " "), "start",
            ],
            asRoot: asRoot, hint: "see \(logPath)")
        state.withLock { s in
            s.port = port
            s.socketDirectory = socket
            s.running = true
        }
        return conninfo ?? ""
    }

    /// Stops the server (fast shutdown: open transactions are rolled back, clients
    /// disconnected). Does nothing when it is not running.
    public func stop() throws {
        let bin = try binDirectory()
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") else {
            state.withLock { $0.running = false }
            return
        }
        try run(
            bin + "/pg_ctl",
            ["-D", dataDirectory, "-m", "fast", "-w", "-t", "\(configuration.timeoutSeconds)", "stop"],
            asRoot: getuid() == 0, hint: "see \(logPath)")
        state.withLock { $0.running = false }
    }

    /// Stops and starts the server on the same port and socket, so that clients configured
    /// with ``conninfo`` reconnect to it.
    public func restart() throws {
        try stop()
        try start()
    }

    // MARK: Helpers

    /// The directory holding `initdb` and `pg_ctl`.
    ///
    /// - Throws: ``StorageError/Code/embedded`` when neither `PATH` nor
    ///   `/usr/lib/postgresql/*/bin` has them.
    public static func findBinaries() throws -> String {
        let fm = FileManager.default
        func hasBoth(_ dir: String) -> Bool {
            fm.isExecutableFile(atPath: dir + "/initdb") && fm.isExecutableFile(atPath: dir + "/pg_ctl")
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) where hasBoth(dir) { return dir }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted {
            (Int($0) ?? 0, $0) > (Int($1) ?? 0, $1)
        }
        for version in versions where hasBoth("\(root)/\(version)/bin") { return "\(root)/\(version)/bin" }
        throw StorageError(
            .embedded,
            "initdb and pg_ctl not found in PATH or /usr/lib/postgresql/*/bin; install PostgreSQL "
                + "(e.g. apt-get install postgresql) or configure a database URL")
    }

    private func binDirectory() throws -> String {
        if let known = state.withLock({ $0.binDirectory }) { return known }
        let found = try configuration.binDirectory ?? Self.findBinaries()
        state.withLock { $0.binDirectory = found }
        return found
    }

    /// The port and socket directory of a server already running in the data directory, read
    /// from `postmaster.pid` (lines 4 and 5; src/include/utils/pidfile.h) after `pg_ctl status`
    /// confirmed it is alive.
    private func runningServer() -> (port: Int, socket: String)? {
        guard let bin = try? binDirectory(),
            (try? run(bin + "/pg_ctl", ["-D", dataDirectory, "status"], asRoot: getuid() == 0)) != nil,
            let pid = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8)
        else { return nil }
        let lines = pid.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 4, let port = Int(lines[3]), !lines[4].isEmpty else { return nil }
        return (port, String(lines[4]))
    }

    private func socketDirectory(asRoot: Bool) throws -> String {
        if let known = state.withLock({ $0.socketDirectory }) { return known }
        // sun_path holds 108 bytes including the terminator; the file is `.s.PGSQL.<port>`.
        let preferred = configuration.directory + "/run"
        if preferred.utf8.count + 16 < 107 {
            try makeDirectory(preferred, asRoot: asRoot)
            return preferred
        }
        var template = Array("/tmp/driftwatch-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw StorageError(.embedded, "cannot create a socket directory under /tmp")
        }
        let path = String(cString: made)
        try makeDirectory(path, asRoot: asRoot)
        return path
    }

    /// Creates `path` (mode 0700) when missing and, as root, gives it to the postgres user.
    private func makeDirectory(_ path: String, asRoot: Bool) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StorageError(.embedded, "cannot create \(path): \(error)")
        }
        guard asRoot else { return }
        guard let user = getpwnam(Self.superuser) else {
            throw StorageError(.embedded, "running as root needs a '\(Self.superuser)' system user to own the cluster")
        }
        guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw StorageError(.embedded, "cannot give \(path) to the \(Self.superuser) user (errno \(errno))")
        }
    }

    /// Runs a PostgreSQL program (as the postgres user when we are root) and returns its
    /// output; throws when it exits with a non-zero status.
    @discardableResult
    private func run(_ program: String, _ arguments: [String], asRoot: Bool, hint: String? = nil) throws -> String {
        let argv = asRoot ? [Self.runuser(), "-u", Self.superuser, "--", program] + arguments : [program] + arguments
        let (status, output) = try ChildProcess.run(argv)
        guard status == 0 else {
            let name = program.split(separator: "/").last.map(String.init) ?? program
            var message = "\(name) \(arguments.last ?? "") failed (exit \(status))"
            let tail = output.split(separator: "\n").suffix(5).joined(separator: " | ")
            if !tail.isEmpty { message += ": \(tail)" }
            throw StorageError(.embedded, message, hint: hint)
        }
        return output
    }

    private static func runuser() -> String {
        for candidate in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "runuser"
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StorageError(.embedded, "cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard bound else { throw StorageError(.embedded, "cannot bind 127.0.0.1 to find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Single-quotes `value` for the shell `pg_ctl` runs the server's command line through.
    static func quoteShell(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Quotes a value for a `key=value` connection string (libpq §34.1.1).
    static func quoteConninfo(_ value: String) -> String {
        guard value.contains(where: { $0 == " " || $0 == "'" || $0 == "\\" }) || value.isEmpty else { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
