/// LAMB, layer-wise adaptive moments (You et al. 2019, Algorithm 2): Adam's bias-corrected
/// moments, with each weight tensor's step scaled by a trust ratio.
///
/// For each weight tensor `W` with gradient `g` (after clipping, `g ← c·g`), at step `t` with
/// the scheduled rate `η_t` and weight decay `λ`:
/// ```
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// r = (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)
/// u = r + λ·W
/// W ← W − η_t · φ(‖W‖) / ‖u‖ · u        φ(z) = min(z, maxTrustNorm)
/// ```
/// with the ratio `φ(‖W‖)/‖u‖` taken as 1 when `‖W‖ = 0` or `‖u‖ = 0`. Biases (with
/// `adaptsBiases == false`, the default) get neither the ratio nor weight decay:
/// `b ← b − η_t·r`. Two state floats per parameter: `m` and `v`.
///
/// `‖u‖` needs the whole tensor's new moments before any of its elements changes, so LAMB
/// requests `.updates` norms: the trainer's `measure` pass updates `m`, `v` and sums the
/// squares of `u` per row (deterministically, as the other norms), and the update pass
/// recomputes `u` from them with the same arithmetic (bitwise the same) and applies it.
public struct LAMB: Optimizer {
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
    /// The upper clamp of `φ(‖W‖) = min(‖W‖, maxTrustNorm)` (default 10).
    public let maxTrustNorm: Float
    /// Whether biases get the trust ratio and weight decay too (default `false`).
    public let adaptsBiases: Bool
    /// The learning-rate schedule.
    public let schedule: LearningRateSchedule
    /// Clipping by global gradient norm, or `nil`.
    public let clipping: GradientClipping?

    /// LAMB.
    /// - Throws: `BackpropError.invalidConfiguration` naming the parameter when `learningRate`
    ///   is not finite, `beta1` or `beta2` is outside `[0, 1)`, `epsilon` or `maxTrustNorm` is
    ///   not positive, or `weightDecay` is negative.
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-6,
                weightDecay: Float = 0.01, maxTrustNorm: Float = 10, adaptsBiases: Bool = false,
                schedule: LearningRateSchedule = .constant, clipping: GradientClipping? = nil) throws {
        try AdamRule.validate(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                              weightDecay: weightDecay, name: "LAMB")
        try OptimizerValidation.positive(maxTrustNorm, "maximum trust norm", of: "LAMB")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.maxTrustNorm = maxTrustNorm
        self.adaptsBiases = adaptsBiases
        self.schedule = schedule
        self.clipping = clipping
    }

    /// 2: `m` and `v`.
    public var stateCountPerParameter: Int { 2 }
    /// `‖W‖`, `‖u‖`, and `‖g‖` when clipping.
    public var requestedNorms: TensorNormRequest {
        clipping == nil ? [.parameters, .updates] : [.parameters, .gradients, .updates]
    }

    public func prepare(step: Int) -> OptimizerStep { prepare(step: step, globalNorms: TensorNorms()) }

    public func prepare(step: Int, globalNorms: TensorNorms) -> OptimizerStep {
        AdamRule.prepare(step: step, learningRate: learningRate, beta1: beta1, beta2: beta2, schedule: schedule,
                         clipping: clipping, globalNorms: globalNorms)
    }

    /// The trust ratio `φ(‖W‖)/‖u‖` of a tensor with norms `norms`, in `Double` then rounded.
    public func trustRatio(_ norms: TensorNorms) -> Float {
        let weightNorm = Double(norms.parameters), updateNorm = Double(norms.updates)
        guard weightNorm > 0, updateNorm > 0 else { return 1 }
        return Float(min(weightNorm, Double(maxTrustNorm)) / updateNorm)
    }

    /// Updates `m` and `v` and stores each row's `Σ u²` (8 lanes of `Double` over the row's
    /// blocks of 8, the lanes added in order, then the rest of the row in order: the same for
    /// every split of the tensor into chunks of whole rows).
    public func measure(_ chunk: ParameterChunk, step: OptimizerStep, rowSquares: UnsafeMutablePointer<Double>) {
        typealias L = OptimizerLanes
        let c = step.gradientScale
        let stepScale = step.scalars[AdamRule.inverseCorrection1]
        let rootScale = step.scalars[AdamRule.inverseRootCorrection2]
        let w = chunk.parameters, g = chunk.gradients
        let m = chunk.state, v = chunk.state + chunk.stateStride
        let lambda = decay(of: chunk.tensor)
        let fresh1 = 1 - beta1, fresh2 = 1 - beta2
        let columns = chunk.tensor.columns
        let rows = chunk.count / columns
        for r in 0..<rows {
            let start = r * columns, rowEnd = start + columns
            let end = start + L.vectorEnd(columns)
            var lanes = SIMD8<Double>()
            var j = start
            while j < end {
                let d = c * L.load(g, j)
                let mj = beta1 * L.load(m, j) + fresh1 * d
                let vj = beta2 * L.load(v, j) + fresh2 * (d * d)
                L.store(mj, m, j)
                L.store(vj, v, j)
                let u = (mj * stepScale) / (vj.squareRoot() * rootScale + epsilon) + lambda * L.load(w, j)
                let wide = SIMD8<Double>(u)
                lanes += wide * wide
                j += 8
            }
            var squares = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
            while j < rowEnd {
                let d = c * g[j]
                let mj = beta1 * m[j] + fresh1 * d
                let vj = beta2 * v[j] + fresh2 * (d * d)
                m[j] = mj
                v[j] = vj
                let u = (mj * stepScale) / (vj.squareRoot() * rootScale + epsilon) + lambda * w[j]
                squares += Double(u) * Double(u)
                j += 1
            }
            rowSquares[r] = squares
        }
    }

    /// `W ← W − η_t·ratio·u`, with `u` recomputed from the `m`, `v` that `measure` stored
    /// (bitwise the `u` it measured).
    public func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        typealias L = OptimizerLanes
        let stepScale = step.scalars[AdamRule.inverseCorrection1]
        let rootScale = step.scalars[AdamRule.inverseRootCorrection2]
        let w = chunk.parameters, n = chunk.count, end = L.vectorEnd(chunk.count)
        let m = chunk.state, v = chunk.state + chunk.stateStride
        let lambda = decay(of: chunk.tensor)
        let adapted = chunk.tensor.kind == .weight || adaptsBiases
        let rate = adapted ? step.learningRate * trustRatio(chunk.norms) : step.learningRate
        var j = 0
        while j < end {
            let wj = L.load(w, j)
            let u = (L.load(m, j) * stepScale) / (L.load(v, j).squareRoot() * rootScale + epsilon) + lambda * wj
            L.store(wj - rate * u, w, j)
            j += 8
        }
        while j < n {
            let u = (m[j] * stepScale) / (v[j].squareRoot() * rootScale + epsilon) + lambda * w[j]
            w[j] -= rate * u
            j += 1
        }
    }

    /// `λ` for `tensor`: 0 for a bias that is not adapted.
    @inline(__always)
    private func decay(of tensor: ParameterTensor) -> Float {
        tensor.kind == .weight || adaptsBiases ? weightDecay : 0
    }
}
