/// Stochastic gradient descent, optionally with momentum, Nesterov momentum, dampening and
/// weight decay, with PyTorch's `torch.optim.SGD` semantics.
///
/// For each parameter `w` with gradient `g` (after clipping, `g ← c·g`), at step `t` with the
/// scheduled rate `η_t`, momentum `μ`, dampening `d` and weight decay `λ`:
/// 1. decay: `.l2`: `g ← g + λ·w`; `.decoupled`: `w ← w·(1 − η_t·λ)`;
/// 2. momentum (`μ > 0`): `v ← g` at step 1, else `v ← μ·v + (1 − d)·g`; then
///    `g ← g + μ·v` (Nesterov) or `g ← v`;
/// 3. `w ← w − η_t·g`.
///
/// Plain SGD (`SGD(learningRate:)`) is `w ← w − η·g`: no state and no norms. With momentum,
/// one state float per parameter holds `v`. "Step 1" is the trainer's first step: an
/// optimizer installed later starts from `v = 0`, so its first update is `v ← (1 − d)·g`.
/// Each element is updated on its own, so results do not depend on how the trainer splits
/// the parameters.
///
/// Only `learningRate` is stored inline; the other options live in one shared, immutable box,
/// so an `SGD` fits an existential's inline buffer and `trainer.optimizer = SGD(learningRate:)`
/// (as a tool with its own schedule does every step) allocates nothing.
public struct SGD: Optimizer {
    /// `η`, the base learning rate (the schedule multiplies it).
    public var learningRate: Float
    /// Everything else.
    private let options: SGDOptions

    /// `μ` (0: no momentum).
    public var momentum: Float { options.momentum }
    /// `d`, the dampening of the momentum.
    public var dampening: Float { options.dampening }
    /// Nesterov momentum.
    public var nesterov: Bool { options.nesterov }
    /// `λ`.
    public var weightDecay: Float { options.weightDecay }
    /// How `λ` is applied.
    public var weightDecayMode: WeightDecayMode { options.weightDecayMode }
    /// Whether biases are decayed too (PyTorch's default, `true`).
    public var decaysBiases: Bool { options.decaysBiases }
    /// The learning-rate schedule.
    public var schedule: LearningRateSchedule { options.schedule }
    /// Clipping by global gradient norm, or `nil`.
    public var clipping: GradientClipping? { options.clipping }

    /// Plain SGD with learning rate `η = learningRate`.
    public init(learningRate: Float) {
        self.learningRate = learningRate
        options = SGDOptions.plain
    }

    /// SGD with momentum and the other options (PyTorch's defaults where omitted).
    /// - Throws: `BackpropError.invalidConfiguration` naming the parameter when `learningRate`
    ///   is not finite; `momentum` or `dampening` is outside `[0, 1)`; `weightDecay` is
    ///   negative; or `nesterov` is set without momentum or with dampening (as PyTorch).
    public init(learningRate: Float, momentum: Float, dampening: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, weightDecayMode: WeightDecayMode = .l2, decaysBiases: Bool = true,
                schedule: LearningRateSchedule = .constant, clipping: GradientClipping? = nil) throws {
        try OptimizerValidation.finite(learningRate, "learning rate", of: "SGD")
        try OptimizerValidation.fraction(momentum, "momentum", of: "SGD")
        try OptimizerValidation.fraction(dampening, "dampening", of: "SGD")
        try OptimizerValidation.nonNegative(weightDecay, "weight decay", of: "SGD")
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw BackpropError.invalidConfiguration(
                "SGD's Nesterov momentum needs a momentum above 0 and zero dampening (momentum \(momentum), dampening \(dampening))")
        }
        self.learningRate = learningRate
        options = SGDOptions(momentum: momentum, dampening: dampening, nesterov: nesterov, weightDecay: weightDecay,
                             weightDecayMode: weightDecayMode, decaysBiases: decaysBiases, schedule: schedule,
                             clipping: clipping)
    }

    /// 1 (the momentum `v`) when `momentum > 0`, else 0.
    public var stateCountPerParameter: Int { momentum > 0 ? 1 : 0 }

    /// `.gradients` when clipping, else none.
    public var requestedNorms: TensorNormRequest { clipping == nil ? [] : .gradients }

    public func prepare(step: Int) -> OptimizerStep {
        prepare(step: step, globalNorms: TensorNorms())
    }

    public func prepare(step: Int, globalNorms: TensorNorms) -> OptimizerStep {
        .scheduled(step: step, learningRate: learningRate, schedule: schedule, clipping: clipping,
                   globalNorms: globalNorms)
    }

    public func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        typealias L = OptimizerLanes
        let eta = step.learningRate, c = step.gradientScale
        let w = chunk.parameters, g = chunk.gradients, n = chunk.count, end = L.vectorEnd(chunk.count)
        let lambda: Float = chunk.tensor.kind == .bias && !decaysBiases ? 0 : weightDecay
        let l2: Float = weightDecayMode == .l2 ? lambda : 0
        if weightDecayMode == .decoupled && lambda != 0 {
            let keep = 1 - eta * lambda
            for j in 0..<n { w[j] *= keep }
        }
        guard momentum > 0 else {
            // w ← w − η·(c·g + λ·w)
            var j = 0
            while j < end {
                L.store(L.load(w, j) - eta * (c * L.load(g, j) + l2 * L.load(w, j)), w, j)
                j += 8
            }
            while j < n {
                w[j] -= eta * (c * g[j] + l2 * w[j])
                j += 1
            }
            return
        }
        // v ← keep·v + fresh·d (keep = 0, fresh = 1 at step 1); w ← w − η·(d + μ·v) or w − η·v.
        let v = chunk.state, mu = momentum
        let first = step.number == 1
        let keep = first ? 0 : mu, fresh = first ? 1 : 1 - dampening
        let nesterovFactor: Float = nesterov ? 1 : 0, bufferFactor: Float = nesterov ? mu : 1
        var j = 0
        while j < end {
            let d = c * L.load(g, j) + l2 * L.load(w, j)
            let buffer = keep * L.load(v, j) + fresh * d
            L.store(buffer, v, j)
            L.store(L.load(w, j) - eta * (nesterovFactor * d + bufferFactor * buffer), w, j)
            j += 8
        }
        while j < n {
            let d = c * g[j] + l2 * w[j]
            let buffer = keep * v[j] + fresh * d
            v[j] = buffer
            w[j] -= eta * (nesterovFactor * d + bufferFactor * buffer)
            j += 1
        }
    }
}

/// `SGD`'s options other than the rate: immutable, shared by copies.
private final class SGDOptions: Sendable {
    let momentum: Float
    let dampening: Float
    let nesterov: Bool
    let weightDecay: Float
    let weightDecayMode: WeightDecayMode
    let decaysBiases: Bool
    let schedule: LearningRateSchedule
    let clipping: GradientClipping?

    init(momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float, weightDecayMode: WeightDecayMode,
         decaysBiases: Bool, schedule: LearningRateSchedule, clipping: GradientClipping?) {
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.weightDecayMode = weightDecayMode
        self.decaysBiases = decaysBiases
        self.schedule = schedule
        self.clipping = clipping
    }

    /// Plain SGD's: no momentum, decay, schedule or clipping.
    static let plain = SGDOptions(momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, weightDecayMode: .l2,
                                  decaysBiases: true, schedule: .constant, clipping: nil)
}
