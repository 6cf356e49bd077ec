import Foundation

/// The learning rate of each step as a multiple of an optimizer's base rate `η`: an optional
/// linear warm-up followed by a decay.
///
/// For step `t` (1 for the first step), with `W = warmupSteps`:
/// - warm-up, `t ≤ W`: `factor(t) = t / W` (from `η/W` at step 1 up to `η` at step `W`);
/// - afterwards the decay runs on its own clock `s = t − W − 1` (0 for the first step after
///   the warm-up, or for step 1 without one):
///   - `.constant`: `1`;
///   - `.step(every: k, factor: γ)`: `γ^⌊s / k⌋` (`γ` once every `k` steps);
///   - `.cosine(totalSteps: T, floor: f)`: `f + (1 − f)·(1 + cos(π·min(s, D)/D))/2` with
///     `D = T − W` decay steps: from `1` at `s = 0` towards `f` (a fraction of `η`), reached at
///     `s = D` and held after `T` steps (PyTorch's `CosineAnnealingLR` with `T_max = D`).
///
/// The factor is computed in `Double` once per step, in `Optimizer.prepare`, so a schedule
/// costs nothing in the parallel update.
public struct LearningRateSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The decay after the warm-up (see the type's documentation for the formulas).
    public enum Decay: Sendable, Hashable {
        /// `1`.
        case constant
        /// `γ^⌊s / k⌋`: multiplied by `factor` every `every` steps.
        case step(every: Int, factor: Float)
        /// Cosine from `1` to `floor` (a fraction of the base rate) over the steps after the
        /// warm-up, `totalSteps` counting the warm-up.
        case cosine(totalSteps: Int, floor: Float)
    }

    /// The decay after the warm-up.
    public let decay: Decay
    /// Steps of linear warm-up (0: none).
    public let warmupSteps: Int

    /// A constant rate with no warm-up.
    public static let constant = LearningRateSchedule(validated: .constant, warmupSteps: 0)

    /// A schedule.
    /// - Throws: `BackpropError.invalidConfiguration` naming the parameter when `warmupSteps`
    ///   is negative; a step decay's `every` is below 1 or its `factor` is not finite and
    ///   positive; a cosine's `floor` is outside `[0, 1]` or `totalSteps` does not exceed
    ///   `warmupSteps`.
    public init(decay: Decay = .constant, warmupSteps: Int = 0) throws {
        guard warmupSteps >= 0 else {
            throw BackpropError.invalidConfiguration("the warm-up is \(warmupSteps) steps; it must be 0 or more")
        }
        switch decay {
        case .constant:
            break
        case .step(let every, let factor):
            guard every >= 1 else {
                throw BackpropError.invalidConfiguration("the step decay's interval is \(every) steps; it must be at least 1")
            }
            guard factor.isFinite, factor > 0 else {
                throw BackpropError.invalidConfiguration("the step decay's factor is \(factor); it must be finite and above 0")
            }
        case .cosine(let totalSteps, let floor):
            guard floor >= 0, floor <= 1 else {
                throw BackpropError.invalidConfiguration("the cosine floor is \(floor); it must be a fraction in [0, 1] of the learning rate")
            }
            guard totalSteps > warmupSteps else {
                throw BackpropError.invalidConfiguration(
                    "the cosine schedule has \(totalSteps) total steps, not more than the \(warmupSteps) warm-up steps")
            }
        }
        self.init(validated: decay, warmupSteps: warmupSteps)
    }

    private init(validated decay: Decay, warmupSteps: Int) {
        self.decay = decay
        self.warmupSteps = warmupSteps
    }

    /// The multiple of the base rate at step `step` (1 for the first; steps below 1 count
    /// as 1).
    public func factor(atStep step: Int) -> Double {
        let t = max(step, 1)
        if t <= warmupSteps { return Double(t) / Double(warmupSteps) }
        let s = t - warmupSteps - 1
        switch decay {
        case .constant:
            return 1
        case .step(let every, let factor):
            return pow(Double(factor), Double(s / every))
        case .cosine(let totalSteps, let floor):
            let d = Double(totalSteps - warmupSteps)
            let progress = min(Double(s), d) / d
            let f = Double(floor)
            return f + (1 - f) * (1 + cos(Double.pi * progress)) / 2
        }
    }

    /// `η·factor(atStep: step)`, rounded once to `Float`.
    public func learningRate(base: Float, atStep step: Int) -> Float {
        Float(Double(base) * factor(atStep: step))
    }

    public var description: String {
        let decayText: String
        switch decay {
        case .constant: decayText = "constant"
        case .step(let every, let factor): decayText = "step ×\(factor) every \(every) steps"
        case .cosine(let totalSteps, let floor): decayText = "cosine to \(floor)·η at step \(totalSteps)"
        }
        return warmupSteps > 0 ? "\(warmupSteps) warm-up steps, then \(decayText)" : decayText
    }
}

/// The linear scaling rule (Goyal et al. 2017): when the batch grows `k`-fold, so does the
/// learning rate, `η = η₀·batchSize / referenceBatchSize` (reference 256).
///
/// - Throws: `BackpropError.invalidConfiguration` when `batchSize` or `referenceBatchSize` is
///   below 1, or `baseLearningRate` is not finite.
public func linearlyScaledLearningRate(_ baseLearningRate: Float, batchSize: Int,
                                       referenceBatchSize: Int = 256) throws -> Float {
    guard batchSize >= 1 else {
        throw BackpropError.invalidConfiguration("the batch size is \(batchSize); the scaling rule needs at least 1")
    }
    guard referenceBatchSize >= 1 else {
        throw BackpropError.invalidConfiguration("the reference batch size is \(referenceBatchSize); it must be at least 1")
    }
    guard baseLearningRate.isFinite else {
        throw BackpropError.invalidConfiguration("the base learning rate is \(baseLearningRate); it must be finite")
    }
    return Float(Double(baseLearningRate) * Double(batchSize) / Double(referenceBatchSize))
}
