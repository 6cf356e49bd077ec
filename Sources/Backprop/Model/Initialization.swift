/// How a dense layer's weights are drawn; biases always start at zero.
///
/// Both schemes draw `W ~ U(−r, r)` (variance `r²/3`), one `SplitMix64.nextSignedUnitFloat()`
/// per weight in row-major order, each multiplied by `r` in `Float`.
public enum Initialization: String, Sendable, Hashable, CaseIterable {
    /// He (Kaiming) uniform: `r = √(6/in)`, variance `2/in`; the default for ReLU-family
    /// activations (PyTorch's `kaiming_uniform_` with the ReLU gain; the leaky ReLU slope is
    /// not folded into the gain).
    case he
    /// Xavier (Glorot) uniform: `r = √(6/(in+out))`, variance `2/(in+out)`; the default otherwise.
    case xavier

    /// He for `.relu` and `.leakyReLU`, Xavier for the rest.
    public static func `default`(for activation: Activation) -> Initialization {
        switch activation {
        case .relu, .leakyReLU: return .he
        case .identity, .tanh, .sigmoid, .gelu: return .xavier
        }
    }

    /// The bound `r` of `U(−r, r)` for a layer of `inputSize` inputs and `outputSize` outputs,
    /// computed in `Float` (`√` is correctly rounded, so `r` is the same on every platform).
    /// Sizes below 1 count as 1, so the bound is always finite.
    public func bound(inputSize: Int, outputSize: Int) -> Float {
        switch self {
        case .he: return (6 / Float(max(inputSize, 1))).squareRoot()
        case .xavier: return (6 / Float(max(inputSize + outputSize, 1))).squareRoot()
        }
    }
}
