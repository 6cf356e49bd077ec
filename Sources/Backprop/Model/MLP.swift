/// A multilayer perceptron: a chain of `Dense` layers.
///
/// ```swift
/// var model = try MLP(sizes: [784, 256, 10], activations: [.relu, .identity], seed: 7)
/// let (loss, grads) = try model.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy)
/// ```
public struct MLP: Sendable, Equatable {
    /// The layers, input side first.
    public var layers: [Dense]

    /// Layer widths, input first: `[layers[0].inputSize, layers[0].outputSize, …]`.
    public var sizes: [Int] { [layers[0].inputSize] + layers.map(\.outputSize) }
    /// The activation of each layer.
    public var activations: [Activation] { layers.map(\.activation) }
    /// Inputs per sample.
    public var inputSize: Int { layers[0].inputSize }
    /// Outputs per sample (classes, for classification).
    public var outputSize: Int { layers[layers.count - 1].outputSize }
    /// Number of trainable parameters.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// An MLP with layer widths `sizes` (input first) and one activation per layer, initialised
    /// from `seed` (He uniform for ReLU-family layers, Xavier uniform otherwise, zero biases).
    /// The same seed gives bitwise the same weights on every platform.
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

    /// An MLP made of `layers`.
    /// - Throws: `BackpropError` when `layers` is empty or a layer's input size differs from
    ///   the previous layer's output size.
    public init(layers: [Dense]) throws {
        guard !layers.isEmpty else { throw BackpropError.invalidConfiguration("an MLP needs at least one layer") }
        for l in 1..<layers.count where layers[l].inputSize != layers[l - 1].outputSize {
            throw BackpropError.shapeMismatch(
                "layer \(l) takes \(layers[l].inputSize) inputs but layer \(l - 1) gives \(layers[l - 1].outputSize)")
        }
        self.layers = layers
    }
}
