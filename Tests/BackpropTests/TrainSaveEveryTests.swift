@testable import Backprop
@testable import BackpropCLI
import XCTest

/// `mlp-train --save-every N`: checkpoints after every N optimizer steps as well as at epoch ends.
final class TrainSaveEveryTests: CLITestCase {
    func testParsing() throws {
        let options = try TrainOptions.parse(["--save", "run.safetensors", "--save-every", "25"])
        XCTAssertEqual(options.saveEvery, 25)
        XCTAssertNil(try TrainOptions.parse(["--save", "run.safetensors"]).saveEvery)
        XCTAssertThrowsError(try TrainOptions.parse(["--save-every", "5"])) { error in
            XCTAssertEqual(error as? CLIError, .missingFlag(flag: "--save-every", requires: "--save"))
        }
        for bad in ["0", "-2", "x"] {
            XCTAssertThrowsError(try TrainOptions.parse(["--save", "a", "--save-every", bad])) { error in
                XCTAssertEqual(error as? CLIError, .invalidValue(flag: "--save-every", value: bad, expected: "a positive integer"))
            }
        }
        XCTAssertTrue(TrainOptions.helpText.contains("--save-every N"))
    }

    /// 18 samples in batches of 4: 5 steps an epoch (the last of 2 samples). Every 3 steps,
    /// over 2 epochs: after steps 3, 6 and 9, plus the epoch ends (steps 5 and 10); step 10's
    /// multiple-of-N save is the epoch end's.
    func testSessionSavesEveryNStepsAndAtEpochEnds() throws {
        let x = TrainerFixture.matrix(rows: 18, columns: 4, seed: 1)
        let data = try Dataset(features: x, labels: TrainerFixture.labels(count: 18, classes: 3, seed: 2))
        let configuration = TrainConfiguration(layers: [4, 5, 3], activation: .relu, loss: .softmaxCrossEntropy,
                                               epochs: 2, batchSize: 4, learningRate: 0.1, schedule: .constant,
                                               seed: 1, shuffle: true)
        let trainer = try Trainer(model: try MLP(sizes: [4, 5, 3], activations: [.relu, .identity], seed: 1),
                                  loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 2)
        var saves: [(step: Int, epoch: Int, offset: Int)] = []
        let session = TrainingSession(
            configuration: configuration, trainer: trainer, train: data, test: nil, validation: nil,
            start: TrainPosition(epoch: 0, sampleOffset: 0, shuffleState: 9), maxSteps: nil,
            reporter: ProgressReporter(console: Console.capturing().0, json: false, quiet: true),
            interrupts: nil, saveEvery: 3,
            save: { position in saves.append((trainer.stepCount, position.epoch, position.sampleOffset)) })
        XCTAssertEqual(try session.run(), .finished)
        XCTAssertEqual(saves.map(\.step), [3, 5, 6, 9, 10])
        XCTAssertEqual(saves.map(\.epoch), [0, 1, 1, 1, 2])
        XCTAssertEqual(saves.map(\.offset), [12, 0, 4, 16, 0])
    }

    /// A run checkpointed every step, resumed from a mid-epoch checkpoint, ends bitwise where
    /// an uninterrupted run does.
    func testMidEpochCheckpointResumesExactly() throws {
        try writeSyntheticIDX(trainCount: 90, testCount: 30)
        let split = path("split.safetensors"), whole = path("whole.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--steps", "7", "--save", split, "--save-every", "3"])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--resume", split, "--save", split, "--save-every", "3"])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", whole])).status, 0)
        XCTAssertEqual(try tensorBits(split), try tensorBits(whole))
    }
}
