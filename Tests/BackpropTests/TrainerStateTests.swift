@testable import Backprop
import XCTest

/// `exportState` / `restore`.
final class TrainerStateTests: XCTestCase {
    private func batch(_ step: Int) -> (Matrix, [Int]) {
        (TrainerFixture.matrix(rows: 11, columns: 5, seed: UInt64(step)),
         TrainerFixture.labels(count: 11, classes: 4, seed: UInt64(40 + step)))
    }

    func testRoundTripContinuesBitwiseIdentically() throws {
        for reduction in TrainerOptions.Reduction.allCases {
            let options = TrainerOptions(reduction: reduction)
            let original = try Trainer(model: try TrainerFixture.classifier(), loss: .softmaxCrossEntropy,
                                       optimizer: TestMomentum(learningRate: 0.1, momentum: 0.9), threads: 3, options: options)
            for step in 0..<3 { _ = try original.step(input: batch(step).0, labels: batch(step).1) }
            let state = original.exportState()
            XCTAssertEqual(state.stepCount, 3)
            XCTAssertEqual(state.model, original.model)
            XCTAssertEqual(state.optimizerState.map(\.count), [9 * 5, 9, 7 * 9, 7, 4 * 7, 4])
            XCTAssertTrue(state.optimizerState.allSatisfy { $0.contains { $0 != 0 } }, "momentum state was exported")

            let resumed = try Trainer(model: try TrainerFixture.classifier(seed: 99), loss: .softmaxCrossEntropy,
                                      optimizer: TestMomentum(learningRate: 0.1, momentum: 0.9), threads: 3, options: options)
            try resumed.restore(state)
            XCTAssertEqual(resumed.exportState(), state)
            for step in 3..<6 {
                let (x, labels) = batch(step)
                XCTAssertEqual(try original.step(input: x, labels: labels).bitPattern,
                               try resumed.step(input: x, labels: labels).bitPattern)
            }
            XCTAssertEqual(TrainerFixture.bits(resumed.model), TrainerFixture.bits(original.model))
            XCTAssertEqual(resumed.stepCount, 6)
            XCTAssertEqual(resumed.exportState().optimizerState, original.exportState().optimizerState)
        }
    }

    func testSGDHasEmptyState() throws {
        let trainer = try Trainer(model: try TrainerFixture.classifier(), loss: .softmaxCrossEntropy,
                                  optimizer: SGD(learningRate: 0.1), threads: 2)
        XCTAssertEqual(trainer.exportState().optimizerState, [[], [], [], [], [], []])
    }

    func testRestoreValidates() throws {
        let trainer = try Trainer(model: try TrainerFixture.classifier(), loss: .softmaxCrossEntropy,
                                  optimizer: TestMomentum(learningRate: 0.1, momentum: 0.9), threads: 2)
        _ = try trainer.step(input: batch(0).0, labels: batch(0).1)
        let good = trainer.exportState()
        let before = TrainerFixture.bits(trainer.model)

        var wrongSizes = good
        wrongSizes.model = try MLP(sizes: [5, 9, 8, 4], activations: [.relu, .tanh, .identity], seed: 1)
        XCTAssertThrowsError(try trainer.restore(wrongSizes)) { error in
            guard case .shapeMismatch(let message) = error as? BackpropError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("[5, 9, 8, 4]"), message)
        }
        var wrongActivations = good
        wrongActivations.model = try MLP(sizes: [5, 9, 7, 4], activations: [.relu, .relu, .identity], seed: 1)
        XCTAssertThrowsError(try trainer.restore(wrongActivations)) { error in
            guard case .invalidConfiguration = error as? BackpropError else { return XCTFail("\(error)") }
        }
        var negativeStep = good
        negativeStep.stepCount = -1
        XCTAssertThrowsError(try trainer.restore(negativeStep)) { error in
            guard case .invalidConfiguration = error as? BackpropError else { return XCTFail("\(error)") }
        }
        var missingTensor = good
        missingTensor.optimizerState.removeLast()
        XCTAssertThrowsError(try trainer.restore(missingTensor)) { error in
            guard case .shapeMismatch = error as? BackpropError else { return XCTFail("\(error)") }
        }
        var shortState = good
        shortState.optimizerState[2].removeLast()
        XCTAssertThrowsError(try trainer.restore(shortState)) { error in
            guard case .shapeMismatch(let message) = error as? BackpropError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("layers[1].weight"), message)
        }
        XCTAssertEqual(TrainerFixture.bits(trainer.model), before)
        XCTAssertEqual(trainer.stepCount, 1)
        XCTAssertEqual(trainer.exportState(), good)
    }
}
