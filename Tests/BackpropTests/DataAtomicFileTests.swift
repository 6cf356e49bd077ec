@testable import Backprop
import Foundation
import XCTest

final class DataAtomicFileTests: DataTestCase {
    /// The names in the test directory other than `except`.
    func leftovers(except: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { !except.contains($0) }
    }

    func testWritesAndReplacesKeepingPermissions() throws {
        let file = path("out.bin")
        try AtomicFile.write([1, 2, 3], to: file)
        XCTAssertEqual(try contents(file), [1, 2, 3])
        chmod(file, 0o600)
        try AtomicFile.write(Data([9, 8]), to: file)
        XCTAssertEqual(try contents(file), [9, 8])
        var info = stat()
        stat(file, &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        try AtomicFile.write([], to: file)
        XCTAssertEqual(try contents(file), [])
        XCTAssertEqual(try leftovers(except: ["out.bin"]), [])
    }

    func testRelativePath() throws {
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(directory))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try AtomicFile.write([7], to: "relative.bin")
        XCTAssertEqual(try contents(path("relative.bin")), [7])
    }

    func testFailureBeforeRenameLeavesOldFileAndNoTemporary() throws {
        struct Injected: Error {}
        let file = try write([1, 2, 3], "keep.bin")
        let bytes: [UInt8] = [4, 5, 6, 7]
        XCTAssertThrowsError(try bytes.withUnsafeBytes {
            try AtomicFile.write($0, to: file, beforeRename: {
                // The temporary file is complete at this point.
                let names = try leftovers(except: ["keep.bin"])
                XCTAssertEqual(names.count, 1)
                XCTAssertTrue(names[0].hasPrefix(".keep.bin.tmp-"))
                XCTAssertEqual(try contents(path(names[0])), bytes)
                throw Injected()
            })
        }) { XCTAssertTrue($0 is Injected) }
        XCTAssertEqual(try contents(file), [1, 2, 3])
        XCTAssertEqual(try leftovers(except: ["keep.bin"]), [])
    }

    func testPathIsADirectory() throws {
        let target = path("dir")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try write([1], "dir/inside")
        assertDataError(try AtomicFile.write([1, 2], to: target), file: target, "is a directory")
        XCTAssertEqual(try contents(path("dir/inside")), [1])
        XCTAssertEqual(try leftovers(except: ["dir"]), [])
        assertDataError(try AtomicFile.write([1], to: target + "/"), file: target + "/", "not a file path")
    }

    func testMissingOrUnwritableDirectory() throws {
        let nowhere = path("no/such/dir/file.bin")
        assertDataError(try AtomicFile.write([1], to: nowhere), file: nowhere, "cannot create a temporary file in",
                        "No such file or directory")
        let underFile = try write([0], "plain")
        assertDataError(try AtomicFile.write([1], to: underFile + "/x"), file: underFile + "/x",
                        "cannot create a temporary file", "Not a directory")
        let locked = path("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        let file = try write([1, 2, 3], "locked/old.bin")
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        // Root ignores directory permissions: act as `nobody` (effective uid 65534) for the write.
        let asRoot = geteuid() == 0
        if asRoot && seteuid(65534) != 0 { throw XCTSkip("running as root and cannot switch to uid 65534") }
        assertDataError(try AtomicFile.write([9], to: file), file: file, "cannot create a temporary file", "Permission denied")
        if asRoot { XCTAssertEqual(seteuid(0), 0) }
        XCTAssertEqual(try contents(file), [1, 2, 3])
    }
}
