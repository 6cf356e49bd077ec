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

    func testAutomaticSharesFromTheThresholdOn() throws {
        for threads in [1, 2, TrainerOptions.sharedPackingThreads, TrainerOptions.sharedPackingThreads + 3] {
            let trainer = try Trainer(model: try model(), loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                      threads: threads)
            _ = try trainer.step(input: TrainerFixture.matrix(rows: 8, columns: 40, seed: 1),
                                 labels: TrainerFixture.labels(count: 8, classes: 10, seed: 2))
            XCTAssertEqual(trainer.placementReport.buffers.contains { $0.kind == .packedOperands },
                           threads >= TrainerOptions.sharedPackingThreads, "threads \(threads)")
        }
    }
}
