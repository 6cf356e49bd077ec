@testable import Backprop
import XCTest

/// `TrainerOptions.Packing`: operands packed once and shared give bitwise the weights and
/// losses of every worker packing its own, for every thread count, both reductions and
/// batch sizes that change between steps.
final class TrainerPackingTests: XCTestCase {
    /// Layers at least one register tile wide (32 columns on AVX-512, 16 on AVX2) so that the
    /// forward, propagation and weight-gradient products all read shared panels, and a
    /// 10-wide output layer, which the GEMM tiles transposed (no panels).
    private func model() throws -> MLP {
        try MLP(sizes: [40, 70, 33, 10], activations: [.relu, .tanh, .identity], seed: 21)
    }

    func testSharedPackingIsBitwiseThePerWorkerPacking() throws {
        for reduction in TrainerOptions.Reduction.allCases {
            for threads in [1, 2, 3, 5] {
                let context = "\(reduction) threads \(threads)"
                let shared = try Trainer(model: try model(), loss: .softmaxCrossEntropy,
                                         optimizer: SGD(learningRate: 0.1, momentum: 0.9), threads: threads,
                                         options: TrainerOptions(reduction: reduction, packing: .shared))
                let own = try Trainer(model: try model(), loss: .softmaxCrossEntropy,
                                      optimizer: SGD(learningRate: 0.1, momentum: 0.9), threads: threads,
                                      options: TrainerOptions(reduction: reduction, packing: .perWorker))
                for (step, batch) in [64, 17, 1, 64, 130].enumerated() {
                    let x = TrainerFixture.matrix(rows: batch, columns: 40, seed: UInt64(700 + step))
                    let labels = TrainerFixture.labels(count: batch, classes: 10, seed: UInt64(800 + step))
                    let a = try shared.step(input: x, labels: labels), b = try own.step(input: x, labels: labels)
                    XCTAssertEqual(a.bitPattern, b.bitPattern, "\(context) step \(step) loss")
                    XCTAssertEqual(TrainerFixture.bits(shared.model), TrainerFixture.bits(own.model),
                                   "\(context) step \(step) batch \(batch) weights")
                }
                XCTAssertGreaterThan(TrainerFixture.relativeDifference(shared.model, try model()), 1e-3, context)
                // The shared path really ran: its packed operands are a tracked buffer.
                let kinds = { (t: Trainer) in t.placementReport.buffers.map(\.kind) }
                XCTAssertTrue(kinds(shared).contains(.packedOperands), context)
                XCTAssertFalse(kinds(own).contains(.packedOperands), context)
            }
        }
    }

    /// The packed weights follow the weights: repacked by the update phase after every step (for
    /// an optimizer with a measuring pass too), and packed again after `restore` replaces them.
    func testPackedWeightsFollowRestoreAndEveryOptimizer() throws {
        let optimizers: [any Optimizer] = [try LAMB(learningRate: 0.01), try Adam(learningRate: 0.01)]
        for optimizer in optimizers {
            for threads in [1, 3] {
                let context = "\(type(of: optimizer)) threads \(threads)"
                let shared = try Trainer(model: try model(), loss: .softmaxCrossEntropy, optimizer: optimizer,
                                         threads: threads, options: TrainerOptions(packing: .shared))
                let own = try Trainer(model: try model(), loss: .softmaxCrossEntropy, optimizer: optimizer,
                                      threads: threads, options: TrainerOptions(packing: .perWorker))
                // Weights from elsewhere: a differently seeded model trained one step.
                let other = try Trainer(model: try MLP(sizes: [40, 70, 33, 10], activations: [.relu, .tanh, .identity],
                                                       seed: 99),
                                        loss: .softmaxCrossEntropy, optimizer: optimizer, threads: 1)
                _ = try other.step(input: TrainerFixture.matrix(rows: 8, columns: 40, seed: 5),
                                   labels: TrainerFixture.labels(count: 8, classes: 10, seed: 6))
                for step in 0..<5 {
                    if step == 3 {
                        try shared.restore(other.exportState())
                        try own.restore(other.exportState())
                    }
                    let x = TrainerFixture.matrix(rows: 48, columns: 40, seed: UInt64(900 + step))
                    let labels = TrainerFixture.labels(count: 48, classes: 10, seed: UInt64(950 + step))
                    let a = try shared.step(input: x, labels: labels), b = try own.step(input: x, labels: labels)
                    XCTAssertEqual(a.bitPattern, b.bitPattern, "\(context) step \(step) loss")
                    XCTAssertEqual(TrainerFixture.bits(shared.model), TrainerFixture.bits(own.model),
                                   "\(context) step \(step) weights")
                }
            }
        }
    }

    /// `.automatic` shares the weights at every thread count and the activations from
    /// `sharedPackingThreads` on: only then do the packed operands grow with the batch.
    func testAutomaticSharesWeightsAlwaysAndActivationsFromTheThresholdOn() throws {
        func packedBytes(_ t: Trainer) -> Int? {
            t.placementReport.buffers.first { $0.kind == .packedOperands }?.bytes
        }
        for threads in [1, 2, TrainerOptions.sharedPackingThreads, TrainerOptions.sharedPackingThreads + 3] {
            let trainer = try Trainer(model: try model(), loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                      threads: threads)
            _ = try trainer.step(input: TrainerFixture.matrix(rows: 8, columns: 40, seed: 1),
                                 labels: TrainerFixture.labels(count: 8, classes: 10, seed: 2))
            let small = try XCTUnwrap(packedBytes(trainer), "threads \(threads): the weights are not shared")
            _ = try trainer.step(input: TrainerFixture.matrix(rows: 200, columns: 40, seed: 3),
                                 labels: TrainerFixture.labels(count: 200, classes: 10, seed: 4))
            let large = try XCTUnwrap(packedBytes(trainer), "threads \(threads)")
            XCTAssertEqual(large > small, threads >= TrainerOptions.sharedPackingThreads, "threads \(threads)")
        }
        // Per-worker packing shares nothing.
        let own = try Trainer(model: try model(), loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                              threads: 2, options: TrainerOptions(packing: .perWorker))
        _ = try own.step(input: TrainerFixture.matrix(rows: 8, columns: 40, seed: 1),
                         labels: TrainerFixture.labels(count: 8, classes: 10, seed: 2))
        XCTAssertNil(packedBytes(own))
    }
}
