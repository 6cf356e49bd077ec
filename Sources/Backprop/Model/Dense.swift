/// A fully connected layer: `a = W h(l-1) + b`, `h = f(a)`; batch-major, `A = H·Wᵀ + b`.
///
/// The properties are mutable so that optimizers and checkpoints can write them; an `MLP`
/// checks its layers' shapes again before each use and throws if an edit broke them.
public struct Dense: Sendable, Equatable {
    /// `W`, `outputSize × inputSize`.
    public var weight: Matrix
    /// `b`, `outputSize` values.
    public var bias: [Float]
    /// `f`.
    public var activation: Activation

    /// Inputs per sample (`W`'s columns).
    public var inputSize: Int { weight.columns }
    /// Outputs per sample (`W`'s rows).
    public var outputSize: Int { weight.rows }
    /// Number of parameters, `out·in + out`.
    public var parameterCount: Int { weight.count + bias.count }

    /// A layer with the given parameters.
    /// - Throws: `BackpropError.shapeMismatch` when `bias.count != weight.rows`, or when the
    ///   weight has no rows or columns.
    public init(weight: Matrix, bias: [Float], activation: Activation) throws {
        if let problem = Dense.shapeProblem(weight: weight, bias: bias) {
            throw BackpropError.shapeMismatch("a dense layer's " + problem)
        }
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }

    /// A layer of `inputSize → outputSize` with weights drawn by `initialization` (by default
    /// `Initialization.default(for: activation)`: He for ReLU-family activations, Xavier
    /// otherwise) from `generator`, and zero biases. Weights are drawn in row-major order, one
    /// `nextSignedUnitFloat()` each, so the same generator state gives bitwise the same layer
    /// on every platform; `generator` advances by `inputSize · outputSize` draws.
    /// - Throws: `BackpropError.shapeMismatch` when a size is not positive (nothing is drawn).
    public init(inputSize: Int, outputSize: Int, activation: Activation,
                initialization: Initialization? = nil, generator: inout SplitMix64) throws {
        guard inputSize > 0, outputSize > 0 else {
            throw BackpropError.shapeMismatch("a dense layer needs positive sizes, got \(inputSize) → \(outputSize)")
        }
        let scheme = initialization ?? .default(for: activation)
        let bound = scheme.bound(inputSize: inputSize, outputSize: outputSize)
        var weight = Matrix(rows: outputSize, columns: inputSize)
        weight.withUnsafeMutableBufferPointer { w in
            for i in w.indices { w[i] = bound * generator.nextSignedUnitFloat() }
        }
        try self.init(weight: weight, bias: [Float](repeating: 0, count: outputSize), activation: activation)
    }

    /// What is wrong with these parameter shapes, or `nil` when they make a layer.
    static func shapeProblem(weight: Matrix, bias: [Float]) -> String? {
        guard weight.rows > 0, weight.columns > 0 else {
            return "weight must be non-empty, got \(weight.rows)×\(weight.columns)"
        }
        guard bias.count == weight.rows else {
            return "bias has \(bias.count) values but its weight has \(weight.rows) rows (\(weight.rows)×\(weight.columns))"
        }
        return nil
    }
}
