// Every invalid input gets the right typed error, with a message naming the value or shape
// at fault; nothing traps.
import Backprop
import XCTest

final class ModelErrorTests: XCTestCase {
    enum Kind: String { case shapeMismatch, labelOutOfRange, emptyBatch, nonFiniteLoss, invalidConfiguration, other }

    func kind(_ error: BackpropError) -> Kind {
        switch error {
        case .shapeMismatch: return .shapeMismatch
        case .labelOutOfRange: return .labelOutOfRange
        case .emptyBatch: return .emptyBatch
        case .nonFiniteLoss: return .nonFiniteLoss
        case .invalidConfiguration: return .invalidConfiguration
        case .invalidThreadCount: return .other
        }
    }

    /// Asserts `body` throws a `BackpropError` of `expected` kind whose description contains
    /// every string of `mentions`.
    func assertThrows<T>(_ expected: Kind, mentions: [String] = [], _ body: () throws -> T,
                         file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected \(expected), nothing was thrown", file: file, line: line)
        } catch let error as BackpropError {
            XCTAssertEqual(kind(error), expected, "\(error)", file: file, line: line)
            for text in mentions {
                XCTAssertTrue(error.description.contains(text), "\"\(error)\" does not mention \"\(text)\"", file: file, line: line)
            }
        } catch {
            XCTFail("expected a BackpropError, got \(error)", file: file, line: line)
        }
    }

    let classifier = try! MLP(sizes: [3, 4, 3], activations: [.tanh, .identity], seed: 1)
    let regressor = try! MLP(sizes: [3, 4, 2], activations: [.relu, .sigmoid], seed: 1)
    let x = try! Matrix(rows: 2, columns: 3, values: [0.1, 0.2, 0.3, -0.1, 0.5, 0.9])

    func testWrongInputColumnsNamesBothWidths() throws {
        let wide = Matrix(rows: 2, columns: 5)
        let mentions = ["5 columns", "takes 3 inputs"]
        assertThrows(.shapeMismatch, mentions: mentions) { try classifier.lossAndGradients(input: wide, labels: [0, 1], loss: .softmaxCrossEntropy) }
        assertThrows(.shapeMismatch, mentions: mentions) { try regressor.lossAndGradients(input: wide, targets: Matrix(rows: 2, columns: 2), loss: .meanSquaredError) }
        assertThrows(.shapeMismatch, mentions: mentions) { try classifier.predict(wide) }
        assertThrows(.shapeMismatch, mentions: mentions) { try classifier.classify(wide) }
        assertThrows(.shapeMismatch, mentions: mentions) { try classifier.evaluate(input: wide, labels: [0, 1]) }
        assertThrows(.shapeMismatch, mentions: mentions) { try classifier.accuracy(input: wide, labels: [0, 1]) }
        assertThrows(.shapeMismatch, mentions: mentions) { try classifier.loss(input: wide, labels: [0, 1]) }
    }

    func testLabelOutOfRangeNamesLabelAndSample() throws {
        let three = try Matrix(rows: 3, columns: 3, values: [Float](repeating: 0.5, count: 9))
        assertThrows(.labelOutOfRange, mentions: ["label 3 of sample 1", "0..<3"]) {
            try classifier.lossAndGradients(input: three, labels: [0, 3, 1], loss: .softmaxCrossEntropy)
        }
        assertThrows(.labelOutOfRange, mentions: ["label -1 of sample 2"]) {
            try classifier.lossAndGradients(input: three, labels: [0, 2, -1], loss: .softmaxCrossEntropy)
        }
        XCTAssertThrowsError(try classifier.evaluate(input: three, labels: [0, 3, 1])) {
            XCTAssertEqual($0 as? BackpropError, .labelOutOfRange(label: 3, sample: 1, classes: 3))
        }
        assertThrows(.labelOutOfRange, mentions: ["label 7 of sample 0"]) { try classifier.accuracy(input: three, labels: [7, 0, 0]) }
    }

    func testEmptyBatch() throws {
        let empty = Matrix(rows: 0, columns: 3)
        assertThrows(.emptyBatch) { try classifier.lossAndGradients(input: empty, labels: [], loss: .softmaxCrossEntropy) }
        assertThrows(.emptyBatch) { try regressor.lossAndGradients(input: empty, targets: Matrix(rows: 0, columns: 2), loss: .meanSquaredError) }
        assertThrows(.emptyBatch) { try classifier.predict(empty) }
        assertThrows(.emptyBatch) { try classifier.evaluate(input: empty, labels: []) }
        assertThrows(.emptyBatch) { try classifier.accuracy(input: empty, labels: []) }
    }

    func testLabelAndTargetCountsMustMatchTheBatch() throws {
        assertThrows(.shapeMismatch, mentions: ["2 input rows but 3 labels"]) {
            try classifier.lossAndGradients(input: x, labels: [0, 1, 2], loss: .softmaxCrossEntropy)
        }
        assertThrows(.shapeMismatch, mentions: ["2 input rows but 1 labels"]) { try classifier.accuracy(input: x, labels: [0]) }
        assertThrows(.shapeMismatch, mentions: ["targets are 2×3", "needs 2×2"]) {
            try regressor.lossAndGradients(input: x, targets: Matrix(rows: 2, columns: 3), loss: .meanSquaredError)
        }
        assertThrows(.shapeMismatch, mentions: ["targets are 3×2", "needs 2×2"]) {
            try regressor.evaluate(input: x, targets: Matrix(rows: 3, columns: 2))
        }
    }

    func testLossAndTargetKindMustAgree() throws {
        assertThrows(.invalidConfiguration, mentions: [".identity", ".sigmoid"]) {
            try regressor.lossAndGradients(input: x, labels: [0, 1], loss: .softmaxCrossEntropy)
        }
        assertThrows(.invalidConfiguration, mentions: ["meanSquaredError needs float targets"]) {
            try classifier.lossAndGradients(input: x, labels: [0, 1], loss: .meanSquaredError)
        }
        assertThrows(.invalidConfiguration, mentions: ["softmaxCrossEntropy needs class labels"]) {
            try classifier.lossAndGradients(input: x, targets: Matrix(rows: 2, columns: 3), loss: .softmaxCrossEntropy)
        }
        assertThrows(.invalidConfiguration, mentions: [".identity"]) { try regressor.evaluate(input: x, labels: [0, 1]) }
        // accuracy needs no loss, so a sigmoid output is fine there.
        XCTAssertNoThrow(try regressor.accuracy(input: x, labels: [0, 1]))
    }

    func testBatchSizeMustBePositive() throws {
        assertThrows(.invalidConfiguration, mentions: ["batchSize", "got 0"]) { try classifier.evaluate(input: x, labels: [0, 1], batchSize: 0) }
        assertThrows(.invalidConfiguration, mentions: ["got -4"]) { try classifier.predict(x, batchSize: -4) }
    }

    func testBadSizesAndActivationCounts() throws {
        assertThrows(.invalidConfiguration, mentions: ["at least two sizes", "[3]"]) { try MLP(sizes: [3], activations: [], seed: 0) }
        assertThrows(.invalidConfiguration, mentions: ["positive", "[3, 0, 2]"]) {
            try MLP(sizes: [3, 0, 2], activations: [.relu, .identity], seed: 0)
        }
        assertThrows(.invalidConfiguration, mentions: ["3 sizes make 2 layers", "1 activations"]) {
            try MLP(sizes: [3, 4, 2], activations: [.relu], seed: 0)
        }
        var generator = SplitMix64(seed: 0)
        assertThrows(.shapeMismatch, mentions: ["0 → 4"]) {
            try Dense(inputSize: 0, outputSize: 4, activation: .relu, generator: &generator)
        }
        XCTAssertEqual(generator.state, 0, "nothing drawn for a rejected layer")
    }

    func testBiasWeightMismatchAndEmptyWeight() throws {
        assertThrows(.shapeMismatch, mentions: ["bias has 2 values", "3 rows"]) {
            try Dense(weight: Matrix(rows: 3, columns: 2), bias: [0, 0], activation: .relu)
        }
        assertThrows(.shapeMismatch, mentions: ["non-empty", "0×2"]) {
            try Dense(weight: Matrix(rows: 0, columns: 2), bias: [], activation: .relu)
        }
    }

    func testLayerChainMismatch() throws {
        let first = try Dense(weight: Matrix(rows: 4, columns: 3), bias: [0, 0, 0, 0], activation: .relu)
        let second = try Dense(weight: Matrix(rows: 2, columns: 5), bias: [0, 0], activation: .identity)
        assertThrows(.shapeMismatch, mentions: ["layer 1 takes 5 inputs", "layer 0 gives 4"]) { try MLP(layers: [first, second]) }
        assertThrows(.invalidConfiguration, mentions: ["at least one layer"]) { try MLP(layers: []) }
    }

    /// Layers edited after construction are checked again before use (never an out-of-bounds read).
    func testLayersBrokenAfterConstructionAreRejected() throws {
        var model = classifier
        model.layers[1].weight = Matrix(rows: 3, columns: 7)
        assertThrows(.shapeMismatch, mentions: ["layer 1 takes 7 inputs", "layer 0 gives 4"]) {
            try model.lossAndGradients(input: x, labels: [0, 1], loss: .softmaxCrossEntropy)
        }
        model = classifier
        model.layers[0].bias.removeLast()
        assertThrows(.shapeMismatch, mentions: ["layer 0's bias has 3 values", "4 rows"]) { try model.predict(x) }
        model.layers = []
        assertThrows(.invalidConfiguration, mentions: ["at least one layer"]) { try model.evaluate(input: x, labels: [0, 1]) }
    }

    func testMatrixValuesCountMismatch() throws {
        assertThrows(.shapeMismatch, mentions: ["rows: 2, columns: 3", "needs 6 values, got 5"]) {
            try Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5])
        }
        assertThrows(.shapeMismatch, mentions: ["rows: -1"]) { try Matrix(rows: -1, columns: 3, values: []) }
        assertThrows(.shapeMismatch, mentions: ["row 1 has 1 values but row 0 has 2"]) { try Matrix([[1, 2], [3]]) }
    }

    /// A NaN input, an infinite target, or a gradient that overflows while the loss stays
    /// finite: `.nonFiniteLoss(step: nil)` (the step is the trainer's to add).
    func testNonFiniteLossOrGradient() throws {
        var bad = x
        bad[1, 2] = .nan
        XCTAssertThrowsError(try classifier.lossAndGradients(input: bad, labels: [0, 1], loss: .softmaxCrossEntropy)) {
            XCTAssertEqual($0 as? BackpropError, .nonFiniteLoss(step: nil))
        }
        // NaN passes through ReLU (as in PyTorch), so the loss itself is NaN and is caught.
        XCTAssertTrue(try regressor.loss(input: bad, targets: Matrix(rows: 2, columns: 2)).isNaN)
        assertThrows(.nonFiniteLoss) { try regressor.lossAndGradients(input: bad, targets: Matrix(rows: 2, columns: 2), loss: .meanSquaredError) }
        var infiniteTarget = Matrix(rows: 2, columns: 2)
        infiniteTarget[0, 1] = .infinity
        assertThrows(.nonFiniteLoss) { try regressor.lossAndGradients(input: x, targets: infiniteTarget, loss: .meanSquaredError) }

        // x = 1e10, W0 = 2⁻¹³³ (≈ 9e-41, subnormal) → h1 ≈ 9e-31; W1 = (2¹⁰⁰ ≈ 1.3e30, 0) →
        // logits ≈ (1.16, 0): the loss is finite, but delta0 = delta1·W1 ≈ 6e29, so
        // dW0 = delta0·x ≈ 6e39 overflows Float.
        let overflow = try MLP(layers: [
            Dense(weight: Matrix([[0x1p-133]]), bias: [0], activation: .identity),
            Dense(weight: Matrix([[0x1p100], [0]]), bias: [0, 0], activation: .identity),
        ])
        XCTAssertTrue(try overflow.loss(input: Matrix([[1e10]]), labels: [1]).isFinite)
        XCTAssertThrowsError(try overflow.lossAndGradients(input: Matrix([[1e10]]), labels: [1], loss: .softmaxCrossEntropy)) {
            XCTAssertEqual($0 as? BackpropError, .nonFiniteLoss(step: nil))
        }
    }
}
