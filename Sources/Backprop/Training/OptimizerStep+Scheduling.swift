/// The scalars every optimizer of this module puts first in `OptimizerStep.scalars`.
enum StepScalar {
    /// The scheduled learning rate `η_t`.
    static let learningRate = 0
    /// The clipping factor `c` (1 without clipping).
    static let gradientScale = 1
}

extension OptimizerStep {
    /// Step `step` with `η_t = schedule(η)` in slot 0 and the clipping factor in slot 1.
    static func scheduled(step: Int, learningRate: Float, schedule: LearningRateSchedule,
                          clipping: GradientClipping?, globalNorms: TensorNorms) -> OptimizerStep {
        var scalars = SIMD8<Float>()
        scalars[StepScalar.learningRate] = schedule.learningRate(base: learningRate, atStep: step)
        scalars[StepScalar.gradientScale] = clipping?.factor(globalNorm: globalNorms.gradients) ?? 1
        return OptimizerStep(number: step, scalars: scalars)
    }

    /// `η_t`.
    var learningRate: Float { scalars[StepScalar.learningRate] }
    /// The clipping factor `c`.
    var gradientScale: Float { scalars[StepScalar.gradientScale] }
}

/// Checks shared by the optimizers' initialisers.
enum OptimizerValidation {
    static func finite(_ value: Float, _ name: String, of optimizer: String) throws {
        guard value.isFinite else {
            throw BackpropError.invalidConfiguration("\(optimizer)'s \(name) is \(value); it must be finite")
        }
    }

    static func nonNegative(_ value: Float, _ name: String, of optimizer: String) throws {
        guard value.isFinite, value >= 0 else {
            throw BackpropError.invalidConfiguration("\(optimizer)'s \(name) is \(value); it must be finite and at least 0")
        }
    }

    static func positive(_ value: Float, _ name: String, of optimizer: String) throws {
        guard value.isFinite, value > 0 else {
            throw BackpropError.invalidConfiguration("\(optimizer)'s \(name) is \(value); it must be finite and above 0")
        }
    }

    /// `0 ≤ value < 1` (momentum, β₁, β₂).
    static func fraction(_ value: Float, _ name: String, of optimizer: String) throws {
        guard value >= 0, value < 1 else {
            throw BackpropError.invalidConfiguration("\(optimizer)'s \(name) is \(value); it must be in [0, 1)")
        }
    }
}
