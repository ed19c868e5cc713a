import Foundation

/// Whole-file reads and atomic writes for the CLI, with errors that name the path.
enum FileIO {
    /// Sketch and profile files are small; anything larger is refused before it is read.
    static let maximumInputBytes = 1 << 30

    static func read(_ path: String, what: String = "file") throws(CLIError) -> [UInt8] {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw CLIError("cannot read \(what) \(path): no such file or not accessible")
        }
        if let type = attributes[.type] as? FileAttributeType, type == .typeDirectory {
            throw CLIError("cannot read \(what) \(path): it is a directory")
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > maximumInputBytes {
            throw CLIError("\(what) \(path) is \(size) bytes, over the \(maximumInputBytes)-byte limit")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read \(what) \(path)")
        }
        return Array(data)
    }

    /// Writes through a temporary file in the same directory and renames it into place, so a
    /// reader never sees half a file.
    static func write(_ bytes: [UInt8], to path: String) throws(CLIError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            try Data(bytes).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
        // rename(2) replaces an existing file atomically. (Foundation's `replaceItemAt` fails on
        // Linux when the destination exists: "The file doesn't exist".)
        guard rename(temporary.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CLIError("cannot write \(path): \(reason)")
        }
    }
}
