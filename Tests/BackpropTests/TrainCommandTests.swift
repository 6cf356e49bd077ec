import Backprop
import CAllocationCounter
@testable import BackpropCLI
import Foundation
import XCTest

/// `mlp-train` end to end, in-process, on tiny synthetic IDX data.
final class TrainCommandTests: CLITestCase {
    func testTrainsAndLearnsTheSyntheticData() throws {
        try writeSyntheticIDX()
        let result = run(tinyRun(["--epochs", "5", "--json"]))
        XCTAssertEqual(result.status, 0, result.error)
        let last = try XCTUnwrap(result.outputLines.last)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let accuracy = try XCTUnwrap(object["test_accuracy"] as? Double)
        XCTAssertGreaterThan(accuracy, 0.9, "the bands are easy to separate; got \(accuracy)")
    }

    func testJSONLinesParseWithTheDocumentedKeys() throws {
        try writeSyntheticIDX()
        let result = run(tinyRun(["--epochs", "3", "--json"]))
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.outputLines
        XCTAssertEqual(lines.count, 3, result.output)
        let steps = (90 + 7) / 8  // 11 full batches and one of 2 samples per epoch
        for (i, line) in lines.enumerated() {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            XCTAssertEqual(Set(object.keys), ["epoch", "step", "train_loss", "test_loss", "test_accuracy",
                                               "seconds", "samples_per_second"])
            XCTAssertEqual(object["epoch"] as? Int, i + 1)
            XCTAssertEqual(object["step"] as? Int, (i + 1) * steps)
            for key in ["train_loss", "test_loss", "test_accuracy", "seconds", "samples_per_second"] {
                XCTAssertNotNil(object[key] as? Double, "\(key) in \(line)")
            }
        }
        // --quiet with --json: nothing human on stderr.
        XCTAssertEqual(result.error, "")
    }

    func testHumanOutputWithoutJSON() throws {
        try writeSyntheticIDX()
        var arguments = tinyRun(["--epochs", "2"])
        arguments.removeAll { $0 == "--quiet" }
        let result = run(arguments)
        XCTAssertEqual(result.status, 0, result.error)
        let epochLines = result.outputLines.filter { $0.hasPrefix("epoch ") }
        XCTAssertEqual(epochLines.count, 2, result.output)
        XCTAssertTrue(epochLines[1].hasPrefix("epoch 2/2  train loss "), epochLines[1])
        XCTAssertTrue(epochLines[1].contains("test accuracy "), epochLines[1])
        XCTAssertTrue(epochLines[1].contains("samples/s"), epochLines[1])
        // Not a terminal: plain progress lines, no carriage returns.
        XCTAssertTrue(result.error.contains("epoch 1/2 "), result.error)
        XCTAssertFalse(result.error.contains("\r"))
    }

