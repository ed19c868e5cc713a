import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few POSIX file operations the spool needs, with errors that name the path and errno.
enum FileSystem {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Writes `bytes` so that after a crash the file is either absent or complete: a temporary
    /// file in the same directory, fsync, rename over the final name, fsync of the directory
    /// (which makes the rename itself durable; POSIX `rename(2)`, `fsync(2)`).
    static func writeDurably(_ bytes: [UInt8], directory: String, name: String) throws(ShippingError) {
        let temporary = "\(directory)/.\(name).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let path = "\(directory)/\(name)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ShippingError("cannot create \(temporary): \(errnoText())") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { raw in
            while written < raw.count, let base = raw.baseAddress {
                let n = write(fd, base + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return fsync(fd) == 0
        }
        let failure = ok ? nil : errnoText()
        close(fd)
        if let failure {
            unlink(temporary)
            throw ShippingError("cannot write \(temporary): \(failure)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw ShippingError("cannot rename \(temporary) to \(path): \(reason)")
        }
        syncDirectory(directory)
    }

    /// fsync of a directory, making renames and unlinks in it durable. Best effort: some file
    /// systems refuse to sync directories.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func createDirectory(_ path: String) throws(ShippingError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ShippingError("cannot create directory \(path): \(error.localizedDescription)")
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ShippingError("\(path) is not a directory")
        }
    }

    /// Names in a directory (no `.`/`..`), sorted.
    static func list(_ directory: String) throws(ShippingError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ShippingError("cannot list \(directory): \(error.localizedDescription)")
        }
    }

    /// Size of a regular file, or nil when `path` is not one.
    static func regularFileSize(_ path: String) -> Int? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    @discardableResult
    static func remove(_ path: String) -> Bool { unlink(path) == 0 }

    static func move(_ from: String, to: String) throws(ShippingError) {
        guard rename(from, to) == 0 else { throw ShippingError("cannot move \(from) to \(to): \(errnoText())") }
    }
}

/// An error from the shipping layer's own I/O or configuration (not from the network: that is
/// ``TransportError``). The message names the path or setting.
public struct ShippingError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
