#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Backprop
import Foundation

/// Checks on the files `mlp-train` writes.
enum OutputFile {
    /// Checks, without touching `path`, that a file can be created at `path` the way atomic
    /// writes create it (a new file in the same directory, then renamed over `path`): the
    /// directory exists and accepts a new file, and `path` is not a directory.
    /// - Throws: `CLIError.unwritableFile` naming `flag` and `path`, with the system's reason.
    static func checkWritable(_ path: String, flag: String) throws(CLIError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .unwritableFile(path: path, flag: flag, message: "it is a directory")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) else {
            throw .unwritableFile(path: path, flag: flag, message: "the directory \(parent) does not exist")
        }
        guard isDirectory.boolValue else {
            throw .unwritableFile(path: path, flag: flag, message: "\(parent) is not a directory")
        }
        let probe = parent + "/.mlp-train-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw .unwritableFile(path: path, flag: flag, message: String(cString: strerror(errno)))
        }
        close(descriptor)
        unlink(probe)
    }

    /// Writes `matrix` to `path` atomically as a NumPy `.npy` file (format 1.0, `<f4`,
    /// C order, shape `(rows, columns)`), the values bitwise.
    /// - Throws: `CLIError.unwritableFile` naming `flag` and `path` when the write fails.
    static func writeNPY(_ matrix: Matrix, to path: String, flag: String) throws(CLIError) {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(matrix.rows), \(matrix.columns)), }"
        // Magic (6) + version (2) + header length (2) + header + newline: a multiple of 64 bytes.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + 4 * matrix.count)
        matrix.withUnsafeBufferPointer { values in
            for value in values {
                let bits = value.bitPattern.littleEndian
                bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
            }
        }
        do {
            try AtomicFile.write(bytes, to: path)
        } catch let error as DataError {
            throw .unwritableFile(path: path, flag: flag, message: error.fault)
        } catch {
            throw .unwritableFile(path: path, flag: flag, message: "\(error)")
        }
    }
}
