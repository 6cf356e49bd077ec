/// Clipping by global norm: when the norm of all gradients together,
/// `‖g‖ = √(Σ over tensors ‖dLoss/dW‖²)`, exceeds `maxNorm`, every gradient is multiplied by
/// `c = maxNorm / ‖g‖` before the optimizer uses it (so the clipped gradient's global norm is
/// `maxNorm`); otherwise `c = 1` and nothing changes.
///
/// Unlike PyTorch's `clip_grad_norm_`, no `1e-6` is added to `‖g‖`: a gradient exactly at the
/// limit stays unchanged, and one above it is scaled exactly to it. The norm comes from the
/// trainer's deterministic per-row sums of squares (in `Double`, in row order, then in tensor
/// order), so it does not depend on the thread count. An optimizer given a clipping requests
/// `.gradients` norms; without one, no norm is computed.
public struct GradientClipping: Sendable, Hashable, CustomStringConvertible {
    /// The largest global gradient norm let through.
    public let maxNorm: Float

    /// Clipping at `maxNorm`.
    /// - Throws: `BackpropError.invalidConfiguration` when `maxNorm` is not finite and positive.
    public init(maxNorm: Float) throws {
        guard maxNorm.isFinite, maxNorm > 0 else {
            throw BackpropError.invalidConfiguration("the clipping norm is \(maxNorm); it must be finite and above 0")
        }
        self.maxNorm = maxNorm
    }

    /// The factor `c` for a global gradient norm `globalNorm`: `maxNorm / globalNorm` (computed
    /// in `Double`) when `globalNorm > maxNorm`, else 1.
    public func factor(globalNorm: Float) -> Float {
        globalNorm > maxNorm ? Float(Double(maxNorm) / Double(globalNorm)) : 1
    }

    public var description: String { "clip global norm at \(maxNorm)" }
}
