import Foundation

/// Adam (Kingma & Ba 2015) with PyTorch's `torch.optim.Adam` semantics: bias-corrected
/// moments and `ε` added to the bias-corrected `√v̂`; weight decay is L2 (added to the gradient)
/// unless `weightDecayMode` is `.decoupled` (then it is `AdamW`).
///
/// For each parameter `w` with gradient `g` (after clipping, `g ← c·g`), at step `t` with the
/// scheduled rate `η_t`:
/// ```
/// g ← g + λ·w                       (weight decay λ, L2; decoupled: w ← w·(1 − η_t·λ) instead)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// w ← w − (η_t / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
/// Two state floats per parameter: `m` (state vector 0) and `v` (vector 1). The bias
/// corrections use the trainer's step number `t`, so a restored trainer continues exactly.
/// See `AdamW` for decoupled weight decay with PyTorch's AdamW defaults.
public struct Adam: Optimizer {
    /// `η`, the base learning rate (the schedule multiplies it).
    public let learningRate: Float
    /// `β₁`.
    public let beta1: Float
    /// `β₂`.
    public let beta2: Float
    /// `ε`.
    public let epsilon: Float
    /// `λ`.
    public let weightDecay: Float
    /// How `λ` enters: `.l2` (Adam) or `.decoupled` (AdamW).
    public let weightDecayMode: WeightDecayMode
    /// Whether biases are decayed too (PyTorch's default, `true`).
    public let decaysBiases: Bool
    /// The learning-rate schedule.
    public let schedule: LearningRateSchedule
    /// Clipping by global gradient norm, or `nil`.
    public let clipping: GradientClipping?

    /// Adam with PyTorch's defaults where omitted.
    /// - Throws: `BackpropError.invalidConfiguration` naming the parameter when `learningRate`
    ///   is not finite, `beta1` or `beta2` is outside `[0, 1)`, `epsilon` is not positive, or
    ///   `weightDecay` is negative.
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, weightDecayMode: WeightDecayMode = .l2, decaysBiases: Bool = true,
                schedule: LearningRateSchedule = .constant, clipping: GradientClipping? = nil) throws {
        try self.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                      weightDecay: weightDecay, weightDecayMode: weightDecayMode, decaysBiases: decaysBiases,
                      schedule: schedule, clipping: clipping, name: "Adam")
    }

    /// The designated initializer; `name` is the optimizer named in errors.
    init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
         weightDecayMode: WeightDecayMode, decaysBiases: Bool, schedule: LearningRateSchedule,
         clipping: GradientClipping?, name: String) throws {
        try AdamRule.validate(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                              weightDecay: weightDecay, name: name)
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.weightDecayMode = weightDecayMode
        self.decaysBiases = decaysBiases
        self.schedule = schedule
        self.clipping = clipping
    }

    /// 2: `m` and `v`.
    public var stateCountPerParameter: Int { 2 }
    /// `.gradients` when clipping, else none.
    public var requestedNorms: TensorNormRequest { clipping == nil ? [] : .gradients }

    public func prepare(step: Int) -> OptimizerStep { prepare(step: step, globalNorms: TensorNorms()) }

    public func prepare(step: Int, globalNorms: TensorNorms) -> OptimizerStep {
        AdamRule.prepare(step: step, learningRate: learningRate, beta1: beta1, beta2: beta2, schedule: schedule,
                         clipping: clipping, globalNorms: globalNorms)
    }

    public func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        let lambda: Float = chunk.tensor.kind == .bias && !decaysBiases ? 0 : weightDecay
        let decoupled = weightDecayMode == .decoupled
        AdamRule.update(chunk, step: step, beta1: beta1, beta2: beta2, epsilon: epsilon,
                        l2: decoupled ? 0 : lambda, decoupled: decoupled ? lambda : 0)
    }
}

/// AdamW (Loshchilov & Hutter 2019) with PyTorch's `torch.optim.AdamW` semantics: `Adam` with
/// decoupled weight decay, `w ← w·(1 − η_t·λ)` before the Adam update (which then sees the
/// plain gradient). Default `λ = 0.01`, as PyTorch. Its hyperparameters read through to the
/// `Adam` it runs (`adamW.beta1`, `adamW.weightDecay`, …).
@dynamicMemberLookup
public struct AdamW: Optimizer {
    /// The optimizer it runs: an `Adam` whose `weightDecayMode` is `.decoupled`.
    public let adam: Adam

