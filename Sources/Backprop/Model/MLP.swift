/// A multilayer perceptron: a chain of `Dense` layers, `layers[l]` feeding `layers[l + 1]`.
///
/// ```swift
/// var model = try MLP(sizes: [784, 256, 10], activations: [.relu, .identity], seed: 7)
/// let (loss, grads) = try model.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy)
/// for l in model.layers.indices {            // one step of plain SGD
///     model.layers[l].weight.withUnsafeMutableBufferPointer { w in
///         grads[l].weight.withUnsafeBufferPointer { g in for i in w.indices { w[i] -= 0.1 * g[i] } }
///     }
///     for j in model.layers[l].bias.indices { model.layers[l].bias[j] -= 0.1 * grads[l].bias[j] }
/// }
/// ```
///
/// A value type: copies are independent (their weights share storage until one is written).
/// `layers` is mutable so optimizers can update it; every method checks the chain again and
/// throws `BackpropError` if an edit broke it, so a broken model never reads out of bounds.
public struct MLP: Sendable, Equatable {
    /// The layers, input side first.
    public var layers: [Dense]

    /// Layer widths, input first: `[layers[0].inputSize, layers[0].outputSize, …]`
    /// (empty when `layers` is).
    public var sizes: [Int] { layers.isEmpty ? [] : [layers[0].inputSize] + layers.map(\.outputSize) }
    /// The activation of each layer.
    public var activations: [Activation] { layers.map(\.activation) }
    /// Inputs per sample (0 when `layers` is empty).
    public var inputSize: Int { layers.first?.inputSize ?? 0 }
    /// Outputs per sample (classes, for classification; 0 when `layers` is empty).
    public var outputSize: Int { layers.last?.outputSize ?? 0 }
    /// Number of trainable parameters.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// An MLP with layer widths `sizes` (input first) and one activation per layer, initialised
    /// from `seed` with `Initialization.default(for:)` (He uniform for ReLU-family layers,
    /// Xavier uniform otherwise) and zero biases. One `SplitMix64(seed:)` draws every weight,
    /// layer after layer, each in row-major order, so the same seed gives bitwise the same
    /// weights on every platform.
    /// - Throws: `BackpropError.invalidConfiguration` when there are fewer than two sizes, a
    ///   size is not positive, or `activations.count != sizes.count − 1`.
    public init(sizes: [Int], activations: [Activation], seed: UInt64) throws {
        guard sizes.count >= 2 else {
            throw BackpropError.invalidConfiguration("an MLP needs at least two sizes (input and output), got \(sizes)")
        }
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw BackpropError.invalidConfiguration("layer sizes must be positive, got \(sizes)")
        }
        guard activations.count == sizes.count - 1 else {
            throw BackpropError.invalidConfiguration(
                "\(sizes.count) sizes make \(sizes.count - 1) layers, but \(activations.count) activations were given")
        }
        var generator = SplitMix64(seed: seed)
        var layers: [Dense] = []
        for l in 0..<activations.count {
            layers.append(try Dense(inputSize: sizes[l], outputSize: sizes[l + 1], activation: activations[l],
                                    generator: &generator))
        }
        self.layers = layers
    }

    /// An MLP made of `layers`, kept as given.
    /// - Throws: `BackpropError.invalidConfiguration` when `layers` is empty;
    ///   `.shapeMismatch` when a layer's bias count differs from its weight's rows, or a
    ///   layer's input size differs from the previous layer's output size (naming both layers).
    public init(layers: [Dense]) throws {
        try MLP.validateChain(layers)
        self.layers = layers
    }
}
