@testable import Backprop
@testable import BackpropCLI
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// Kills the real `mlp-train` at random moments (seeded) while it saves a large checkpoint after
/// every step, then reloads what is on disk: the checkpoint is always a whole one (the one
/// before or a newer one), never torn, and the run resumed from it ends bitwise where an
/// uninterrupted run does.
final class CheckpointKillTests: CLITestCase {
    /// How a round ends the process.
    private enum Kill: String, CaseIterable {
        /// SIGKILL: no handler runs; a save in progress is cut off.
        case sigkill
        /// One SIGINT: the step (and a save in progress) finishes, a checkpoint is saved, exit 130.
        case sigint
        /// One SIGTERM: as SIGINT, exit 143.
        case sigterm
        /// SIGINT twice: the second one ends the process at once (default action), even mid-save.
        case doubleSigint
    }

    /// The leftover temporary files of writes to `name` in the test directory.
    private func temporaries(of name: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix(AtomicFile.temporaryPrefix(of: name)) }
    }

    private func fileBytes(_ file: String) -> [UInt8]? {
        FileManager.default.contents(atPath: file).map { [UInt8]($0) }
    }

    func testKillsAtRandomMomentsLeaveAWholeCheckpoint() throws {
        let executable = try ChildProcess.mlpTrain()
        let trainCount = 480, batch = 8
        try writeSyntheticIDX(trainCount: trainCount, testCount: 30)
        let seed = ProcessInfo.processInfo.environment["BACKPROP_KILL_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("kill test: seed \(seed) (replay with BACKPROP_KILL_SEED=\(seed))")
        var generator = SplitMix64(seed: seed)

        let name = "run.safetensors"
        let save = path(name)
        // 16·384 + 384·384 + 384·3 weights with momentum: a 1.2 MB checkpoint written (and
        // fsync'ed) after every step of 8 samples, so that most of the run is spent saving.
        let training = ["--data", directory, "--layers", "16,384,384,3", "--batch-size", "\(batch)",
                        "--epochs", "1000", "--threads", "2", "--lr", "0.01", "--optimizer", "momentum",
                        "--seed", "7", "--quiet"]
        let arguments = training + ["--save", save, "--save-every", "1"]
        let perEpoch = trainCount / batch

        var previous: [UInt8]?
        var previousStep = 0
        var rounds: [Kill: Int] = [:]
        var signalledWhileSaving = 0  // a temporary file existed when the signal was sent
        var cutOffSaves = 0           // the process died leaving a temporary file: killed inside a save
        var unchanged = 0, advanced = 0
        var round = 0
        // 24 rounds, and more (up to 64) until at least two kills have cut a save off.
        while round < 24 || (cutOffSaves < 2 && round < 64) {
            let how = Kill.allCases[round % Kill.allCases.count]
            let context = "kill seed \(seed), round \(round + 1) (\(how.rawValue))"
            round += 1
            let existed = FileManager.default.fileExists(atPath: save)
            var modified = existed ? try FileManager.default.attributesOfItem(atPath: save)[.modificationDate] as? Date : nil
            let running = try ChildProcess.start(executable, arguments + (existed ? ["--resume", save] : []), in: directory)

            // Wait until the run saves (a new temporary file appears or the checkpoint is replaced),
            // so that it is training with its signal handlers armed, then a random 0-150 ms more.
            let leftoverBefore = Set(try temporaries(of: name))
            try ChildProcess.wait("mlp-train to save (\(context))") {
                if !running.process.isRunning { return true }
                if let files = try? temporaries(of: name), !Set(files).isSubset(of: leftoverBefore) { return true }
                let now = (try? FileManager.default.attributesOfItem(atPath: save))?[.modificationDate] as? Date
                return now != nil && now != modified
            }
            XCTAssertTrue(running.process.isRunning, "\(context): mlp-train ended early: \(running.errors.current)")
            Thread.sleep(forTimeInterval: Double(generator.next() % 150_000) / 1e6)
            if !(try temporaries(of: name).isEmpty) { signalledWhileSaving += 1 }
            let pid = running.process.processIdentifier
            switch how {
            case .sigkill: Glibc.kill(pid, SIGKILL)
            case .sigint: Glibc.kill(pid, SIGINT)
            case .sigterm: Glibc.kill(pid, SIGTERM)
            case .doubleSigint:
                Glibc.kill(pid, SIGINT)
                Thread.sleep(forTimeInterval: Double(generator.next() % 3_000) / 1e6)
                Glibc.kill(pid, SIGINT)
            }
            let (status, reason, errors) = try ChildProcess.finish(running)
            rounds[how, default: 0] += 1

            switch how {
            case .sigkill:
                XCTAssertEqual(reason, .uncaughtSignal, context)
                XCTAssertEqual(status, SIGKILL, context)
            case .sigint, .sigterm:
                XCTAssertEqual(reason, .exit, "\(context): \(errors)")
                XCTAssertEqual(status, how == .sigint ? 130 : 143, "\(context): \(errors)")
                XCTAssertTrue(errors.contains(": stopped at step "), "\(context): \(errors)")
                XCTAssertEqual(try temporaries(of: name), [], "\(context): a handled signal leaves no temporary file")
            case .doubleSigint:
                // Usually killed by the second signal; it may also have finished its save and exited first.
                XCTAssertTrue((reason == .uncaughtSignal && status == SIGINT) || (reason == .exit && status == 130),
                              "\(context): \(reason) \(status) \(errors)")
            }
            let leftovers = try temporaries(of: name)
            XCTAssertLessThanOrEqual(leftovers.count, 1, "\(context): the next save removes older leftovers: \(leftovers)")
            if !leftovers.isEmpty { cutOffSaves += 1 }

            // What is on disk is a whole checkpoint: the one before, or a newer one.
            // A kill inside the very first save leaves none, and none is lost: there was none before.
            guard let bytes = fileBytes(save) else {
                if previous != nil { XCTFail("\(context): the checkpoint on disk is gone"); break }
                unchanged += 1
                continue
            }
            let checkpoint: TrainCheckpoint
            do {
                checkpoint = try TrainCheckpoint.read(save)
            } catch {
                XCTFail("\(context): the checkpoint on disk does not load: \(error)")
                break
            }
            let step = checkpoint.state.stepCount
            XCTAssertEqual(checkpoint.position.epoch * perEpoch + checkpoint.position.sampleOffset / batch, step, context)
            for layer in checkpoint.state.model.layers {
                XCTAssertTrue(layer.weight.values.allSatisfy(\.isFinite) && layer.bias.allSatisfy(\.isFinite), context)
            }
            if bytes == previous {
                unchanged += 1
            } else {
                XCTAssertGreaterThan(step, previousStep, "\(context): a new checkpoint is a later one")
                advanced += 1
            }
            previous = bytes
            previousStep = step
            modified = nil
        }

        // One more run, stopped by SIGTERM once it has saved: its saves clean up any leftover.
        let final = try ChildProcess.start(executable, arguments + ["--resume", save], in: directory)
        let before = try FileManager.default.attributesOfItem(atPath: save)[.modificationDate] as? Date
        try ChildProcess.wait("the last run to save") {
            !final.process.isRunning
                || (try? FileManager.default.attributesOfItem(atPath: save))?[.modificationDate] as? Date != before
        }
        Glibc.kill(final.process.processIdentifier, SIGTERM)
        let (status, _, errors) = try ChildProcess.finish(final)
        XCTAssertEqual(status, 143, errors)
        XCTAssertEqual(try temporaries(of: name), [], "leftover temporary files are removed by the next save")

        // The killed-and-resumed run is bitwise where an uninterrupted one is after as many steps.
        let steps = try TrainCheckpoint.read(save).state.stepCount
        let reference = path("reference.safetensors")
        let uninterrupted = run(training + ["--steps", "\(steps)", "--save", reference])
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.error)
        XCTAssertEqual(try tensorBits(save), try tensorBits(reference),
                       "after \(steps) steps in \(round + 1) killed and resumed runs")

        print("kill test: seed \(seed), \(round) rounds (\(Kill.allCases.map { "\($0.rawValue) \(rounds[$0, default: 0])" }.joined(separator: ", "))), "
              + "\(signalledWhileSaving) signals sent while a save was in progress, \(cutOffSaves) saves cut off "
              + "(a temporary file left behind, removed by the next run's save), checkpoint unchanged \(unchanged) / "
              + "advanced \(advanced) times, final step \(steps) bitwise equal to an uninterrupted run")
        XCTAssertGreaterThanOrEqual(cutOffSaves, 2, "no kill landed inside a save in \(round) rounds")
    }
}
