/// A fully connected layer: `a = W h(l-1) + b`, `h = f(a)`; batch-major, `A = H·Wᵀ + b`.
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
        guard weight.rows > 0, weight.columns > 0 else {
            throw BackpropError.shapeMismatch("a dense layer's weight must be non-empty, got \(weight.rows)×\(weight.columns)")
        }
        guard bias.count == weight.rows else {
            throw BackpropError.shapeMismatch("bias has \(bias.count) values but the weight has \(weight.rows) rows")
        }
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }

    /// A layer of `inputSize → outputSize` with weights drawn by `initialization` (by default
    /// He for ReLU-family activations, Xavier otherwise) from `generator`, and zero biases.
    /// Weights are drawn row by row, so the same generator state gives the same layer everywhere.
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
}

/// The gradients of the loss with respect to one dense layer's parameters.
public struct LayerGradients: Sendable, Equatable {
    /// `dLoss/dW = Σ_samples delta h(l-1)ᵀ`, `outputSize × inputSize`.
    public var weight: Matrix
    /// `dLoss/db = Σ_samples delta`, `outputSize` values.
    public var bias: [Float]

    public init(weight: Matrix, bias: [Float]) {
        self.weight = weight
        self.bias = bias
    }
}
