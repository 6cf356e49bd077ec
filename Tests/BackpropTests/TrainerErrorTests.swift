@testable import Backprop
import XCTest

/// Every error a trainer reports, and that a failed step changes nothing.
final class TrainerErrorTests: XCTestCase {
    private func assertThrows<T>(_ expected: BackpropError, _ body: @autoclosure () throws -> T,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? BackpropError, expected, file: file, line: line)
        }
    }

    private func assertThrowsKind<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath,
                                     line: UInt = #line, _ matches: (BackpropError) -> Bool) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? BackpropError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(matches(error), "\(error)", file: file, line: line)
        }
    }

    func testThreadCountBelowOne() throws {
        let model = try TrainerFixture.classifier()
        for threads in [0, -3] {
            assertThrows(.invalidThreadCount(threads),
                         try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                     threads: threads))
        }
    }

    func testInvalidBatchesLeaveEverythingUnchanged() throws {
        let model = try TrainerFixture.classifier()
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 2)
        let x = TrainerFixture.matrix(rows: 4, columns: 5, seed: 1)
        assertThrows(.emptyBatch, try trainer.step(input: Matrix(rows: 0, columns: 5), labels: []))
        assertThrowsKind(try trainer.step(input: TrainerFixture.matrix(rows: 4, columns: 6, seed: 1), labels: [0, 1, 2, 3])) {
            if case .shapeMismatch(let message) = $0 { return message.contains("6 columns") }
            return false
        }
        assertThrowsKind(try trainer.step(input: x, labels: [0, 1, 2])) {
            if case .shapeMismatch = $0 { return true }
            return false
        }
        assertThrows(.labelOutOfRange(label: 4, sample: 2, classes: 4), try trainer.step(input: x, labels: [0, 1, 4, 3]))
        assertThrows(.labelOutOfRange(label: -1, sample: 0, classes: 4), try trainer.step(input: x, labels: [-1, 1, 2, 3]))
        assertThrowsKind(try trainer.step(input: x, targets: Matrix(rows: 4, columns: 4))) {
            if case .invalidConfiguration = $0 { return true }
            return false
        }
        XCTAssertEqual(trainer.stepCount, 0)
        XCTAssertEqual(trainer.model, model)
    }

    func testInvalidTargets() throws {
        let model = try TrainerFixture.regressor()
        let trainer = try Trainer(model: model, loss: .meanSquaredError, optimizer: SGD(learningRate: 0.1), threads: 3)
        let x = TrainerFixture.matrix(rows: 4, columns: 6, seed: 1)
        assertThrowsKind(try trainer.step(input: x, targets: Matrix(rows: 4, columns: 2))) {
            if case .shapeMismatch(let message) = $0 { return message.contains("4×2") }
            return false
        }
        assertThrowsKind(try trainer.step(input: x, targets: Matrix(rows: 3, columns: 3))) {
            if case .shapeMismatch = $0 { return true }
            return false
        }
        assertThrowsKind(try trainer.step(input: x, labels: [0, 1, 2, 0])) {
            if case .invalidConfiguration = $0 { return true }
            return false
        }
        assertThrows(.emptyBatch, try trainer.step(input: Matrix(rows: 0, columns: 6), targets: Matrix(rows: 0, columns: 3)))
        XCTAssertEqual(trainer.model, model)
    }

    func testSoftmaxNeedsAnIdentityOutput() throws {
        let model = try MLP(sizes: [3, 4, 2], activations: [.relu, .sigmoid], seed: 1)
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 1)
        assertThrowsKind(try trainer.step(input: TrainerFixture.matrix(rows: 2, columns: 3, seed: 1), labels: [0, 1])) {
            if case .invalidConfiguration = $0 { return true }
            return false
        }
    }

    func testNaNLossLeavesWeightsUntouched() throws {
        for reduction in TrainerOptions.Reduction.allCases {
            for threads in [1, 3] {
                let trainer = try Trainer(model: try TrainerFixture.classifier(), loss: .softmaxCrossEntropy,
                                          optimizer: SGD(learningRate: 0.1), threads: threads,
                                          options: TrainerOptions(reduction: reduction))
                let x = TrainerFixture.matrix(rows: 6, columns: 5, seed: 1)
                let labels = TrainerFixture.labels(count: 6, classes: 4, seed: 1)
                _ = try trainer.step(input: x, labels: labels)
                let before = TrainerFixture.bits(trainer.model)
                var poisoned = x
                poisoned[4, 2] = .nan
                assertThrows(.nonFiniteLoss(step: 1), try trainer.step(input: poisoned, labels: labels))
                poisoned[4, 2] = .infinity
                assertThrows(.nonFiniteLoss(step: 1), try trainer.step(input: poisoned, labels: labels))
                XCTAssertEqual(TrainerFixture.bits(trainer.model), before, "\(reduction) threads \(threads)")
                XCTAssertEqual(trainer.stepCount, 1)
                // And training continues normally afterwards.
                XCTAssertTrue(try trainer.step(input: x, labels: labels).isFinite)
                XCTAssertEqual(trainer.stepCount, 2)
                XCTAssertNotEqual(TrainerFixture.bits(trainer.model), before)
            }
        }
    }

    func testInfiniteGradientWithFiniteLossLeavesWeightsUntouched() throws {
        // h(1) = 1e20 feeds an output weight of 0, so the output stays 0 and the loss
        // (0 − 1e19)² = 1e38 is finite, but dLoss/dW(2) = delta·h(1) ≈ −2e39 overflows.
        let model = try MLP(layers: [
            try Dense(weight: try Matrix(rows: 1, columns: 1, values: [1]), bias: [0], activation: .identity),
            try Dense(weight: try Matrix(rows: 1, columns: 1, values: [0]), bias: [0], activation: .identity),
        ])
        let x = try Matrix(rows: 1, columns: 1, values: [1e20])
        let y = try Matrix(rows: 1, columns: 1, values: [1e19])
        XCTAssertTrue(try model.lossAndGradients(input: x, targets: y, loss: .meanSquaredError).loss.isFinite)
        for reduction in TrainerOptions.Reduction.allCases {
            for threads in [1, 2] {
                let trainer = try Trainer(model: model, loss: .meanSquaredError, optimizer: SGD(learningRate: 0.1),
                                          threads: threads, options: TrainerOptions(reduction: reduction))
                assertThrows(.nonFiniteLoss(step: 0), try trainer.step(input: x, targets: y))
                XCTAssertEqual(trainer.model, model)
                XCTAssertEqual(trainer.stepCount, 0)
            }
        }
    }
}
