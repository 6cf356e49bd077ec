import Backprop
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

    /// Two epochs straight, and 1 epoch + resume + 1 epoch, give bitwise the same weights.
    func testResumeAfterAnEpochIsBitwiseIdentical() throws {
        try writeSyntheticIDX()
        let straight = path("straight.safetensors"), split = path("split.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", straight])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "1", "--save", split])).status, 0)
        XCTAssertNotEqual(try tensorBits(split), try tensorBits(straight), "one epoch must differ from two")
        let resumed = run(["--data", directory, "--resume", split, "--epochs", "2", "--save", split, "--quiet", "--threads", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertEqual(try tensorBits(split), try tensorBits(straight))
        XCTAssertEqual(try metadata(split)["step"], try metadata(straight)["step"])
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
        XCTAssertEqual(try tensorBits(split), try tensorBits(straight))
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
