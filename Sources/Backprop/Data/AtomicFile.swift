import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file all at once or not at all, so that a reader (or a crash) never sees it half written.
///
/// The bytes go to a new temporary file in the same directory (`.NAME.tmp-RANDOM`), which
/// is flushed to disk (`fsync`), then renamed over `path` (atomic on POSIX file systems),
/// and the directory is flushed so that the rename itself survives a crash. A replaced
/// file keeps its permission bits; a new file gets `0666` less the umask. A symbolic link at
/// `path` is replaced by the file, not followed.
///
/// A write that fails removes its temporary file. One that never returns (the process killed
/// with SIGKILL, or by a second Ctrl-C, while writing) leaves it behind; the next write to the
/// same `path` removes such leftovers (`.NAME.tmp-*`) before it starts, so that at most one
/// lingers and a full disk is not made fuller by them. Writing one path from two processes at
/// once is not supported: one of the writes may then fail (with an error, never a torn file).
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically.
    /// - Throws: `DataError` naming `path` when its directory does not exist or is not writable,
    ///   when `path` is a directory, or when a write, flush or rename fails. On failure the old
    ///   file at `path`, if any, is untouched and the temporary file is removed.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write($0, to: path, beforeRename: {}) }
    }

    /// Writes `data` to `path` atomically, as `write(_: [UInt8], to:)`.
    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { try write($0, to: path, beforeRename: {}) }
    }

    /// The implementation; `beforeRename` runs after the temporary file is complete and
    /// closed, and lets tests inject a failure at the last moment.
    static func write(_ bytes: UnsafeRawBufferPointer, to path: String, beforeRename: () throws -> Void) throws {
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw DataError(file: path, fault: "not a file path")
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path

        var old = stat()
        let replacing = lstat(path, &old) == 0
        if replacing && (old.st_mode & S_IFMT) == S_IFDIR {
            throw DataError(file: path, fault: "is a directory, not a file")
        }

        removeLeftovers(of: name, in: directory)
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            temporary = directory + "/" + temporaryPrefix(of: name) + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw DataError(file: path, fault: "cannot create a temporary file in \(directory): \(FileBytes.errorText(errno))")
        }
        var isOpen = true
        func fail(_ what: String, _ code: Int32) -> DataError {
            if isOpen { close(fd) }
            unlink(temporary)
            return DataError(file: path, fault: "\(what): \(FileBytes.errorText(code))")
        }

        var written = 0
        while written < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write failed (the old file is untouched)", errno)
            }
            written += n
        }
        if replacing && (old.st_mode & S_IFMT) == S_IFREG && fchmod(fd, old.st_mode & 0o7777) != 0 {
            throw fail("cannot set permissions (the old file is untouched)", errno)
        }
        if fsync(fd) != 0 { throw fail("fsync failed (the old file is untouched)", errno) }
        isOpen = false
        if close(fd) != 0 { throw fail("close failed (the old file is untouched)", errno) }
        do {
            try beforeRename()
        } catch {
            unlink(temporary)
            throw error
        }
        if rename(temporary, path) != 0 { throw fail("cannot rename the temporary file over it", errno) }

        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            if fsync(dfd) != 0 && errno != EINVAL && errno != EROFS {
                throw DataError(file: path, fault: "written, but flushing its directory failed: \(FileBytes.errorText(errno))")
            }
        }
    }
}

extension AtomicFile {
    /// The prefix of the temporary files of writes to `name`: `.NAME.tmp-`.
    static func temporaryPrefix(of name: String) -> String { "." + name + ".tmp-" }

    /// Removes the temporary files that earlier writes to `directory/name` left behind when
    /// they were killed: entries named `.NAME.tmp-` followed by hexadecimal digits. Errors are
    /// ignored (a leftover that cannot be removed does no harm to the write).
    static func removeLeftovers(of name: String, in directory: String) {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        let prefix = Array(temporaryPrefix(of: name).utf8)
        var leftovers: [String] = []
        while let entry = readdir(stream) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let bytes = Array(entryName.utf8)
            guard bytes.count > prefix.count, bytes.starts(with: prefix),
                  bytes[prefix.count...].allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else { continue }
            leftovers.append(entryName)
        }
        for leftover in leftovers { unlink(directory + "/" + leftover) }
    }
}

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
