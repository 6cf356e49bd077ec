#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads with POSIX calls, so that every failure becomes a `DataError` naming
/// the file and the operating system's reason.
enum FileBytes {
    /// The whole content of the file at `path`. The allocation is the file's actual size
    /// (read until end of file, so a file that grows or shrinks meanwhile is read as it is).
    /// - Throws: `DataError` when the file is missing, a directory, unreadable or fails to read.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError(file: path, fault: "cannot open: \(errorText(errno))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DataError(file: path, fault: "cannot stat: \(errorText(errno))") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw DataError(file: path, fault: "is a directory, not a file") }
        var bytes: [UInt8] = []
        let expected = (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : 0
        bytes.reserveCapacity(expected + 1)
        var chunk = max(expected + 1, 1 << 16)
        while true {
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: chunk))
            var got = 0
            while got < chunk {
                let n = bytes.withUnsafeMutableBytes { buffer in
                    posixRead(fd, buffer.baseAddress! + start + got, chunk - got)
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError(file: path, fault: "read failed: \(errorText(errno))")
                }
                if n == 0 { break }
                got += n
            }
            bytes.removeLast(chunk - got)
            if got < chunk { return bytes }
            chunk = max(bytes.count, 1 << 16)
        }
    }

    /// Whether `bytes` start with the gzip magic bytes `1f 8b`.
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Whether a directory entry named `path` exists (file or directory).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// `strerror(code)` as a string.
    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

@inline(__always)
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
