#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An elementwise activation `h = f(a)` and its derivative `f'(a)`.
///
/// Every case is defined on all finite `Float`s; `tanh` and `sigmoid` saturate without
/// overflow for large `|a|`. `gelu` is the exact form `a·Φ(a)` (as PyTorch's default),
/// not the tanh approximation.
public enum Activation: Sendable, Hashable {
    /// `f(a) = a`, `f'(a) = 1`.
    case identity
    /// `f(a) = max(a, 0)`, `f'(a) = 1` for `a > 0`, else `0` (also at `a = 0`).
    case relu
    /// `f(a) = a` for `a > 0`, else `negativeSlope·a`; `f'(a)` is `1` or `negativeSlope`.
    case leakyReLU(negativeSlope: Float)
    /// `f(a) = tanh(a)`, `f'(a) = 1 − h²`.
    case tanh
    /// `f(a) = 1 / (1 + e^(−a))`, `f'(a) = h·(1 − h)`.
    case sigmoid
    /// `f(a) = a·Φ(a)` with `Φ` the standard normal CDF; `f'(a) = Φ(a) + a·φ(a)`.
    case gelu

    /// Leaky ReLU with PyTorch's default negative slope, 0.01.
    public static let leakyReLU: Activation = .leakyReLU(negativeSlope: 0.01)

    /// `f(a)`.
    @inlinable
    public func callAsFunction(_ a: Float) -> Float {
        switch self {
        case .identity: return a
        case .relu: return a < 0 ? 0 : a  // NaN passes through, as in PyTorch
        case .leakyReLU(let slope): return a < 0 ? slope * a : a
        case .tanh: return tanhf(a)
        case .sigmoid: return Activation.sigmoid(a)
        // Φ(a) = erfc(−a/√2)/2 keeps full relative accuracy in the far negative tail.
        case .gelu: return 0.5 * a * erfcf(-a * 0.70710678118654752)
        }
    }

    /// `f'(a)`, given both the pre-activation `a` and the activation `h = f(a)`, so that
    /// each case can use the cheaper of the two.
    @inlinable
    public func derivative(preActivation a: Float, activation h: Float) -> Float {
        switch self {
        case .identity: return 1
        case .relu: return a > 0 ? 1 : 0
        case .leakyReLU(let slope): return a > 0 ? 1 : slope
        case .tanh: return 1 - h * h
        case .sigmoid: return h * (1 - h)
        case .gelu:
            let cdf = 0.5 * erfcf(-a * 0.70710678118654752)
            let pdf = 0.39894228040143268 * expf(-0.5 * a * a)
            return cdf + a * pdf
        }
    }

    /// Whether `f'` can be computed from `h` alone (so the pre-activation need not be kept).
    @inlinable
    public var derivativeNeedsPreActivation: Bool {
        switch self {
        case .gelu: return true
        case .relu: return false  // a > 0 exactly when h > 0
        case .leakyReLU(let slope): return slope < 0  // a negative slope flips the sign of h
        case .identity, .tanh, .sigmoid: return false
        }
    }

    @inlinable
    static func sigmoid(_ a: Float) -> Float {
        // Two branches keep e^x from overflowing for large |a|.
        if a >= 0 {
            return 1 / (1 + expf(-a))
        } else {
            let e = expf(a)
            return e / (1 + e)
        }
    }
}
