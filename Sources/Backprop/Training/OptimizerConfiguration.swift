/// The optimizer, learning-rate schedule and clipping of a training run, as chosen by the
/// command-line flags `--optimizer`, `--momentum`, `--weight-decay`, `--schedule`,
/// `--warmup`, `--clip`, `--scale-lr` and `--adapt-biases` (see `OptimizerConfiguration+Parsing`).
///
/// A tool parses the flags into a configuration, then, once it knows the batch size and the
/// length of the run, makes the optimizer:
/// ```swift
/// var configuration = OptimizerConfiguration()
/// try configuration.apply(flag: "--optimizer", value: "lars")      // for each flag seen
/// let optimizer = try configuration.make(learningRate: 0.1, batchSize: 4096,
///                                        stepsPerEpoch: 15, totalSteps: 600)
/// ```
/// Hyperparameters not given take the defaults of `Kind` (`defaultMomentum`,
/// `defaultWeightDecay`). The value is `Codable`, so a checkpoint can record it.
public struct OptimizerConfiguration: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The update rule (`--optimizer`).
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// `SGD`, momentum 0 unless `--momentum` is given, L2 weight decay.
        case sgd
        /// `SGD` with heavy-ball momentum (default 0.9), L2 weight decay.
        case momentum
        /// `SGD` with Nesterov momentum (default 0.9), L2 weight decay.
        case nesterov
        /// `Adam`, L2 weight decay (default 0).
        case adam
        /// `AdamW`, decoupled weight decay (default 0.01).
        case adamw
        /// `LARS`, momentum (default 0.9), weight decay default 0.0005, trust coefficient 0.001,
        /// biases not adapted.
        case lars
        /// `LAMB`, weight decay default 0.01, `φ(z) = min(z, 10)`, biases not adapted.
        case lamb

        /// The momentum used when `--momentum` is not given (`nil`: the rule has none).
        public var defaultMomentum: Float? {
            switch self {
            case .sgd: return 0
            case .momentum, .nesterov, .lars: return 0.9
            case .adam, .adamw, .lamb: return nil
            }
        }

        /// The weight decay used when `--weight-decay` is not given.
        public var defaultWeightDecay: Float {
            switch self {
            case .sgd, .momentum, .nesterov, .adam: return 0
            case .adamw, .lamb: return 0.01
            case .lars: return 0.0005
            }
        }
    }

    /// A length given in steps or in epochs (`--warmup 500`, `--warmup 5e`).
    public enum Duration: Sendable, Hashable, Codable, CustomStringConvertible {
        case steps(Int)
        case epochs(Double)

        /// The length in steps: `epochs · stepsPerEpoch` rounded to the nearest step.
        public func steps(perEpoch stepsPerEpoch: Int) -> Int {
            switch self {
            case .steps(let n): return n
            case .epochs(let e): return Int((e * Double(stepsPerEpoch)).rounded())
            }
        }

        /// As the flags write it: `500` or `5e`.
        public var description: String {
            switch self {
            case .steps(let n): return "\(n)"
            case .epochs(let e): return "\(e == e.rounded() ? String(Int(e)) : String(e))e"
            }
        }
    }

    /// The decay after the warm-up (`--schedule`).
    public enum Schedule: Sendable, Hashable, Codable, CustomStringConvertible {
        /// `constant`.
        case constant
        /// `step:K:GAMMA`: multiply by `factor` every `every` steps (or epochs).
        case step(every: Duration, factor: Float)
        /// `cosine` or `cosine:FLOOR`: cosine to `floor` (a fraction of the rate) at the end of
        /// the run.
        case cosine(floor: Float)

        public var description: String {
            switch self {
            case .constant: return "constant"
            case .step(let every, let factor): return "step:\(every):\(factor)"
            case .cosine(let floor): return floor == 0 ? "cosine" : "cosine:\(floor)"
            }
        }
    }

    /// `--optimizer` (default `.sgd`).
    public var kind: Kind = .sgd
    /// `--momentum`; `nil` takes `kind.defaultMomentum`.
    public var momentum: Float?
    /// `--weight-decay`; `nil` takes `kind.defaultWeightDecay`.
    public var weightDecay: Float?
    /// `--schedule` (default `.constant`).
    public var schedule: Schedule = .constant
    /// `--warmup` (default none).
    public var warmup: Duration = .steps(0)
    /// `--clip`: the maximum global gradient norm, or `nil` for no clipping.
    public var clipNorm: Float?
    /// `--scale-lr`: apply the linear scaling rule `η = η₀·batch/256` to the tool's rate.
    public var scalesLearningRate = false
    /// `--adapt-biases`: LARS and LAMB give biases the trust ratio and weight decay too.
    public var adaptsBiases = false

    /// Plain SGD, constant rate, no clipping: the tools' behaviour without these flags.
    public init() {}

    /// The momentum in effect (0 for the rules without one).
    public var effectiveMomentum: Float { momentum ?? kind.defaultMomentum ?? 0 }
    /// The weight decay in effect.
    public var effectiveWeightDecay: Float { weightDecay ?? kind.defaultWeightDecay }

    /// The base learning rate for a batch of `batchSize`: `learningRate·batchSize/256` with
    /// `--scale-lr`, else `learningRate`.
    public func learningRate(base learningRate: Float, batchSize: Int) -> Float {
        scalesLearningRate ? Float(Double(learningRate) * Double(batchSize) / 256) : learningRate
    }

    /// Checks the values and the flags against each other (also done by `make`).
    /// - Throws: `.conflictingFlags` for `--adapt-biases` with a rule other than LARS and LAMB;
    ///   `.invalidValue` naming `--momentum` (outside `[0, 1)`, or not above 0 for
    ///   Nesterov), `--weight-decay` (negative or not finite), `--clip` (not positive and
    ///   finite), `--schedule` (a factor not positive and finite, a floor outside `[0, 1]`, a
    ///   negative interval) or `--warmup` (negative); `.conflictingFlags` for a momentum given
    ///   to Adam, AdamW or LAMB.
    public func validate() throws(OptimizerConfigurationError) {
        if adaptsBiases && kind != .lars && kind != .lamb {
            throw .conflictingFlags("--adapt-biases", "--optimizer \(kind.rawValue)")
        }
        if let momentum {
            guard kind.defaultMomentum != nil else {
                throw .conflictingFlags("--momentum", "--optimizer \(kind.rawValue)")
            }
            guard momentum >= 0, momentum < 1 else {
                throw .invalidValue(flag: "--momentum", value: "\(momentum)", expected: "a momentum in [0, 1)")
            }
        }
        if kind == .nesterov && effectiveMomentum <= 0 {
            throw .invalidValue(flag: "--momentum", value: "\(effectiveMomentum)",
                                expected: "above 0 (Nesterov momentum needs a momentum)")
        }
        if let weightDecay, !(weightDecay.isFinite && weightDecay >= 0) {
            throw .invalidValue(flag: "--weight-decay", value: "\(weightDecay)", expected: "a finite weight decay of 0 or more")
        }
        if let clipNorm, !(clipNorm.isFinite && clipNorm > 0) {
            throw .invalidValue(flag: "--clip", value: "\(clipNorm)", expected: "a positive finite norm")
        }
        switch schedule {
        case .constant:
            break
        case .step(let every, let factor):
            guard factor.isFinite, factor > 0 else {
                throw .invalidValue(flag: "--schedule", value: "\(schedule)", expected: "a step decay with a positive finite factor")
            }
            guard Self.isValid(every) else {
                throw .invalidValue(flag: "--schedule", value: "\(schedule)", expected: "a step decay with a positive interval")
            }
        case .cosine(let floor):
            guard floor >= 0, floor <= 1 else {
                throw .invalidValue(flag: "--schedule", value: "\(schedule)", expected: "a cosine floor in [0, 1]")
            }
        }
        guard Self.isValid(warmup, allowingZero: true) else {
            throw .invalidValue(flag: "--warmup", value: "\(warmup)", expected: "a warm-up of 0 or more steps or epochs")
        }
    }

    /// Whether a duration is positive (or zero when allowed) and finite.
    static func isValid(_ duration: Duration, allowingZero: Bool = false) -> Bool {
        switch duration {
        case .steps(let n): return allowingZero ? n >= 0 : n > 0
        case .epochs(let e): return e.isFinite && (allowingZero ? e >= 0 : e > 0)
        }
    }

    /// The optimizer for a run.
    /// - Parameters:
    ///   - learningRate: the tool's base rate (`--lr`), before the scaling rule.
    ///   - batchSize: the batch size (for `--scale-lr`).
    ///   - stepsPerEpoch: steps in an epoch (for durations in epochs); at least 1.
    ///   - totalSteps: steps of the whole run (for `--schedule cosine`).
    /// - Throws: `OptimizerConfigurationError` naming the flag: `validate()`'s errors; a
    ///   cosine schedule whose run is not longer than its warm-up (`.mismatch(flag: "--warmup")`);
    ///   a step decay in epochs shorter than one step (`.mismatch(flag: "--schedule")`); a
    ///   learning rate that is not finite (`.invalidValue(flag: "--lr")`); `--scale-lr` with a
    ///   batch size below 1.
    public func make(learningRate: Float, batchSize: Int, stepsPerEpoch: Int,
                     totalSteps: Int) throws(OptimizerConfigurationError) -> any Optimizer {
        try validate()
        let perEpoch = max(stepsPerEpoch, 1)
        if scalesLearningRate && batchSize < 1 {
            throw .mismatch(flag: "--scale-lr", message: "the batch size is \(batchSize); the scaling rule needs at least 1")
        }
        let rate = self.learningRate(base: learningRate, batchSize: batchSize)
        guard rate.isFinite else {
            throw .invalidValue(flag: "--lr", value: "\(learningRate)", expected: "a finite learning rate")
        }
        let warmupSteps = warmup.steps(perEpoch: perEpoch)
        let decay: LearningRateSchedule.Decay
        switch schedule {
        case .constant:
            decay = .constant
        case .step(let every, let factor):
            let steps = every.steps(perEpoch: perEpoch)
            guard steps >= 1 else {
                throw .mismatch(flag: "--schedule", message: "the step decay's interval \(every) is \(steps) steps; it must be at least 1")
            }
            decay = .step(every: steps, factor: factor)
        case .cosine(let floor):
            guard totalSteps > warmupSteps else {
                throw .mismatch(flag: "--warmup",
                                message: "the warm-up of \(warmupSteps) steps leaves nothing of the \(totalSteps)-step run for the cosine schedule")
            }
            decay = .cosine(totalSteps: totalSteps, floor: floor)
        }
        let scheduleValue: LearningRateSchedule
        do {
            scheduleValue = try LearningRateSchedule(decay: decay, warmupSteps: warmupSteps)
        } catch {
            throw .mismatch(flag: "--schedule", message: "\(error)")
        }
        let clipping = clipNorm.flatMap { try? GradientClipping(maxNorm: $0) }  // validated above
        let mu = effectiveMomentum, lambda = effectiveWeightDecay
        // Every value was validated above: the initialisers cannot throw here.
        do {
            switch kind {
            case .sgd, .momentum, .nesterov:
                if kind == .sgd && mu == 0 && lambda == 0 && clipping == nil && scheduleValue == .constant {
                    return SGD(learningRate: rate)
                }
                return try SGD(learningRate: rate, momentum: mu, nesterov: kind == .nesterov, weightDecay: lambda,
                               schedule: scheduleValue, clipping: clipping)
            case .adam:
                return try Adam(learningRate: rate, weightDecay: lambda, schedule: scheduleValue, clipping: clipping)
            case .adamw:
                return try AdamW(learningRate: rate, weightDecay: lambda, schedule: scheduleValue, clipping: clipping)
            case .lars:
                return try LARS(learningRate: rate, momentum: mu, weightDecay: lambda, adaptsBiases: adaptsBiases,
                                schedule: scheduleValue, clipping: clipping)
            case .lamb:
                return try LAMB(learningRate: rate, weightDecay: lambda, adaptsBiases: adaptsBiases,
                                schedule: scheduleValue, clipping: clipping)
            }
        } catch {
            throw .mismatch(flag: "--optimizer", message: "\(error)")
        }
    }

    /// One line: `lars momentum 0.9 weight decay 0.0005, warm-up 5e, cosine, clip 1.0, scaled lr`.
    public var description: String {
        var parts = [kind.rawValue]
        if kind.defaultMomentum != nil && effectiveMomentum != 0 { parts.append("momentum \(effectiveMomentum)") }
        if effectiveWeightDecay != 0 { parts.append("weight decay \(effectiveWeightDecay)") }
        var text = parts.joined(separator: " ")
        if warmup != .steps(0) { text += ", warm-up \(warmup)" }
        text += ", \(schedule)"
        if let clipNorm { text += ", clip \(clipNorm)" }
        if scalesLearningRate { text += ", scaled lr" }
        if adaptsBiases { text += ", adapted biases" }
        return text
    }
}
