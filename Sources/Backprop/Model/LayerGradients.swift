/// The gradients of the mean batch loss with respect to one dense layer's parameters,
/// shaped like the layer's `weight` and `bias`.
public struct LayerGradients: Sendable, Equatable {
    /// `dLoss/dW = Σ_samples delta h(l-1)ᵀ` (batch-major: `deltaᵀ·H`), `outputSize × inputSize`.
    public var weight: Matrix
    /// `dLoss/db = Σ_samples delta`, `outputSize` values.
    public var bias: [Float]

    /// Gradients holding `weight` and `bias` as given; no shape check (a `Dense` layer's
    /// gradients have its weight's shape and its bias's count).
    public init(weight: Matrix, bias: [Float]) {
        self.weight = weight
        self.bias = bias
    }

    /// Whether every element is finite (no NaN, no infinity).
    public var isFinite: Bool {
        let weightFinite = weight.withUnsafeBufferPointer { w in w.allSatisfy { $0.isFinite } }
        return weightFinite && bias.allSatisfy { $0.isFinite }
    }
}
