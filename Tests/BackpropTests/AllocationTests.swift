@testable import Backprop
import CAllocationCounter
import XCTest

/// The steady-state training step makes no heap allocation.
final class AllocationTests: XCTestCase {
    func testCounterSeesAllocations() {
        // The counter itself works (so a zero below means something).
        let count = processAllocations { _ = AlignedBuffer(count: 1000) }
        XCTAssertGreaterThanOrEqual(count, 1)
    }

    func testSteadyStateStepAllocatesNothing() throws {
        let model = try MLP(sizes: [20, 48, 32, 6], activations: [.relu, .tanh, .identity], seed: 5)
        let x = TrainerFixture.matrix(rows: 37, columns: 20, seed: 1)
        let labels = TrainerFixture.labels(count: 37, classes: 6, seed: 2)
        let small = TrainerFixture.matrix(rows: 3, columns: 20, seed: 3)
        let smallLabels = TrainerFixture.labels(count: 3, classes: 6, seed: 4)
        for reduction in TrainerOptions.Reduction.allCases {
            for (threads, packing) in [(1, TrainerOptions.Packing.automatic), (2, .automatic), (3, .automatic),
                                       (8, .automatic), (1, .shared), (3, .shared)] {
                let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                          threads: threads, options: TrainerOptions(reduction: reduction, packing: packing))
                for _ in 0..<2 { _ = try trainer.step(input: x, labels: labels) }  // warm up: buffers grow
                var losses: Float = 0
                let count = try fewestProcessAllocations {
                    for _ in 0..<5 { losses += try trainer.step(input: x, labels: labels) }
                    // A smaller batch fits the grown buffers: still nothing.
                    for _ in 0..<3 { losses += try trainer.step(input: small, labels: smallLabels) }
                }
                XCTAssertEqual(count, 0, "\(reduction) threads \(threads) packing \(packing)")
                XCTAssertTrue(losses.isFinite)
                XCTAssertEqual(trainer.stepCount, 2 + 3 * 8)
            }
        }
    }

    func testSteadyStateStepWithFloatTargetsAllocatesNothing() throws {
        let model = try MLP(sizes: [7, 16, 3], activations: [.gelu, .sigmoid], seed: 5)
        let x = TrainerFixture.matrix(rows: 19, columns: 7, seed: 1)
        let y = TrainerFixture.matrix(rows: 19, columns: 3, seed: 2)
        let trainer = try Trainer(model: model, loss: .meanSquaredError, optimizer: SGD(learningRate: 0.1), threads: 4)
        _ = try trainer.step(input: x, targets: y)
        let count = try fewestProcessAllocations { for _ in 0..<5 { _ = try trainer.step(input: x, targets: y) } }
        XCTAssertEqual(count, 0)
    }

    func testGrowingTheBatchAllocatesOutsideTheSteadyState() throws {
        // The counterpart: a larger batch than ever seen must grow the buffers (so the zero
        // above is not an artefact of counting being off).
        let model = try MLP(sizes: [4, 8, 3], activations: [.relu, .identity], seed: 5)
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 2)
        _ = try trainer.step(input: TrainerFixture.matrix(rows: 4, columns: 4, seed: 1),
                             labels: TrainerFixture.labels(count: 4, classes: 3, seed: 1))
        let big = TrainerFixture.matrix(rows: 64, columns: 4, seed: 2)
        let bigLabels = TrainerFixture.labels(count: 64, classes: 3, seed: 2)
        let count = try processAllocations { _ = try trainer.step(input: big, labels: bigLabels) }
        XCTAssertGreaterThan(count, 0)
    }

    func testDispatchExecutorAllocatesInsideDispatchOnly() throws {
        // Investigation kept as a test: `DispatchQueue.concurrentPerform` allocates on Linux,
        // which is why the default executor is the trainer's own pool. With one thread no
        // parallel loop is dispatched, so even this executor allocates nothing.
        let model = try MLP(sizes: [4, 8, 3], activations: [.relu, .identity], seed: 5)
        let x = TrainerFixture.matrix(rows: 16, columns: 4, seed: 1)
        let labels = TrainerFixture.labels(count: 16, classes: 3, seed: 1)
        let single = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                 threads: 1, options: TrainerOptions(executor: .dispatch))
        _ = try single.step(input: x, labels: labels)
        XCTAssertEqual(try fewestProcessAllocations { for _ in 0..<3 { _ = try single.step(input: x, labels: labels) } }, 0)
    }
}
