@testable import Backprop
import XCTest

/// The data-parallel trainer against the single-threaded reference (`MLP.lossAndGradients` + SGD).
final class TrainerTests: XCTestCase {
    /// Float sums in another order differ in the last bits; after a few steps of a small
    /// model the parameters agree to this relative tolerance.
    let tolerance: Float = 1e-5

    func testMatchesReferenceForThreadCountsBatchSizesLossesAndModes() throws {
        for reduction in TrainerOptions.Reduction.allCases {
            for threads in [1, 2, 3, 8] {
                for batch in [1, 2, 7, 16] {  // one sample, fewer samples than threads, odd
                    try checkAgainstReference(loss: .softmaxCrossEntropy, reduction: reduction, threads: threads, batch: batch)
                    try checkAgainstReference(loss: .meanSquaredError, reduction: reduction, threads: threads, batch: batch)
                }
            }
        }
    }

    private func checkAgainstReference(loss: Loss, reduction: TrainerOptions.Reduction, threads: Int, batch: Int) throws {
        var reference = loss == .softmaxCrossEntropy ? try TrainerFixture.classifier() : try TrainerFixture.regressor()
        let trainer = try Trainer(model: reference, loss: loss, optimizer: SGD(learningRate: 0.3), threads: threads,
                                  options: TrainerOptions(reduction: reduction))
        let context = "\(loss) \(reduction) threads \(threads) batch \(batch)"
        for step in 0..<3 {
            let x = TrainerFixture.matrix(rows: batch, columns: reference.inputSize, seed: UInt64(100 + step))
            let expected: Float, actual: Float
            if loss == .softmaxCrossEntropy {
                let labels = TrainerFixture.labels(count: batch, classes: reference.outputSize, seed: UInt64(200 + step))
                expected = try TrainerFixture.referenceStep(&reference, input: x, labels: labels, loss: loss, learningRate: 0.3)
                actual = try trainer.step(input: x, labels: labels)
            } else {
                let y = TrainerFixture.matrix(rows: batch, columns: reference.outputSize, seed: UInt64(300 + step))
                expected = try TrainerFixture.referenceStep(&reference, input: x, targets: y, loss: loss, learningRate: 0.3)
                actual = try trainer.step(input: x, targets: y)
            }
            XCTAssertEqual(actual, expected, accuracy: tolerance * max(1, abs(expected)), context)
            XCTAssertLessThanOrEqual(TrainerFixture.relativeDifference(trainer.model, reference), tolerance, context)
        }
        XCTAssertEqual(trainer.stepCount, 3, context)
        // The model really moved: a trainer that did nothing would fail the comparison above only
        // if the reference moved, so check that too.
        let initial = loss == .softmaxCrossEntropy ? try TrainerFixture.classifier() : try TrainerFixture.regressor()
        XCTAssertGreaterThan(TrainerFixture.relativeDifference(reference, initial), 1e-4, context)
    }

    func testBatchSizeMayChangeBetweenSteps() throws {
        for reduction in TrainerOptions.Reduction.allCases {
            var reference = try TrainerFixture.classifier()
            let trainer = try Trainer(model: reference, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.2),
                                      threads: 3, options: TrainerOptions(reduction: reduction))
            for (step, batch) in [5, 2, 17, 1, 9, 17].enumerated() {
                let x = TrainerFixture.matrix(rows: batch, columns: 5, seed: UInt64(step))
                let labels = TrainerFixture.labels(count: batch, classes: 4, seed: UInt64(50 + step))
                let expected = try TrainerFixture.referenceStep(&reference, input: x, labels: labels,
                                                                loss: .softmaxCrossEntropy, learningRate: 0.2)
                XCTAssertEqual(try trainer.step(input: x, labels: labels), expected, accuracy: tolerance)
                XCTAssertLessThanOrEqual(TrainerFixture.relativeDifference(trainer.model, reference), tolerance,
                                         "\(reduction) step \(step) batch \(batch)")
            }
        }
    }

    func testLossIsBitwiseTheReferenceLoss() throws {
        // Rows of the forward pass do not depend on the sharding and the loss is summed in
        // sample order, so even the tree mode's loss equals the reference's exactly.
        let model = try TrainerFixture.classifier()
        let x = TrainerFixture.matrix(rows: 13, columns: 5, seed: 1)
        let labels = TrainerFixture.labels(count: 13, classes: 4, seed: 2)
        let expected = try model.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy).loss
        for reduction in TrainerOptions.Reduction.allCases {
            for threads in [1, 2, 5] {
                let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                          threads: threads, options: TrainerOptions(reduction: reduction))
                XCTAssertEqual(try trainer.step(input: x, labels: labels).bitPattern, expected.bitPattern)
            }
        }
    }

    func testPhaseTimingsAreMeasured() throws {
        let trainer = try Trainer(model: try TrainerFixture.classifier(), loss: .softmaxCrossEntropy,
                                  optimizer: SGD(learningRate: 0.1), threads: 2)
        XCTAssertEqual(trainer.lastStepTimings, PhaseTimings())
        _ = try trainer.step(input: TrainerFixture.matrix(rows: 8, columns: 5, seed: 1),
                             labels: TrainerFixture.labels(count: 8, classes: 4, seed: 2))
        let t = trainer.lastStepTimings
        XCTAssertGreaterThan(t.forward, 0)
        XCTAssertGreaterThan(t.backward, 0)
        XCTAssertGreaterThanOrEqual(t.reduction, 0)
        XCTAssertGreaterThan(t.update, 0)
        XCTAssertEqual(t.total, t.forward + t.backward + t.reduction + t.update)
    }

    func testDefaultsAndProperties() throws {
        let model = try TrainerFixture.classifier()
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1))
        XCTAssertEqual(trainer.threads, ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(trainer.options, TrainerOptions(reduction: .threadCountInvariant, executor: .workerPool))
        XCTAssertEqual(trainer.stepCount, 0)
        XCTAssertEqual(trainer.model, model)
        XCTAssertEqual((trainer.optimizer as? SGD)?.learningRate, 0.1)
        trainer.optimizer = SGD(learningRate: 0.5)
        XCTAssertEqual((trainer.optimizer as? SGD)?.learningRate, 0.5)
    }
}