    func testHelpPrintsUsageAndSucceeds() {
        let result = run(["--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.output.hasPrefix("usage: mlp-train"))
        XCTAssertEqual(result.error, "")
    }

    func testUsageErrorsExit2WithOneLine() {
        for arguments in [["--bogus"], ["--epochs"], ["--epochs", "x"], ["--data", "a", "--train-csv", "b"]] {
            let result = run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertTrue(result.error.hasPrefix("mlp-train: "), result.error)
            XCTAssertTrue(result.error.hasSuffix(" (see mlp-train --help)\n"), result.error)
            XCTAssertEqual(result.error.filter { $0 == "\n" }.count, 1, result.error)
            XCTAssertEqual(result.output, "")
        }
    }

    func testLayersThatDoNotFitTheDataAreUsageErrors() throws {
        try writeSyntheticIDX()
        let wrongInputs = run(tinyRun([], layers: "10,8,3"))
        XCTAssertEqual(wrongInputs.status, 2)
        XCTAssertEqual(wrongInputs.error, "mlp-train: option --layers: the first layer takes 10 inputs but the samples in "
            + "\(directory) have 16 features (see mlp-train --help)\n")
        let tooFewOutputs = run(tinyRun([], layers: "16,8,2"))
        XCTAssertEqual(tooFewOutputs.status, 2)
        XCTAssertEqual(tooFewOutputs.error, "mlp-train: option --layers: the last layer has 2 outputs but the labels in "
            + "\(directory) need 3 classes (0..<3) (see mlp-train --help)\n")
        // More outputs than classes is allowed (unused classes).
        XCTAssertEqual(run(tinyRun(["--epochs", "1"], layers: "16,8,5")).status, 0)
    }

    func testMissingDataIsADataError() {
        let result = run(["--data", path("nowhere"), "--quiet"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.error.hasPrefix("mlp-train: \(path("nowhere")): no such directory"), result.error)
        XCTAssertEqual(result.error.filter { $0 == "\n" }.count, 1)

        let idx = run(["--train-images", path("x"), "--train-labels", path("y")])
        XCTAssertEqual(idx.status, 1)
        XCTAssertTrue(idx.error.hasPrefix("mlp-train: \(path("x")): "), idx.error)
    }

    func testCorruptDataIsADataError() throws {
        try writeSyntheticIDX()
        try Data([0, 0, 8, 3, 0, 0]).write(to: URL(fileURLWithPath: path("train-images-idx3-ubyte")))
        let result = run(tinyRun([]))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.error.hasPrefix("mlp-train: \(path("train-images-idx3-ubyte")): "), result.error)
        XCTAssertEqual(result.error.filter { $0 == "\n" }.count, 1)
    }

    func testUnwritableSavePathFailsBeforeTraining() throws {
        try writeSyntheticIDX()
        for (target, reason) in [(path("missing-dir/out.safetensors"), "the directory \(path("missing-dir")) does not exist"),
                                 (directory, "it is a directory")] {
            let result = run(tinyRun(["--epochs", "1", "--json", "--save", target]))
            XCTAssertEqual(result.status, 1)
            XCTAssertEqual(result.error, "mlp-train: --save \(target): cannot write: \(reason)\n")
            XCTAssertEqual(result.output, "", "no epoch may run before the save path is checked")
        }
        let predictions = run(tinyRun(["--predictions-out", path("missing-dir/p.npy")]))
        XCTAssertEqual(predictions.status, 1)
        XCTAssertTrue(predictions.error.hasPrefix("mlp-train: --predictions-out "), predictions.error)
    }

    func testUnreadableCheckpointIsADataError() throws {
        try writeSyntheticIDX()
        for flag in ["--resume", "--init"] {
            let missing = run(tinyRun([flag, path("none.safetensors")]))
            XCTAssertEqual(missing.status, 1, flag)
            XCTAssertTrue(missing.error.hasPrefix("mlp-train: \(path("none.safetensors")): "), missing.error)
        }
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: path("junk.safetensors")))
        let junk = run(tinyRun(["--resume", path("junk.safetensors")]))
        XCTAssertEqual(junk.status, 1)
        XCTAssertTrue(junk.error.hasPrefix("mlp-train: \(path("junk.safetensors")): "), junk.error)
    }

    func testStepLimitStopsMidEpoch() throws {
        try writeSyntheticIDX()
        let save = path("s.safetensors")
        let result = run(tinyRun(["--epochs", "3", "--steps", "5", "--save", save]))
        XCTAssertEqual(result.status, 0, result.error)
        let meta = try metadata(save)
        XCTAssertEqual(meta["step"], "5")
        XCTAssertEqual(meta["epoch"], "0")
        XCTAssertEqual(meta["sample_offset"], "40")
    }

    // MARK: - Resume

