@testable import Backprop
import XCTest

/// Deterministic batches and reference arithmetic shared by the trainer tests.
enum TrainerFixture {
    static func matrix(rows: Int, columns: Int, seed: UInt64, scale: Float = 1) -> Matrix {
        var generator = SplitMix64(seed: seed)
        return Matrix(rows: rows, columns: columns) { _, _ in scale * generator.nextSignedUnitFloat() }
    }

    static func labels(count: Int, classes: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int(generator.next() % UInt64(classes)) }
    }

    /// A classifier: softmax cross-entropy needs an identity output.
    static func classifier(seed: UInt64 = 11) throws -> MLP {
        try MLP(sizes: [5, 9, 7, 4], activations: [.relu, .tanh, .identity], seed: seed)
    }

    /// A regressor exercising the other activations and the output derivative of MSE.
    static func regressor(seed: UInt64 = 12) throws -> MLP {
        try MLP(sizes: [6, 8, 5, 3], activations: [.leakyReLU, .gelu, .sigmoid], seed: seed)
    }

    /// `model` after one reference step: `W ← W − η·dLoss/dW` from `MLP.lossAndGradients`.
    static func referenceStep(_ model: inout MLP, input: Matrix, labels: [Int]? = nil, targets: Matrix? = nil,
                              loss: Loss, learningRate: Float) throws -> Float {
        let (value, gradients) = try labels.map { try model.lossAndGradients(input: input, labels: $0, loss: loss) }
            ?? model.lossAndGradients(input: input, targets: targets!, loss: loss)
        for l in model.layers.indices {
            let g = gradients[l]
            model.layers[l].weight.withUnsafeMutableBufferPointer { w in
                g.weight.withUnsafeBufferPointer { d in
                    for i in w.indices { w[i] -= learningRate * d[i] }
                }
            }
            for i in model.layers[l].bias.indices { model.layers[l].bias[i] -= learningRate * g.bias[i] }
        }
        return value
    }

    /// Largest `|a − b| / max(1, |b|)` over all parameters.
    static func relativeDifference(_ a: MLP, _ b: MLP) -> Float {
        var worst: Float = 0
        for (x, y) in zip(a.layers, b.layers) {
            for (u, v) in zip(x.weight.values + x.bias, y.weight.values + y.bias) {
                worst = max(worst, abs(u - v) / max(1, abs(v)))
            }
        }
        return worst
    }

    /// Every parameter's bit pattern, to compare models bitwise.
    static func bits(_ model: MLP) -> [UInt32] {
        model.layers.flatMap { ($0.weight.values + $0.bias).map(\.bitPattern) }
    }
}