    /// AdamW with PyTorch's defaults where omitted.
    /// - Throws: `BackpropError.invalidConfiguration` as `Adam.init`, naming AdamW.
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0.01, decaysBiases: Bool = true, schedule: LearningRateSchedule = .constant,
                clipping: GradientClipping? = nil) throws {
        adam = try Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                        weightDecay: weightDecay, weightDecayMode: .decoupled, decaysBiases: decaysBiases,
                        schedule: schedule, clipping: clipping, name: "AdamW")
    }

    /// The hyperparameters of the underlying `Adam`.
    public subscript<T>(dynamicMember keyPath: KeyPath<Adam, T>) -> T { adam[keyPath: keyPath] }

    public var stateCountPerParameter: Int { adam.stateCountPerParameter }
    public var requestedNorms: TensorNormRequest { adam.requestedNorms }
    public func prepare(step: Int) -> OptimizerStep { adam.prepare(step: step) }
    public func prepare(step: Int, globalNorms: TensorNorms) -> OptimizerStep {
        adam.prepare(step: step, globalNorms: globalNorms)
    }
    public func update(_ chunk: ParameterChunk, step: OptimizerStep) { adam.update(chunk, step: step) }
}

/// The arithmetic shared by `Adam`, `AdamW` and `LAMB`.
enum AdamRule {
    /// Slot of `η_t / (1 − β₁ᵗ)`.
    static let stepSize = 2
    /// Slot of `1 / √(1 − β₂ᵗ)`.
    static let inverseRootCorrection2 = 3
    /// Slot of `1 / (1 − β₁ᵗ)`.
    static let inverseCorrection1 = 4

    static func validate(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
                         name: String) throws {
        try OptimizerValidation.finite(learningRate, "learning rate", of: name)
        try OptimizerValidation.fraction(beta1, "beta1", of: name)
        try OptimizerValidation.fraction(beta2, "beta2", of: name)
        try OptimizerValidation.positive(epsilon, "epsilon", of: name)
        try OptimizerValidation.nonNegative(weightDecay, "weight decay", of: name)
    }

    /// The scheduled step plus the bias corrections of step `t`, in `Double` then rounded.
    static func prepare(step: Int, learningRate: Float, beta1: Float, beta2: Float, schedule: LearningRateSchedule,
                        clipping: GradientClipping?, globalNorms: TensorNorms) -> OptimizerStep {
        var result = OptimizerStep.scheduled(step: step, learningRate: learningRate, schedule: schedule,
                                             clipping: clipping, globalNorms: globalNorms)
        let t = Double(max(step, 1))
        let correction1 = 1 - pow(Double(beta1), t)
        let correction2 = 1 - pow(Double(beta2), t)
        result.scalars[stepSize] = Float(Double(result.learningRate) / correction1)
        result.scalars[inverseRootCorrection2] = Float(1 / correction2.squareRoot())
        result.scalars[inverseCorrection1] = Float(1 / correction1)
        return result
    }

    /// Adam's update of a chunk: L2 decay `l2` or decoupled decay `decoupled` (one is 0).
    ///
    /// `m ← β₁·m + (1 − β₁)·d`, `v ← β₂·v + (1 − β₂)·d²` with `d = c·g + l2·w`, then
    /// `w ← w − stepSize·m/(√v·rootScale + ε)`.
    @inline(__always)
    static func update(_ chunk: ParameterChunk, step: OptimizerStep, beta1: Float, beta2: Float, epsilon: Float,
                       l2: Float, decoupled: Float) {
        typealias L = OptimizerLanes
        let c = step.gradientScale, stepSize = step.scalars[Self.stepSize]
        let rootScale = step.scalars[inverseRootCorrection2]
        let w = chunk.parameters, g = chunk.gradients, n = chunk.count, end = L.vectorEnd(chunk.count)
        let m = chunk.state, v = chunk.state + chunk.stateStride
        let fresh1 = 1 - beta1, fresh2 = 1 - beta2
        if decoupled != 0 {
            let keep = 1 - step.learningRate * decoupled
            for j in 0..<n { w[j] *= keep }
        }
        var j = 0
        while j < end {
            let d = c * L.load(g, j) + l2 * L.load(w, j)
            let mj = beta1 * L.load(m, j) + fresh1 * d
            let vj = beta2 * L.load(v, j) + fresh2 * (d * d)
            L.store(mj, m, j)
            L.store(vj, v, j)
            L.store(L.load(w, j) - stepSize * (mj / (vj.squareRoot() * rootScale + epsilon)), w, j)
            j += 8
        }
        while j < n {
            let d = c * g[j] + l2 * w[j]
            let mj = beta1 * m[j] + fresh1 * d
            let vj = beta2 * v[j] + fresh2 * (d * d)
            m[j] = mj
            v[j] = vj
            w[j] -= stepSize * (mj / (vj.squareRoot() * rootScale + epsilon))
            j += 1
        }
    }
}
