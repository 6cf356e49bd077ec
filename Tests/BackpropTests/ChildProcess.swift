import Foundation
import Synchronization
import XCTest

/// The built `mlp-train` binary as a child process, for the fault-handling tests.
enum ChildProcess {
    /// `.build/<configuration>/mlp-train`, next to the test bundle; skips the test when it is missing.
    static func mlpTrain() throws -> URL {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleDirectory, Bundle.main.bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("mlp-train") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("mlp-train is not built next to the test bundle (looked in \(candidates.map(\.path)))")
        }
        return found
    }

    /// Collects a pipe's text on a background thread.
    final class PipeReader: Sendable {
        private let text = Mutex("")
        private let done = Atomic<Bool>(false)

        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    text.withLock { $0 += String(decoding: data, as: UTF8.self) }
                }
                done.store(true, ordering: .releasing)
            }
        }

        var current: String { text.withLock { $0 } }
        var finished: Bool { done.load(ordering: .acquiring) }
    }

    /// A started process with its standard error collected.
    struct Running {
        let process: Process
        let errors: PipeReader
    }

    /// Starts `executable arguments` in `directory`, standard output discarded, standard error collected.
    static func start(_ executable: URL, _ arguments: [String], in directory: String) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errorPipe = Pipe(), outputPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = outputPipe
        let errors = PipeReader(errorPipe)
        _ = PipeReader(outputPipe)
        try process.run()
        return Running(process: process, errors: errors)
    }

    /// Waits until `condition` holds, polling; gives up (skipping the test) after `limit` seconds,
    /// only so that a broken build or an overloaded machine cannot hang the suite.
    static func wait(_ what: String, limit: Double = 120, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(limit)
        while !condition() {
            if Date() > deadline { throw XCTSkip("gave up waiting for \(what) after \(limit) s (machine overloaded?)") }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// Waits for `running` to end and its standard error to close.
    static func finish(_ running: Running) throws -> (status: Int32, reason: Process.TerminationReason, error: String) {
        try wait("the process to exit") { !running.process.isRunning }
        running.process.waitUntilExit()
        try wait("standard error to close") { running.errors.finished }
        return (running.process.terminationStatus, running.process.terminationReason, running.errors.current)
    }
}
