#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
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
        // The directory as the user wrote it: everything before the last "/".
        let parent: String
        if let slash = path.lastIndex(of: "/") {
            parent = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            parent = "."
        }
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
}
