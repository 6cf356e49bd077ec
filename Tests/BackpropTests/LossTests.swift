// Losses: hand-computed values, numerical stability of softmax cross-entropy, and the
// per-row independence of `Loss.outputDelta` that the data-parallel trainer relies on.
@testable import Backprop
import XCTest

final class LossTests: XCTestCase {
    /// A one-layer model `h = W x + b` with the given weights (one input) and identity output.
    func linear(_ weights: [Float], bias: [Float]? = nil, activation: Activation = .identity) throws -> MLP {
        try MLP(layers: [Dense(weight: Matrix(rows: weights.count, columns: 1, values: weights),
                               bias: bias ?? [Float](repeating: 0, count: weights.count), activation: activation)])
    }

    /// MSE by hand: W = [[2]], b = [1], x = (1, 2), y = (0, 0) → h = (3, 5),
    /// L = (9 + 25)/2 = 17, dLoss/dh = 2(h − y)/(B·n) = (3, 5), dW = 3·1 + 5·2 = 13, db = 8.
    /// Pins the convention (mean over batch and outputs, factor 2), as PyTorch's MSELoss.
    func testMeanSquaredErrorByHand() throws {
        let model = try linear([2], bias: [1])
        let (loss, g) = try model.lossAndGradients(input: Matrix([[1], [2]]), targets: Matrix([[0], [0]]),
                                                   loss: .meanSquaredError)
        XCTAssertEqual(loss, 17)
        XCTAssertEqual(g[0].weight.values, [13])
        XCTAssertEqual(g[0].bias, [8])
        // Two outputs: n = 2 halves every term. h = (2, 1), y = (0, 3): L = (4 + 4)/2 = 4,
        // dLoss/dh = 2(h − y)/2 = (2, −2), dW = (2, −2)·x with x = 1.
        let two = try linear([2, 1])
        let (loss2, g2) = try two.lossAndGradients(input: Matrix([[1]]), targets: Matrix([[0, 3]]), loss: .meanSquaredError)
        XCTAssertEqual(loss2, 4)
        XCTAssertEqual(g2[0].weight.values, [2, -2])
    }

    /// Cross-entropy by hand: logits (0, 0) → L = log 2, delta = (½ − 1, ½) for label 0.
    func testSoftmaxCrossEntropyByHand() throws {
        let model = try linear([0, 0])
        let (loss, g) = try model.lossAndGradients(input: Matrix([[1]]), labels: [0], loss: .softmaxCrossEntropy)
        XCTAssertEqual(loss, Float(log(2.0)), accuracy: 1e-7)
        XCTAssertEqual(g[0].bias, [-0.5, 0.5])
    }

    /// Logits ±1e4 (which overflow e^x in Float) give a finite loss and the right gradient:
    /// logits (1e4, −1e4, 0): label 0 → L = 0, gradient 0; label 1 → L = 2e4, delta = (1, −1, 0);
    /// and logits (1e4, 1e4, −1e4), label 0 → L = log 2 to 1e-6 (a loss computed as
    /// (log Σ + m) − h[y] would lose log 2 to rounding against 1e4 and be off by 2e-4).
    func testSoftmaxCrossEntropyIsStableForHugeLogits() throws {
        let model = try linear([1e4, -1e4, 0])
        let x = try Matrix([[1]])
        let (zero, g0) = try model.lossAndGradients(input: x, labels: [0], loss: .softmaxCrossEntropy)
        XCTAssertEqual(zero, 0)
        XCTAssertEqual(g0[0].bias, [0, 0, 0])
        let (big, g1) = try model.lossAndGradients(input: x, labels: [1], loss: .softmaxCrossEntropy)
        XCTAssertEqual(big, 2e4)
        XCTAssertEqual(g1[0].bias, [1, -1, 0])
        XCTAssertEqual(g1[0].weight.values, [1, -1, 0])
        // Both samples in one batch: the mean, and the mean gradient.
        let (both, g01) = try model.lossAndGradients(input: try Matrix([[1], [1]]), labels: [0, 1], loss: .softmaxCrossEntropy)
        XCTAssertEqual(both, 1e4)
        XCTAssertEqual(g01[0].bias, [0.5, -0.5, 0])

        let tie = try linear([1e4, 1e4, -1e4])
        let (half, gTie) = try tie.lossAndGradients(input: x, labels: [0], loss: .softmaxCrossEntropy)
        XCTAssertEqual(Double(half), log(2.0), accuracy: 1e-6)
        XCTAssertEqual(gTie[0].bias, [-0.5, 0.5, 0])
        // Negative huge logits only: the max subtraction keeps e^0 = 1 in the sum.
        let low = try linear([-1e4, -1e4 - 2])
        let (l, gLow) = try low.lossAndGradients(input: x, labels: [1], loss: .softmaxCrossEntropy)
        XCTAssertEqual(Double(l), 2 + log1p(exp(-2.0)), accuracy: 1e-5)  // −10002 is exact in Float
        XCTAssertTrue(gLow[0].bias.allSatisfy(\.isFinite))
    }

