import Backprop
@testable import BackpropCLI
import Foundation
import Synchronization
import XCTest

/// The built `mlp-train` binary as a subprocess: signals and the real exit status.
/// Skipped when the binary is not next to the test bundle (`swift build` builds both).
final class MLPTrainProcessTests: CLITestCase {
    /// Waits (up to a generous limit, only so that a broken build cannot hang the suite) until
    /// `condition` holds.
    private func wait(_ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(120)
        while !condition() {
            if Date() > deadline { throw XCTSkip("gave up waiting for \(what) after 120 s (machine overloaded?)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Starts `mlp-train` on a long run over the synthetic data, waits for its first progress
    /// line, sends `signal`, and returns its exit status, standard error and checkpoint path.
    private func interruptedRun(signal: Int32, save: String?) throws -> (status: Int32, error: String, reason: Process.TerminationReason) {
        let executable = try ChildProcess.mlpTrain()
        try writeSyntheticIDX(trainCount: 3000, testCount: 30)
        let process = Process()
        process.executableURL = executable
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var arguments = ["--data", directory, "--layers", "16,32,3", "--batch-size", "4", "--epochs", "100000",
                         "--threads", "2", "--lr", "0.01"]
        if let save { arguments += ["--save", save] }
        process.arguments = arguments
        let errorPipe = Pipe(), outputPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = outputPipe
        let errors = ChildProcess.PipeReader(errorPipe)
        _ = ChildProcess.PipeReader(outputPipe)
        try process.run()
        try wait("the first progress line") { errors.current.contains("epoch 1/100000 ") || !process.isRunning }
        XCTAssertTrue(process.isRunning, "mlp-train ended early: \(errors.current)")
        kill(process.processIdentifier, signal)
        try wait("mlp-train to exit after the signal") { !process.isRunning }
        process.waitUntilExit()
        try wait("standard error to close") { errors.finished }
        return (process.terminationStatus, errors.current, process.terminationReason)
    }

    func testSIGINTFinishesTheStepSavesAndExits130() throws {
        let save = path("run.safetensors")
        let (status, error, reason) = try interruptedRun(signal: SIGINT, save: save)
        XCTAssertEqual(reason, .exit, "it must exit by itself, not die of the signal: \(error)")
        XCTAssertEqual(status, 130, error)
        XCTAssertTrue(error.contains("SIGINT: stopped at step "), error)
        XCTAssertTrue(error.contains("saved \(save)"), error)
        let checkpoint = try TrainCheckpoint.read(save)
        XCTAssertGreaterThan(checkpoint.state.stepCount, 0)
        XCTAssertEqual(checkpoint.configuration.layers, [16, 32, 3])
        // The checkpoint is where the run stopped: offset and step agree with 4-sample batches.
        let perEpoch = 3000 / 4
        XCTAssertEqual(checkpoint.position.epoch * perEpoch + checkpoint.position.sampleOffset / 4, checkpoint.state.stepCount)
        for layer in checkpoint.state.model.layers {
            XCTAssertTrue(layer.weight.values.allSatisfy(\.isFinite))
        }
    }

    func testSIGTERMWithoutSaveWritesTheDefaultCheckpointAndExits143() throws {
        let (status, error, reason) = try interruptedRun(signal: SIGTERM, save: nil)
        XCTAssertEqual(reason, .exit, error)
        XCTAssertEqual(status, 143, error)
        let fallback = path(TrainOptions.Defaults.interruptedCheckpoint)
        XCTAssertTrue(error.contains("saved \(TrainOptions.Defaults.interruptedCheckpoint)"), error)
        let checkpoint = try TrainCheckpoint.read(fallback)
        XCTAssertGreaterThan(checkpoint.state.stepCount, 0)
    }

    func testUsageErrorExitStatusOfTheBinary() throws {
        let process = Process()
        process.executableURL = try ChildProcess.mlpTrain()
        process.arguments = ["--epochs", "many"]
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 2)
        let text = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(text, "mlp-train: option --epochs: 'many' is not a positive integer (see mlp-train --help)\n")
    }
}

/// The signal flag in-process: armed as soon as `start()` returns.
final class CLIInterruptMonitorTests: XCTestCase {
    func testSignalsSetTheFlagAndStopRestoresTheActions() {
        let monitor = InterruptMonitor()
        monitor.start()
        XCTAssertNil(monitor.receivedSignal)
        raise(SIGTERM)  // delivered to this thread before raise returns
        XCTAssertEqual(monitor.receivedSignal, SIGTERM)
        monitor.stop()
        var current = sigaction()
        sigaction(SIGTERM, nil, &current)
        XCTAssertEqual(unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self),
                       unsafeBitCast(SIG_DFL, to: Int.self), "stop() restores the default action")

        monitor.start()
        XCTAssertNil(monitor.receivedSignal, "start() clears an earlier signal")
        raise(SIGINT)
        XCTAssertEqual(monitor.receivedSignal, SIGINT)
        monitor.stop()
        XCTAssertEqual(InterruptMonitor.exitStatus(for: SIGINT), 130)
        XCTAssertEqual(InterruptMonitor.exitStatus(for: SIGTERM), 143)
    }
}
