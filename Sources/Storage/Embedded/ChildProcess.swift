#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Runs a program to completion with `posix_spawn` and `waitpid`, capturing standard output
/// and standard error together.
///
/// Foundation's `Process` was tried first: its `waitUntilExit` never returned after
/// `pg_ctl start` on Linux (Swift 6.3), while the server it had started ran fine. A plain
/// spawn and wait has no run loop or signal source to go wrong. The output channel is created
/// close-on-exec, so a daemon the program leaves behind (the postmaster) does not inherit it
/// and the read below ends when the program exits.
enum ChildProcess {
    /// - Returns: the exit status (128 + signal number when killed) and the output.
    /// - Throws: ``StorageError/Code/embedded`` when the program cannot be started.
    static func run(_ argv: [String]) throws -> (status: Int32, output: String) {
        precondition(!argv.isEmpty, "argv needs the program")
        // A socket pair rather than pipe2(O_CLOEXEC), which Glibc's Swift module does not
        // export: SOCK_CLOEXEC sets close-on-exec atomically, with no window in which another
        // thread's spawn could inherit the descriptors.
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw StorageError(.embedded, "socketpair failed (errno \(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // dup2 clears close-on-exec on the copies, so only 1 and 2 stay open in the child.
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        var pid: pid_t = 0
        let cStrings = argv.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings + [nil]
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, &pointers, environ)
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            throw StorageError(.embedded, "cannot run \(argv[0]) (errno \(spawned))")
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n > 0 {
                output.append(contentsOf: chunk[0..<n])
            } else if n == 0 || errno != EINTR {
                break
            }
        }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw StorageError(.embedded, "waitpid failed (errno \(errno))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros: decode the wait status by hand
        // (low 7 bits: terminating signal, 0 for a normal exit; next 8 bits: exit status).
        let signal = status & 0x7F
        return (signal == 0 ? (status >> 8) & 0xFF : 128 + signal, String(decoding: output, as: UTF8.self))
    }
}