    /// Two epochs straight, and 1 epoch + resume + 1 epoch, give bitwise the same weights
    /// (with a constant learning rate: the cosine schedule spans the run's epochs, so a run of
    /// `--epochs 1` anneals differently from the first epoch of `--epochs 2`).
    func testResumeAfterAnEpochIsBitwiseIdentical() throws {
        try writeSyntheticIDX()
        let straight = path("straight.safetensors"), split = path("split.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", straight, "--lr-schedule", "constant"])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", split, "--lr-schedule", "constant"])).status, 0)
        XCTAssertFalse(try sameTensors(split, straight), "one epoch must differ from two")
        let resumed = run(["--data", directory, "--resume", split, "--epochs", "2", "--save", split, "--quiet", "--threads", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        try assertSameTensors(split, straight)
        XCTAssertEqual(try metadata(split)["step"], try metadata(straight)["step"])
    }

    /// With the cosine schedule: a 2-epoch run stopped at the end of epoch 1 (--steps), then
    /// resumed, equals the straight run; the checkpoint carries the schedule and epoch count.
    func testResumeAtAnEpochBoundaryWithCosineIsBitwiseIdentical() throws {
        try writeSyntheticIDX()
        let straight = path("straight.safetensors"), split = path("split.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", straight])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--steps", "12", "--save", split, "--json"])).outputLines.count, 1)
        XCTAssertEqual(try metadata(split)["epoch"], "1")
        XCTAssertEqual(try metadata(split)["sample_offset"], "0")
        let resumed = run(["--data", directory, "--resume", split, "--save", split, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        try assertSameTensors(split, straight)
    }

    /// Stopped by --steps in the middle of an epoch, then resumed: the same weights as a run
    /// that was never stopped.
    func testResumeMidEpochIsBitwiseIdentical() throws {
        try writeSyntheticIDX()
        let straight = path("straight.safetensors"), split = path("split.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", straight])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--steps", "17", "--save", split])).status, 0)
        XCTAssertEqual(try metadata(split)["step"], "17")
        let resumed = run(["--data", directory, "--resume", split, "--save", split, "--quiet", "--threads", "2", "--json"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertEqual(resumed.outputLines.count, 1, "only epoch 2 remains")
        try assertSameTensors(split, straight)
    }

    func testResumingACompletedRunTrainsNothing() throws {
        try writeSyntheticIDX()
        let save = path("done.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", save])).status, 0)
        let before = try bytes(save)
        let result = run(["--data", directory, "--resume", save, "--save", save])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("the checkpoint has completed all 1 epochs: nothing to train"), result.output)
        XCTAssertEqual(try bytes(save), before)
    }

    func testResumeRefusesADifferentArchitecture() throws {
        try writeSyntheticIDX()
        let save = path("a.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", save])).status, 0)
        let result = run(["--data", directory, "--resume", save, "--layers", "16,4,3"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.hasPrefix("mlp-train: option --layers: 16,4,3 differs from the checkpoint"), result.error)
    }

    func testInitLoadsWeightsOnly() throws {
        try writeSyntheticIDX()
        let first = path("first.safetensors"), second = path("second.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", first])).status, 0)
        // One step with a learning rate so small that the weights cannot move in Float: the
        // weights equal the loaded ones, while step and epoch start over.
        var arguments = tinyRun(["--init", first, "--steps", "1", "--save", second])
        arguments[arguments.firstIndex(of: "--lr")! + 1] = "1e-30"
        let result = run(arguments)
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(try metadata(second)["step"], "1")
        let a = try Safetensors.read(first).tensors, b = try Safetensors.read(second).tensors
        for name in a.keys where name.hasSuffix("weight") || name.hasSuffix("bias") {
            XCTAssertEqual(a[name]?.values, b[name]?.values, name)
        }
    }

    // MARK: - NaN

    func testNaNStopsAndKeepsTheLastGoodCheckpoint() throws {
        try writeSyntheticIDX()
        let save = path("good.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", save])).status, 0)
        let before = try bytes(save)
        let result = run(["--data", directory, "--resume", save, "--epochs", "5", "--lr", "1e30", "--save", save,
                          "--quiet", "--threads", "2"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.error.hasPrefix("mlp-train: the loss became NaN or infinite at step "), result.error)
        XCTAssertEqual(result.error.filter { $0 == "\n" }.count, 1, result.error)
        XCTAssertEqual(try bytes(save), before, "the good checkpoint must not be overwritten")
        // The step is named: it comes after the 12 steps of the good epoch.
        let step = Int(result.error.dropFirst("mlp-train: the loss became NaN or infinite at step ".count)
            .prefix { $0.isNumber })
        XCTAssertNotNil(step)
        XCTAssertGreaterThan(step ?? 0, 12)
    }

    func testNaNInAFreshRunWritesNoCheckpoint() throws {
        try writeSyntheticIDX()
        let save = path("never.safetensors")
        var arguments = tinyRun(["--epochs", "3", "--save", save])
        arguments[arguments.firstIndex(of: "--lr")! + 1] = "1e30"
        let result = run(arguments)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.error.contains("no checkpoint was written"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: save))
    }

    // MARK: - Predictions

    func testPredictionsOutMatchesTheSavedModel() throws {
        try writeSyntheticIDX()
        let save = path("m.safetensors"), predictions = path("p.npy")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", save, "--predictions-out", predictions])).status, 0)
        let written = try NPY.readMatrix(predictions)
        XCTAssertEqual(written.shape.rows, 30)
        XCTAssertEqual(written.shape.columns, 3)
        let model = try TrainCheckpoint.readModel(save).model
        let test = try IDX.load(images: path("t10k-images-idx3-ubyte"), labels: path("t10k-labels-idx1-ubyte"))
        XCTAssertEqual(try model.predict(test.features).values.map(\.bitPattern), written.values.map(\.bitPattern))
    }
}

