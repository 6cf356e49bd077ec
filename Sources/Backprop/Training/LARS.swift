/// LARS, layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017, Algorithm 1): SGD
/// with momentum whose step for each weight tensor is scaled by a local learning rate from the
/// ratio of the tensor's weight norm to its gradient norm.
///
/// For each weight tensor `W` with gradient `g` (after clipping, `g ← c·g`, so `‖g‖` is
/// `c·‖dLoss/dW‖`), at step `t` with the scheduled global rate `γ_t`, trust coefficient `η`,
/// weight decay `β` and momentum `m`:
/// ```
/// λ = η·‖W‖ / (‖g‖ + β·‖W‖)          (λ = 1 when ‖W‖ = 0 or ‖g‖ = 0)
/// v ← m·v + γ_t·λ·(g + β·W)
/// W ← W − v
/// ```
/// Biases (with `adaptsBiases == false`, the default) get neither the trust ratio nor weight
/// decay: `v ← m·v + γ_t·g`, `b ← b − v`. One state float per parameter holds `v`. The norms
/// are the trainer's deterministic per-tensor norms, so the update does not depend on the
/// thread count.
public struct LARS: Optimizer {
    /// `γ`, the base global learning rate (the schedule multiplies it).
    public let learningRate: Float
    /// `m`.
    public let momentum: Float
    /// `β`.
    public let weightDecay: Float
    /// `η`, the trust coefficient (paper: 0.001).
    public let trustCoefficient: Float
    /// Whether biases get the trust ratio and weight decay too (default `false`).
    public let adaptsBiases: Bool
    /// The learning-rate schedule.
    public let schedule: LearningRateSchedule
    /// Clipping by global gradient norm, or `nil`.
    public let clipping: GradientClipping?

    /// LARS.
    /// - Throws: `BackpropError.invalidConfiguration` naming the parameter when `learningRate`
    ///   is not finite, `momentum` is outside `[0, 1)`, `weightDecay` is negative, or
    ///   `trustCoefficient` is not positive.
    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0.0005,
                trustCoefficient: Float = 0.001, adaptsBiases: Bool = false,
                schedule: LearningRateSchedule = .constant, clipping: GradientClipping? = nil) throws {
        try OptimizerValidation.finite(learningRate, "learning rate", of: "LARS")
        try OptimizerValidation.fraction(momentum, "momentum", of: "LARS")
        try OptimizerValidation.nonNegative(weightDecay, "weight decay", of: "LARS")
        try OptimizerValidation.positive(trustCoefficient, "trust coefficient", of: "LARS")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.trustCoefficient = trustCoefficient
        self.adaptsBiases = adaptsBiases
        self.schedule = schedule
        self.clipping = clipping
    }

    /// 1: the momentum `v`.
    public var stateCountPerParameter: Int { 1 }
    /// `‖W‖` and `‖g‖` of every tensor.
    public var requestedNorms: TensorNormRequest { [.parameters, .gradients] }

    public func prepare(step: Int) -> OptimizerStep { prepare(step: step, globalNorms: TensorNorms()) }

    public func prepare(step: Int, globalNorms: TensorNorms) -> OptimizerStep {
        .scheduled(step: step, learningRate: learningRate, schedule: schedule, clipping: clipping,
                   globalNorms: globalNorms)
    }

    /// The local learning rate `λ` of a tensor with norms `norms` (gradient norm before
    /// clipping) and clipping factor `c`, in `Double` then rounded.
    public func trustRatio(_ norms: TensorNorms, gradientScale c: Float = 1) -> Float {
        let weightNorm = Double(norms.parameters), gradientNorm = Double(c) * Double(norms.gradients)
        guard weightNorm > 0, gradientNorm > 0 else { return 1 }
        return Float(Double(trustCoefficient) * weightNorm / (gradientNorm + Double(weightDecay) * weightNorm))
    }

    public func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        let c = step.gradientScale, mu = momentum
        let w = chunk.parameters, g = chunk.gradients, v = chunk.state, n = chunk.count
        let adapted = chunk.tensor.kind == .weight || adaptsBiases
        let rate = adapted ? step.learningRate * trustRatio(chunk.norms, gradientScale: c) : step.learningRate
        let beta: Float = adapted ? weightDecay : 0
        typealias L = OptimizerLanes
        let end = L.vectorEnd(n)
        var j = 0
        while j < end {
            let buffer = mu * L.load(v, j) + rate * (c * L.load(g, j) + beta * L.load(w, j))
            L.store(buffer, v, j)
            L.store(L.load(w, j) - buffer, w, j)
            j += 8
        }
        while j < n {
            let buffer = mu * v[j] + rate * (c * g[j] + beta * w[j])
            v[j] = buffer
            w[j] -= buffer
            j += 1
        }
    }
}
