@testable import Backprop
import XCTest

/// A step whose loss or gradients are NaN or infinite stops before the update: the weights, the
/// optimizer state (momentum, Adam's moments, …) and the step count stay bitwise as they were,
/// with every optimizer that keeps state, both summation modes, both executors, and the poison
/// in a shard other than the first.
final class TrainerNonFiniteStateTests: XCTestCase {
    private static let optimizers: [(String, @Sendable () throws -> any Optimizer)] = [
        ("sgd-momentum", { try SGD(learningRate: 0.1, momentum: 0.9) }),
        ("adam", { try Adam(learningRate: 0.01) }),
        ("adamw", { try AdamW(learningRate: 0.01) }),
        ("lamb", { try LAMB(learningRate: 0.01) }),
        ("lars", { try LARS(learningRate: 0.1) }),
    ]

    /// `trainer` restored to `model` at step 5 with non-zero optimizer state drawn from `seed`.
    private func restoreWithState(_ trainer: Trainer, model: MLP, seed: UInt64) throws -> TrainingState {
        var generator = SplitMix64(seed: seed)
        let perParameter = trainer.optimizer.stateCountPerParameter
        XCTAssertGreaterThan(perParameter, 0)
        let state = TrainingState(model: model, stepCount: 5, optimizerState: model.layers.flatMap { layer in
            [layer.weight.count, layer.bias.count].map { n in
                (0..<(perParameter * n)).map { _ in abs(generator.nextSignedUnitFloat()) * 0.01 + 1e-4 }
            }
        })
        try trainer.restore(state)
        return state
    }

    private func bits(_ state: TrainingState) -> [[UInt32]] {
        [TrainerFixture.bits(state.model)] + state.optimizerState.map { $0.map(\.bitPattern) }
    }

    private func assertUntouched(_ trainer: Trainer, _ expected: TrainingState, _ context: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        let now = trainer.exportState()
        XCTAssertEqual(bits(now), bits(expected), "\(context): weights or optimizer state changed", file: file, line: line)
        XCTAssertEqual(now.stepCount, expected.stepCount, context, file: file, line: line)
    }

    func testNaNAndInfiniteInputsLeaveWeightsAndOptimizerStateUntouched() throws {
        let model = try TrainerFixture.classifier()
        let x = TrainerFixture.matrix(rows: 7, columns: 5, seed: 1)
        let labels = TrainerFixture.labels(count: 7, classes: 4, seed: 1)
        for (name, make) in Self.optimizers {
            for reduction in TrainerOptions.Reduction.allCases {
                for executor in TrainerOptions.Executor.allCases {
                    for threads in [1, 3] {
                        let context = "\(name) \(reduction) \(executor) threads \(threads)"
                        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: try make(),
                                                  threads: threads, options: TrainerOptions(reduction: reduction, executor: executor))
                        let state = try restoreWithState(trainer, model: model, seed: 3)
                        for poison in [Float.nan, .infinity, -.infinity] {
                            var poisoned = x
                            poisoned[6, 2] = poison  // the last row: the last shard with 3 threads
                            XCTAssertThrowsError(try trainer.step(input: poisoned, labels: labels), context) { error in
                                XCTAssertEqual(error as? BackpropError, .nonFiniteLoss(step: 5), context)
                            }
                            assertUntouched(trainer, state, "\(context), input \(poison)")
                        }
                        // Training goes on from the same state, and the state then changes.
                        XCTAssertTrue(try trainer.step(input: x, labels: labels).isFinite, context)
                        XCTAssertEqual(trainer.stepCount, 6, context)
                        XCTAssertNotEqual(bits(trainer.exportState()), bits(state), context)
                    }
                }
            }
        }
    }

    func testInfiniteGradientWithFiniteLossLeavesWeightsAndOptimizerStateUntouched() throws {
        // h(1) = x feeds an output weight of 0, so the output is 0 and every sample's loss
        // (0 − y)² is finite, but for the last sample (x = 1e20, y = 1e19) dLoss/dW(2) = delta·h(1)
        // overflows. With 3 threads that sample is in the third shard.
        let model = try MLP(layers: [
            try Dense(weight: try Matrix(rows: 1, columns: 1, values: [1]), bias: [0], activation: .identity),
            try Dense(weight: try Matrix(rows: 1, columns: 1, values: [0]), bias: [0], activation: .identity),
        ])
        let x = try Matrix(rows: 4, columns: 1, values: [0.5, -0.25, 1, 1e20])
        let y = try Matrix(rows: 4, columns: 1, values: [1, 0.5, -1, 1e19])
        XCTAssertTrue(try model.loss(input: x, targets: y).isFinite)
        for (name, make) in Self.optimizers {
            for reduction in TrainerOptions.Reduction.allCases {
                for threads in [1, 3] {
                    let context = "\(name) \(reduction) threads \(threads)"
                    let trainer = try Trainer(model: model, loss: .meanSquaredError, optimizer: try make(),
                                              threads: threads, options: TrainerOptions(reduction: reduction))
                    let state = try restoreWithState(trainer, model: model, seed: 4)
                    XCTAssertThrowsError(try trainer.step(input: x, targets: y), context) { error in
                        XCTAssertEqual(error as? BackpropError, .nonFiniteLoss(step: 5), context)
                    }
                    assertUntouched(trainer, state, context)
                }
            }
        }
    }
}
