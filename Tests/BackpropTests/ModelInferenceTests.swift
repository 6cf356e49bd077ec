// predict, classify, evaluate, loss and accuracy: consistent with each other and with the
// training loss, independent of the batch size, and free of per-batch allocations.
@testable import Backprop
import CAllocationCounter
import XCTest

final class ModelInferenceTests: XCTestCase {
    func problem(_ activations: [Activation] = [.tanh, .relu, .identity], loss: Loss = .softmaxCrossEntropy,
                 batch: Int = 37) throws -> GradientProblem {
        try GradientProblem(sizes: [5, 7, 6, 4], activations: activations, loss: loss, batch: batch, seed: 77)
    }

    /// `predict` equals the float64 reference forward pass (to Float rounding), for every
    /// activation, with identity and non-identity outputs.
    func testPredictMatchesReferenceForward() throws {
        for f in everyActivation {
            let p = try problem([f, f, f])
            let expected = ReferenceMLP(p.model).forward(p.x).h.last!.flatMap { $0 }
            assertClose(try p.model.predict(p.input).values.map(Double.init), expected, tolerance: 1e-5, "\(f)")
        }
    }

    /// Rows do not depend on the batch they are computed in: `predict` and `classify` with
    /// batch sizes 1, 4, 36 and 1024 agree bitwise, and `evaluate`'s loss equals
    /// `lossAndGradients`'s bitwise (same row losses, summed in order in Double).
    func testResultsDoNotDependOnBatchSize() throws {
        let p = try problem()
        let whole = try p.model.predict(p.input)
        let classes = try p.model.classify(p.input)
        let (trainingLoss, _) = try p.libraryLossAndGradients()
        for batchSize in [1, 4, 36, 1024] {
            XCTAssertEqual(try p.model.predict(p.input, batchSize: batchSize).values.map(\.bitPattern),
                           whole.values.map(\.bitPattern), "batch size \(batchSize)")
            XCTAssertEqual(try p.model.classify(p.input, batchSize: batchSize), classes)
            let evaluation = try p.model.evaluate(input: p.input, labels: p.labels, batchSize: batchSize)
            XCTAssertEqual(evaluation.loss, trainingLoss, "batch size \(batchSize)")
            XCTAssertEqual(evaluation.count, 37)
        }
        XCTAssertEqual(try p.model.loss(input: p.input, labels: p.labels), trainingLoss)

        let r = try problem([.gelu, .sigmoid, .tanh], loss: .meanSquaredError)
        let (regressionLoss, _) = try r.libraryLossAndGradients()
        for batchSize in [1, 5, 1024] {
            let evaluation = try r.model.evaluate(input: r.input, targets: r.targets, batchSize: batchSize)
            XCTAssertEqual(evaluation.loss, regressionLoss)
            XCTAssertNil(evaluation.accuracy)
        }
        XCTAssertEqual(try r.model.loss(input: r.input, targets: r.targets), regressionLoss)
    }

    /// `classify` is the argmax of `predict`; `accuracy` and `evaluate().accuracy` are the
    /// fraction of rows whose argmax is the label.
    func testClassifyAndAccuracyAgreeWithPredict() throws {
        let p = try problem()
        let output = try p.model.predict(p.input)
        let classes = try p.model.classify(p.input)
        for i in 0..<output.rows {
            let row = output.row(i)
            XCTAssertEqual(classes[i], row.firstIndex(of: row.max()!)!)
        }
        // Labels that make some, not all, predictions right.
        var labels = classes
        for i in stride(from: 0, to: labels.count, by: 3) { labels[i] = (labels[i] + 1) % 4 }
        let right = zip(labels, classes).filter { $0 == $1 }.count
        XCTAssertEqual(try p.model.accuracy(input: p.input, labels: labels), Float(Double(right) / 37))
        XCTAssertEqual(try p.model.evaluate(input: p.input, labels: labels, batchSize: 5).accuracy, Float(Double(right) / 37))
    }

    /// Ties go to the first index; NaN is never the largest.
    func testArgmaxTiesAndNaN() {
        let rows: [([Float], Int)] = [([1, 3, 3], 1), ([.nan, 2, 1], 1), ([.nan, .nan], 0), ([0, .nan, 5], 2), ([-1], 0)]
        for (row, expected) in rows {
            XCTAssertEqual(row.withUnsafeBufferPointer { MLP.argmax($0.baseAddress!, count: row.count) }, expected, "\(row)")
        }
    }

    /// `evaluate` allocates its buffers once per call, not per batch: 37 batches of 1 row cost
    /// no more allocations than one batch of 37 rows.
    func testEvaluateAllocatesNothingPerBatch() throws {
        let p = try problem(batch: 37)
        func allocations(_ batchSize: Int) throws -> UInt64 {
            _ = try p.model.evaluate(input: p.input, labels: p.labels, batchSize: batchSize)  // warm up
            let before = bp_allocation_count()
            bp_allocation_counting(1)
            _ = try p.model.evaluate(input: p.input, labels: p.labels, batchSize: batchSize)
            bp_allocation_counting(0)
            return bp_allocation_count() - before
        }
        let oneBatch = try allocations(37), manyBatches = try allocations(1)
        XCTAssertLessThanOrEqual(manyBatches, oneBatch, "37 batches allocated \(manyBatches) times, 1 batch \(oneBatch)")
        XCTAssertLessThanOrEqual(oneBatch, 12, "a handful of buffers per call")
    }
}
