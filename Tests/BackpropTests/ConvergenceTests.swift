// End-to-end learning with plain SGD written here (W ← W − η·dLoss/dW over
// MLP.lossAndGradients), so these tests depend on the model layer alone, not on the Trainer.
// Hyper-parameters were chosen to converge for every model seed tried (1…10 for XOR, 1…6 for
// the spirals, 1…3 for the sine), so a change of rounding (a new GEMM kernel) does not make
// them flaky; each stops as soon as it reaches its goal.
import Backprop
import Foundation
import XCTest

final class ConvergenceTests: XCTestCase {
    /// One SGD step on every weight and bias: `W ← W − η·dLoss/dW`, `b ← b − η·dLoss/db`.
    static func sgd(_ model: inout MLP, _ gradients: [LayerGradients], learningRate eta: Float) {
        for l in model.layers.indices {
            model.layers[l].weight.withUnsafeMutableBufferPointer { w in
                gradients[l].weight.withUnsafeBufferPointer { g in
                    for i in w.indices { w[i] -= eta * g[i] }
                }
            }
            for j in model.layers[l].bias.indices { model.layers[l].bias[j] -= eta * gradients[l].bias[j] }
        }
    }

    /// `rows` in a fixed pseudo-random order (Fisher–Yates with SplitMix64), so minibatches mix classes.
    static func shuffled<T>(_ rows: [T], seed: UInt64) -> [T] {
        var generator = SplitMix64(seed: seed)
        var rows = rows
        for i in stride(from: rows.count - 1, to: 0, by: -1) { rows.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        return rows
    }

    /// XOR, 2-8-2 tanh with cross-entropy, full batch: the classic problem a linear model
    /// cannot solve, so it needs working hidden-layer gradients. After 300 steps at η = 0.5
    /// all four points are right and the loss is below 0.05 (it starts near log 2 = 0.69).
    func testXOR() throws {
        var model = try MLP(sizes: [2, 8, 2], activations: [.tanh, .identity], seed: 1)
        let x = try Matrix([[0, 0], [0, 1], [1, 0], [1, 1]])
        let labels = [0, 1, 1, 0]
        var loss: Float = .infinity
        for _ in 0..<300 {
            let (l, g) = try model.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy)
            loss = l
            Self.sgd(&model, g, learningRate: 0.5)
        }
        XCTAssertLessThan(loss, 0.05)
        XCTAssertEqual(try model.classify(x), labels)
    }

    /// Two interleaved spirals (two full turns, 2 × 96 points, radius 0.15…1), 2-64-64-2 ReLU
    /// with cross-entropy, SGD η = 0.3 on minibatches of 32: must reach ≥ 95% training
    /// accuracy within 4000 steps (it takes 1300–1900, stopping at 98%).
    func testTwoSpirals() throws {
        let perClass = 96
        var samples: [([Float], Int)] = []
        for i in 0..<perClass {
            let t = Double(i) / Double(perClass)
            let angle = t * 2 * (2 * Double.pi), radius = 0.15 + 0.85 * t
            samples.append(([Float(radius * cos(angle)), Float(radius * sin(angle))], 0))
            samples.append(([Float(-radius * cos(angle)), Float(-radius * sin(angle))], 1))
        }
        samples = Self.shuffled(samples, seed: 9)
        let x = try Matrix(samples.map(\.0)), labels = samples.map(\.1)
        var model = try MLP(sizes: [2, 64, 64, 2], activations: [.relu, .relu, .identity], seed: 3)
        let batch = 32
        var accuracy: Float = 0
        for step in 0..<4000 {
            let start = (step * batch) % x.rows
            let (_, g) = try model.lossAndGradients(input: x.rows(start..<(start + batch)),
                                                    labels: Array(labels[start..<(start + batch)]), loss: .softmaxCrossEntropy)
            Self.sgd(&model, g, learningRate: 0.3)
            if step % 60 == 59 {
                accuracy = try model.accuracy(input: x, labels: labels)
                if accuracy >= 0.98 { break }
            }
        }
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)
    }

    /// y = sin(x) on 64 points of [−π, π], 1-32-32-1 tanh with MSE, SGD η = 0.1 on minibatches
    /// of 16: the mean squared error over all points must fall below 2e-3 within 12000 steps
    /// (sin's variance is 0.5, so that is > 99.6% explained; it takes 4600–5900 steps to 1e-3).
    func testSineRegression() throws {
        let n = 64
        let xs = Self.shuffled((0..<n).map { -Double.pi + 2 * Double.pi * Double($0) / Double(n - 1) }, seed: 9)
        let x = try Matrix(rows: n, columns: 1, values: xs.map { Float($0) })
        let y = try Matrix(rows: n, columns: 1, values: xs.map { Float(sin($0)) })
        var model = try MLP(sizes: [1, 32, 32, 1], activations: [.tanh, .tanh, .identity], seed: 1)
        let initial = try model.loss(input: x, targets: y)
        let batch = 16
        var loss = initial
        for step in 0..<12000 {
            let start = (step * batch) % n
            let (_, g) = try model.lossAndGradients(input: x.rows(start..<(start + batch)),
                                                    targets: y.rows(start..<(start + batch)), loss: .meanSquaredError)
            Self.sgd(&model, g, learningRate: 0.1)
            if step % 100 == 99 {
                loss = try model.loss(input: x, targets: y)
                if loss < 1e-3 { break }
            }
        }
        XCTAssertLessThan(loss, 2e-3, "started at \(initial)")
    }
}
