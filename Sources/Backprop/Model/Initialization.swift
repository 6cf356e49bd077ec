/// A small, fast, seedable pseudo-random generator (SplitMix64) whose output is the same on
/// every platform, so a seed gives the same weights everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The whole state: save it to resume the sequence exactly.
    public var state: UInt64

    /// A generator whose sequence is determined by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A `Float` uniform in `[-1, 1)`, from the top 24 bits: exact, with no rounding, so it
    /// is bitwise the same on every platform.
    public mutating func nextSignedUnitFloat() -> Float {
        Float(Int32(truncatingIfNeeded: next() >> 40) - (1 << 23)) * 0x1p-23
    }
}

/// How a dense layer's weights are drawn; biases always start at zero.
public enum Initialization: String, Sendable, Hashable, CaseIterable {
    /// He (Kaiming) uniform: `W ~ U(−√(6/in), √(6/in))`; the default for ReLU-family activations.
    case he
    /// Xavier (Glorot) uniform: `W ~ U(−√(6/(in+out)), √(6/(in+out)))`; the default otherwise.
    case xavier

    /// He for `.relu` and `.leakyReLU`, Xavier for the rest.
    public static func `default`(for activation: Activation) -> Initialization {
        switch activation {
        case .relu, .leakyReLU: return .he
        case .identity, .tanh, .sigmoid, .gelu: return .xavier
        }
    }

    /// The bound `r` of `U(−r, r)` for a layer of `inputSize` inputs and `outputSize` outputs.
    public func bound(inputSize: Int, outputSize: Int) -> Float {
        switch self {
        case .he: return (6 / Float(max(inputSize, 1))).squareRoot()
        case .xavier: return (6 / Float(max(inputSize + outputSize, 1))).squareRoot()
        }
    }
}