/// Data sources other than an MNIST directory, losses, validation, threads, allocation.
final class TrainCommandSourceTests: CLITestCase {
    /// Writes a 1-D int64 NPY label file.
    private func writeNPYLabels(_ labels: [Int], to file: String) throws {
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (\(labels.count),), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        for label in labels { bytes += withUnsafeBytes(of: Int64(label).littleEndian, Array.init) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
    }

    /// The synthetic IDX data as a data set.
    private func synthetic(_ prefix: String) throws -> Dataset {
        try IDX.load(images: path("\(prefix)-images-idx\(3)-ubyte"), labels: path("\(prefix)-labels-idx1-ubyte"))
    }

    func testNPYSource() throws {
        try writeSyntheticIDX()
        for prefix in ["train", "t10k"] {
            let data = try synthetic(prefix)
            try NPY.write(data.features, to: path("\(prefix)-x.npy"))
            try writeNPYLabels(data.labels!, to: path("\(prefix)-y.npy"))
        }
        var arguments = tinyRun(["--epochs", "2", "--json"])
        arguments.replaceSubrange(0..<2, with: ["--train-npy", path("train-x.npy") + "," + path("train-y.npy"),
                                               "--test-npy", path("t10k-x.npy") + "," + path("t10k-y.npy")])
        let result = run(arguments)
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(result.outputLines.count, 2)
        // The same samples through IDX give the same numbers.
        let idx = run(tinyRun(["--epochs", "2", "--json"]))
        XCTAssertEqual(idx.status, 0, idx.error)
        func losses(_ r: Result) throws -> [Double] {
            try r.outputLines.map { line in
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return try XCTUnwrap(object["test_loss"] as? Double)
            }
        }
        XCTAssertEqual(try losses(result), try losses(idx))

        let mismatch = run(["--train-npy", path("train-x.npy") + "," + path("t10k-y.npy"), "--quiet"])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertEqual(mismatch.error, "mlp-train: \(path("train-x.npy")): holds 90 samples but the labels file "
            + "\(path("t10k-y.npy")) holds 30 labels\n")
    }

    func testCSVSourceWithLabelColumn() throws {
        try writeSyntheticIDX()
        for prefix in ["train", "t10k"] {
            let data = try synthetic(prefix)
            var text = ""
            for i in 0..<data.count {
                text += "\(data.labels![i])," + data.features.row(i).map { "\($0)" }.joined(separator: ",") + "\n"
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: path("\(prefix).csv")))
        }
        let result = run(["--train-csv", path("train.csv"), "--test-csv", path("t10k.csv"), "--label-column", "0",
                          "--epochs", "2", "--layers", "16,8,3", "--batch-size", "8", "--json", "--quiet"])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(result.outputLines.count, 2)
        // With the default label column (the last), a pixel column is read as the label.
        let wrong = run(["--train-csv", path("train.csv"), "--layers", "16,8,3", "--quiet"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.error.hasPrefix("mlp-train: \(path("train.csv")): "), wrong.error)
    }

    func testMeanSquaredErrorOnOneHotLabels() throws {
        try writeSyntheticIDX()
        let result = run(tinyRun(["--epochs", "8", "--loss", "mse", "--json"]))
        XCTAssertEqual(result.status, 0, result.error)
        let objects = try result.outputLines.map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let first = try XCTUnwrap(objects.first?["test_loss"] as? Double)
        let last = try XCTUnwrap(objects.last?["test_loss"] as? Double)
        XCTAssertLessThan(last, first, "MSE training must reduce the test MSE")
        XCTAssertNotNil(objects.last?["test_accuracy"] as? Double)
    }

    func testValidationHoldOutIsReported() throws {
        try writeSyntheticIDX()
        let result = run(tinyRun(["--epochs", "1", "--validation", "0.2", "--json"]))
        XCTAssertEqual(result.status, 0, result.error)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.outputLines[0].utf8)) as? [String: Any])
        XCTAssertNotNil(object["validation_loss"] as? Double)
        XCTAssertNotNil(object["validation_accuracy"] as? Double)
        XCTAssertEqual(object["step"] as? Int, 9, "72 training samples in batches of 8")
        let none = run(tinyRun(["--epochs", "1", "--validation", "0.001"]))
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.error.contains("option --validation: '0.001' is not a fraction that holds out at least one"), none.error)
    }

    func testThreadCountDoesNotChangeTheWeights() throws {
        try writeSyntheticIDX()
        let one = path("one.safetensors"), two = path("two.safetensors")
        var arguments = tinyRun(["--epochs", "2", "--save", one])
        arguments[arguments.firstIndex(of: "--threads")! + 1] = "1"
        XCTAssertEqual(run(arguments).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", two])).status, 0)
        try assertSameTensors(one, two)
    }

    func testNoShuffleAndSeedChangeTheOrder() throws {
        try writeSyntheticIDX()
        let a = path("a.safetensors"), b = path("b.safetensors"), c = path("c.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", a])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", b, "--no-shuffle"])).status, 0)
        XCTAssertFalse(try sameTensors(a, b), "file order must differ from the shuffled order")
        // --no-shuffle: epochs visit file order, so the order does not depend on the seed's shuffle stream.
        XCTAssertEqual(try metadata(b)["shuffle"], "false")
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", c])).status, 0)
        try assertSameTensors(a, c)
    }

    func testSchedules() {
        XCTAssertEqual(LearningRateSchedule.constant.rate(base: 0.3, step: 50, totalSteps: 100), 0.3)
        XCTAssertEqual(LearningRateSchedule.cosine.rate(base: 0.3, step: 0, totalSteps: 100), 0.3)
        XCTAssertEqual(LearningRateSchedule.cosine.rate(base: 0.3, step: 50, totalSteps: 100), 0.15, accuracy: 1e-7)
        XCTAssertEqual(LearningRateSchedule.cosine.rate(base: 0.3, step: 25, totalSteps: 100),
                       Float(0.3 * 0.5 * (1 + 0.5.squareRoot())), accuracy: 1e-7)
        XCTAssertEqual(LearningRateSchedule.cosine.rate(base: 0.3, step: 100, totalSteps: 100), 0, accuracy: 1e-9)
        XCTAssertEqual(LearningRateSchedule.cosine.rate(base: 0.3, step: 150, totalSteps: 100), 0, accuracy: 1e-9)
    }

    func testConstantAndCosineScheduleDiffer() throws {
        try writeSyntheticIDX()
        let cosine = path("cos.safetensors"), constant = path("const.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", cosine])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", constant, "--lr-schedule", "constant"])).status, 0)
        XCTAssertFalse(try sameTensors(cosine, constant))
        XCTAssertEqual(try metadata(constant)["lr_schedule"], "constant")
        XCTAssertEqual(try metadata(cosine)["lr_schedule"], "cosine")
    }

    func testTerminalProgressBarIsRedrawnInPlace() throws {
        try writeSyntheticIDX()
        let (console, text) = Console.capturing(errorIsTerminal: true)
        var arguments = tinyRun(["--epochs", "2"])
        arguments.removeAll { $0 == "--quiet" }
        XCTAssertEqual(TrainCommand.main(arguments, console: console, catchSignals: false), 0)
        let error = text.standardError
        XCTAssertTrue(error.contains("\r\u{1B}[Kepoch 1/2 ["), error)
        XCTAssertTrue(error.contains("samples/s  loss "), error)
        XCTAssertTrue(error.contains("ETA "), error)
        XCTAssertTrue(error.hasSuffix("\r\u{1B}[K"), "the bar is erased before the epoch line")
        XCTAssertEqual(text.standardOutput.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.count, 2)
    }

    func testTrainingStepsDoNotAllocate() throws {
        try writeSyntheticIDX()
        func allocations(steps: Int) -> UInt64 {
            bp_allocation_counting(1)
            let before = bp_allocation_count()
            let result = run(tinyRun(["--epochs", "1", "--steps", "\(steps)"]))
            let after = bp_allocation_count()
            bp_allocation_counting(0)
            XCTAssertEqual(result.status, 0, result.error)
            return after - before
        }
        _ = allocations(steps: 2)  // first use of lazily created state
        let few = allocations(steps: 2), many = allocations(steps: 10)
        XCTAssertEqual(many, few, "8 more training steps must not allocate")
    }
}