    /// `Loss.mean` and the row losses agree with the per-sample losses: a batch's loss is the
    /// mean of its samples' losses (bitwise, since both sum row losses in order in Double).
    func testBatchLossIsTheMeanOfSampleLosses() throws {
        let problem = try GradientProblem(sizes: [3, 6, 4], activations: [.tanh, .identity], loss: .softmaxCrossEntropy,
                                          batch: 5, seed: 3)
        let batchLoss = try problem.model.lossAndGradients(input: problem.input, labels: problem.labels,
                                                           loss: .softmaxCrossEntropy).loss
        var total = 0.0
        for i in 0..<5 {
            total += Double(try problem.model.lossAndGradients(input: problem.input.rows(i..<(i + 1)), labels: [problem.labels[i]],
                                                               loss: .softmaxCrossEntropy).loss)
        }
        XCTAssertEqual(batchLoss, Float(total / 5))
    }

    /// `outputDelta` over a batch in one call equals the same rows split into two calls,
    /// bitwise, for both losses and a non-identity MSE output: the trainer splits batches
    /// across threads and relies on this (a row must read only its own values, and the
    /// scale must come from `batchSize`, not from the rows range).
    func testOutputDeltaIsIndependentPerRow() {
        let batch = 7, n = 4
        var generator = SplitMix64(seed: 9)
        let a = Matrix.random(rows: batch, columns: n, in: -3...3, generator: &generator)
        let y = Matrix.random(rows: batch, columns: n, in: -1...1, generator: &generator)
        let labels = (0..<batch).map { $0 % n }
        for (loss, f) in [(Loss.softmaxCrossEntropy, Activation.identity), (.meanSquaredError, .tanh)] {
            let h = Matrix(rows: batch, columns: n) { i, j in f(a[i, j]) }
            func run(_ splits: [Range<Int>]) -> (delta: [Float], rowLoss: [Float]) {
                var delta = [Float](repeating: .nan, count: batch * n), rowLoss = [Float](repeating: .nan, count: batch)
                a.withUnsafeBufferPointer { ap in h.withUnsafeBufferPointer { hp in y.withUnsafeBufferPointer { yp in
                    labels.withUnsafeBufferPointer { lp in
                        let targets: LossTargets = loss == .softmaxCrossEntropy
                            ? .labels(lp.baseAddress!) : .values(yp.baseAddress!, leadingDimension: n)
                        for rows in splits {
                            loss.outputDelta(rows: rows, columns: n, batchSize: batch, activation: f,
                                             preActivation: ap.baseAddress!, output: hp.baseAddress!, targets: targets,
                                             delta: &delta, rowLoss: &rowLoss)
                        }
                    }
                } } }
                return (delta, rowLoss)
            }
            let whole = run([0..<batch])
            let split = run([3..<batch, 0..<3])
            XCTAssertEqual(whole.delta, split.delta, "\(loss)")
            XCTAssertEqual(whole.rowLoss, split.rowLoss, "\(loss)")
            XCTAssertTrue(whole.delta.allSatisfy(\.isFinite) && whole.rowLoss.allSatisfy(\.isFinite), "\(loss): every row written")
        }
    }
}
