/// How weight decay `λ` enters an update.
public enum WeightDecayMode: String, Sendable, Hashable, CaseIterable {
    /// L2 regularisation: `λ·W` is added to the gradient before the optimizer's rule
    /// (PyTorch's `weight_decay` in `SGD` and `Adam`).
    case l2
    /// Decoupled (Loshchilov & Hutter, AdamW): `W ← W·(1 − η_t·λ)` before the rule, which
    /// then sees the plain gradient (PyTorch's `AdamW`).
    case decoupled
}
