import Backprop
@testable import BackpropCLI
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// Saving a checkpoint to a full disk: a typed error naming the file, the old checkpoint intact
/// bitwise, no temporary file left. The disk is really full: a 64 KiB tmpfs mounted for the test
/// and filled up (ENOSPC). Where mounting is not permitted (an unprivileged container), or with
/// `BACKPROP_TEST_NO_MOUNT=1`, a real write failure stands in: a file size limit
/// (`RLIMIT_FSIZE`, with SIGXFSZ ignored) below the checkpoint's size, so that `write` fails
/// with EFBIG. Each test prints which path ran.
final class CheckpointFullDiskTests: CLITestCase {
    private var mountPoint: String?

    override func tearDownWithError() throws {
        if let mountPoint { _ = umount2(mountPoint, Int32(MNT_DETACH)) }
        mountPoint = nil
        try super.tearDownWithError()
    }

    /// Mounts a 64 KiB tmpfs on `directory/disk`; `nil` when mounting is not permitted.
    private func mountTinyFilesystem() throws -> String? {
        if ProcessInfo.processInfo.environment["BACKPROP_TEST_NO_MOUNT"] == "1" { return nil }
        let disk = path("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        guard mount("tmpfs", disk, "tmpfs", 0, "size=64k") == 0 else {
            print("full disk: mount(tmpfs) failed (\(String(cString: strerror(errno)))): using RLIMIT_FSIZE instead")
            return nil
        }
        mountPoint = disk
        return disk
    }

    /// Fills the file system holding `directory` with a file until a write fails with ENOSPC.
    private func fill(_ directory: String) throws {
        let fd = open(directory + "/filler", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xA5, count: 4096)
        while true {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                XCTAssertEqual(errno, ENOSPC, "filling the tmpfs")
                return
            }
        }
    }

    /// Runs `body` with the process's file size limit at `bytes` and SIGXFSZ ignored (so that a
    /// write past it fails with EFBIG instead of killing the process), then restores both.
    private func withFileSizeLimit<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
        let resource = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
        var old = rlimit()
        getrlimit(resource, &old)
        var limited = old
        limited.rlim_cur = rlim_t(bytes)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        setrlimit(resource, &limited)
        defer {
            setrlimit(resource, &old)
            signal(SIGXFSZ, oldHandler)
        }
        return try body()
    }

    private func temporaries(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
    }

    func testCheckpointSaveToAFullDiskThrowsNamingTheFileAndKeepsTheOldOne() throws {
        let old = Checkpoint(model: try MLP(sizes: [4, 8, 3], activations: [.relu, .identity], seed: 1),
                             loss: .softmaxCrossEntropy, epoch: 1)
        let newer = Checkpoint(model: try MLP(sizes: [4, 8, 3], activations: [.relu, .identity], seed: 2),
                               loss: .softmaxCrossEntropy, epoch: 2)
        let disk = try mountTinyFilesystem()
        let folder = disk ?? directory
        let file = folder + "/model.safetensors"
        try old.save(to: file)
        let before = try XCTUnwrap(FileManager.default.contents(atPath: file))

        let expected = String(cString: strerror(disk != nil ? ENOSPC : EFBIG))
        do {
            if let disk {
                try fill(disk)
                try newer.save(to: file)
            } else {
                try withFileSizeLimit(before.count / 2) { try newer.save(to: file) }
            }
            XCTFail("saving to a full disk succeeded")
        } catch let error as DataError {
            XCTAssertEqual(error.file, file)
            XCTAssertTrue(error.fault.contains("write failed (the old file is untouched)"), error.fault)
            XCTAssertTrue(error.fault.contains(expected), "\(error.fault) should say \(expected)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: file), before, "the old checkpoint is bitwise intact")
        XCTAssertEqual(try temporaries(in: folder), [], "the temporary file is removed")
        XCTAssertEqual(try Checkpoint.load(file).model, old.model)
        print("full disk (Checkpoint.save): \(disk != nil ? "64 KiB tmpfs, ENOSPC" : "RLIMIT_FSIZE, EFBIG") path ran")
    }

    func testMLPTrainSaveToAFullDiskExitsOneNamingTheFileAndKeepsTheOldCheckpoint() throws {
        let executable = try ChildProcess.mlpTrain()
        try writeSyntheticIDX(trainCount: 90, testCount: 30)
        let disk = try mountTinyFilesystem()
        let folder = disk ?? directory
        let save = folder + "/run.safetensors"
        let first = run(tinyRun(["--epochs", "1", "--save", save]))
        XCTAssertEqual(first.status, 0, first.error)
        let before = try XCTUnwrap(FileManager.default.contents(atPath: save))
        let step = try TrainCheckpoint.read(save).state.stepCount

        // The next epoch's save fails: the disk is full, or the file size limit is below the checkpoint's size.
        let arguments = tinyRun(["--epochs", "2", "--resume", save, "--save", save])
        let running: ChildProcess.Running
        let expected: String
        if let disk {
            try fill(disk)
            expected = String(cString: strerror(ENOSPC))
            running = try ChildProcess.start(executable, arguments, in: directory)
        } else {
            // bash's `ulimit -f` counts KiB: 1 KiB, below the checkpoint's size.
            XCTAssertGreaterThan(before.count, 1024)
            expected = String(cString: strerror(EFBIG))
            running = try ChildProcess.start(URL(fileURLWithPath: "/bin/bash"),
                                             ["-c", "ulimit -f 1 && trap '' XFSZ && exec \"$0\" \"$@\"", executable.path] + arguments,
                                             in: directory)
        }
        let (status, reason, errors) = try ChildProcess.finish(running)
        XCTAssertEqual(reason, .exit, errors)
        XCTAssertEqual(status, 1, errors)
        XCTAssertEqual(errors, "mlp-train: --save \(save): cannot write: write failed (the old file is untouched): \(expected)\n")
        XCTAssertEqual(FileManager.default.contents(atPath: save), before, "the old checkpoint is bitwise intact")
        XCTAssertEqual(try temporaries(in: folder), [], "the temporary file is removed")
        XCTAssertEqual(try TrainCheckpoint.read(save).state.stepCount, step)
        print("full disk (mlp-train): \(disk != nil ? "64 KiB tmpfs, ENOSPC" : "RLIMIT_FSIZE, EFBIG") path ran")
    }
}

/// Leftover temporary files of killed writes are removed by the next write to the same path.
final class AtomicFileLeftoverTests: CLITestCase {
    func testNextWriteRemovesLeftoversOfThatPathOnly() throws {
        let target = path("model.safetensors")
        let leftover = path(".model.safetensors.tmp-3fa9c01d")
        let unrelated = [path(".model.safetensors.tmp-notahex"), path(".other.safetensors.tmp-3fa9c01d"),
                         path("model.safetensors.tmp-3fa9c01d")]
        for file in [leftover] + unrelated {
            XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3])))
        }
        try AtomicFile.write([7, 8, 9], to: target)
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover), "the leftover of a killed write is removed")
        for file in unrelated {
            XCTAssertTrue(FileManager.default.fileExists(atPath: file), "\(file) is not a temporary file of \(target)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: target), Data([7, 8, 9]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".model.safetensors.tmp-") },
                       [".model.safetensors.tmp-notahex"])
    }
}
