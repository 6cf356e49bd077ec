@testable import Backprop
import XCTest

/// Bitwise reproducibility: run to run in both modes, and across thread counts in the invariant mode.
final class DeterminismTests: XCTestCase {
    /// Trains a fresh trainer for a few steps of varying batch size; returns the weights' bits
    /// and the losses' bits.
    private func train(threads: Int, options: TrainerOptions, loss: Loss = .softmaxCrossEntropy)
        throws -> (weights: [UInt32], losses: [UInt32]) {
        let model = loss == .softmaxCrossEntropy
            ? try MLP(sizes: [12, 40, 24, 5], activations: [.relu, .gelu, .identity], seed: 3)
            : try MLP(sizes: [12, 40, 24, 5], activations: [.tanh, .sigmoid, .leakyReLU], seed: 3)
        let trainer = try Trainer(model: model, loss: loss, optimizer: SGD(learningRate: 0.05),
                                  threads: threads, options: options)
        var losses: [UInt32] = []
        for (step, batch) in [33, 33, 7, 64, 1, 33].enumerated() {
            let x = TrainerFixture.matrix(rows: batch, columns: 12, seed: UInt64(10 + step))
            if loss == .softmaxCrossEntropy {
                losses.append(try trainer.step(input: x, labels: TrainerFixture.labels(count: batch, classes: 5,
                                                                                       seed: UInt64(step))).bitPattern)
            } else {
                let y = TrainerFixture.matrix(rows: batch, columns: 5, seed: UInt64(90 + step))
                losses.append(try trainer.step(input: x, targets: y).bitPattern)
            }
        }
        return (TrainerFixture.bits(trainer.model), losses)
    }

    func testRunToRunBitwiseIdenticalInBothModes() throws {
        for reduction in TrainerOptions.Reduction.allCases {
            for threads in [1, 3, 4] {
                let options = TrainerOptions(reduction: reduction)
                let first = try train(threads: threads, options: options)
                let second = try train(threads: threads, options: options)
                XCTAssertEqual(first.weights, second.weights, "\(reduction) threads \(threads)")
                XCTAssertEqual(first.losses, second.losses, "\(reduction) threads \(threads)")
            }
        }
    }

    func testInvariantModeIsBitwiseIdenticalAcrossThreadCounts() throws {
        for loss in Loss.allCases {
            let baseline = try train(threads: 1, options: TrainerOptions(reduction: .threadCountInvariant), loss: loss)
            for threads in [2, 3, 8, 16] {
                for executor in TrainerOptions.Executor.allCases {
                    let other = try train(threads: threads,
                                          options: TrainerOptions(reduction: .threadCountInvariant, executor: executor),
                                          loss: loss)
                    XCTAssertEqual(other.weights, baseline.weights, "\(loss) threads \(threads) \(executor)")
                    XCTAssertEqual(other.losses, baseline.losses, "\(loss) threads \(threads) \(executor)")
                }
            }
        }
    }

    func testTreeModeSameThreadCountSameBitsWithEitherExecutor() throws {
        for threads in [2, 5] {
            let pool = try train(threads: threads, options: TrainerOptions(reduction: .perWorkerTree, executor: .workerPool))
            let dispatch = try train(threads: threads, options: TrainerOptions(reduction: .perWorkerTree, executor: .dispatch))
            XCTAssertEqual(pool.weights, dispatch.weights, "threads \(threads)")
        }
    }

    func testTreeModeAgreesWithInvariantModeToRounding() throws {
        // The tree mode sums in another order (depending on the thread count); it agrees with the
        // invariant mode to float rounding (not necessarily bitwise).
        let invariant = try train(threads: 1, options: TrainerOptions(reduction: .threadCountInvariant))
        let tree = try train(threads: 5, options: TrainerOptions(reduction: .perWorkerTree))
        for (a, b) in zip(invariant.weights, tree.weights) {
            let x = Float(bitPattern: a), y = Float(bitPattern: b)
            XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x)))
        }
    }
}
