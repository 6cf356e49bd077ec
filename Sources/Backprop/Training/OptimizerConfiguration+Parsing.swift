extension OptimizerConfiguration {
    /// One command-line flag of the configuration.
    public struct Flag: Sendable, Hashable {
        /// `--optimizer`, …
        public let name: String
        /// The placeholder of its value in help text, or `nil` for a flag without a value.
        public let valueName: String?
        /// One line of help.
        public let help: String
    }

    /// The flags, in the order help text lists them:
    /// - `--optimizer sgd|momentum|nesterov|adam|adamw|lars|lamb`
    /// - `--momentum M` (in `[0, 1)`; SGD, momentum, Nesterov and LARS only)
    /// - `--weight-decay L` (`≥ 0`; L2 for SGD and Adam, decoupled for AdamW, LARS's `β`, LAMB's `λ`)
    /// - `--schedule constant|step:K:GAMMA|cosine[:FLOOR]` (`K` a duration, `GAMMA > 0`, `FLOOR` in `[0, 1]`)
    /// - `--warmup N` (a duration: steps `500`, or epochs `5e` / `2.5epochs`)
    /// - `--clip NORM` (`> 0`: clip the global gradient norm)
    /// - `--scale-lr` (no value: the linear scaling rule `lr·batch/256`)
    /// - `--adapt-biases` (no value: LARS and LAMB also adapt and decay the biases)
    public static let flags: [Flag] = [
        Flag(name: "--optimizer", valueName: "sgd|momentum|nesterov|adam|adamw|lars|lamb",
             help: "the update rule (default sgd)"),
        Flag(name: "--momentum", valueName: "M",
             help: "momentum in [0, 1) for sgd, momentum, nesterov, lars (default 0 for sgd, else 0.9)"),
        Flag(name: "--weight-decay", valueName: "L",
             help: "weight decay: L2 for sgd/adam, decoupled for adamw (default 0.01), lars 0.0005, lamb 0.01"),
        Flag(name: "--schedule", valueName: "constant|step:K:GAMMA|cosine[:FLOOR]",
             help: "learning-rate decay after the warm-up: ×GAMMA every K steps (or Ke epochs), cosine to FLOOR·lr"),
        Flag(name: "--warmup", valueName: "STEPS|EPOCHSe",
             help: "linear warm-up from lr/N to lr over N steps (500) or epochs (5e)"),
        Flag(name: "--clip", valueName: "NORM", help: "clip the global gradient norm at NORM"),
        Flag(name: "--scale-lr", valueName: nil, help: "linear scaling rule: lr × batch size / 256"),
        Flag(name: "--adapt-biases", valueName: nil,
             help: "lars, lamb: give biases the trust ratio and weight decay too (default: plain step, no decay)"),
    ]

    /// Whether `name` is one of `flags`' names; `nil` when it is not, else whether it takes a
    /// value (for a tool's argument loop).
    public static func takesValue(_ name: String) -> Bool? {
        flags.first { $0.name == name }.map { $0.valueName != nil }
    }

    /// Help text for the flags: one line each, `  --flag VALUE  help`.
    public static var helpText: String {
        flags.map { flag in
            let head = flag.valueName.map { "\(flag.name) \($0)" } ?? flag.name
            return "  \(head)\n      \(flag.help)"
        }.joined(separator: "\n")
    }

    /// Records one flag (`value` is `nil` for `--scale-lr`). Later flags replace earlier ones;
    /// the combination is checked by `validate()` or `make`.
    /// - Throws: `.unknownFlag`, `.missingValue`, `.unexpectedValue`, or `.invalidValue`
    ///   naming the flag and what its value must be.
    public mutating func apply(flag: String, value: String?) throws(OptimizerConfigurationError) {
        guard let takesValue = Self.takesValue(flag) else { throw .unknownFlag(flag) }
        if !takesValue {
            if let value { throw .unexpectedValue(flag: flag, value: value) }
            if flag == "--scale-lr" { scalesLearningRate = true } else { adaptsBiases = true }
            return
        }
        guard let value, !value.isEmpty else { throw .missingValue(flag: flag) }
        switch flag {
        case "--optimizer":
            guard let kind = Kind(rawValue: value.lowercased()) else {
                throw .invalidValue(flag: flag, value: value,
                                    expected: "one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.kind = kind
        case "--momentum":
            guard let m = Float(value), m >= 0, m < 1 else {
                throw .invalidValue(flag: flag, value: value, expected: "a momentum in [0, 1)")
            }
            momentum = m
        case "--weight-decay":
            guard let l = Float(value), l.isFinite, l >= 0 else {
                throw .invalidValue(flag: flag, value: value, expected: "a finite weight decay of 0 or more")
            }
            weightDecay = l
        case "--schedule":
            schedule = try Self.parseSchedule(value, flag: flag)
        case "--warmup":
            guard let duration = Self.parseDuration(value), Self.isValid(duration, allowingZero: true) else {
                throw .invalidValue(flag: flag, value: value,
                                    expected: "a number of steps (500) or epochs (5e, 2.5epochs), 0 or more")
            }
            warmup = duration
        case "--clip":
            guard let norm = Float(value), norm.isFinite, norm > 0 else {
                throw .invalidValue(flag: flag, value: value, expected: "a positive finite norm")
            }
            clipNorm = norm
        default:
            throw .unknownFlag(flag)
        }
    }

    /// A configuration from arguments that are all its own flags, each value as the next
    /// argument or after `=` (`--optimizer lars`, `--clip=1`).
    /// - Throws: `OptimizerConfigurationError` for an unknown flag, a missing or bad value, or
    ///   flags that conflict (`validate()`).
    public init(arguments: [String]) throws(OptimizerConfigurationError) {
        self.init()
        var index = 0
        while index < arguments.count {
            var flag = arguments[index]
            var value: String?
            index += 1
            if let equals = flag.firstIndex(of: "=") {
                value = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            }
            guard let takesValue = Self.takesValue(flag) else { throw .unknownFlag(flag) }
            if takesValue && value == nil {
                guard index < arguments.count, !arguments[index].hasPrefix("--") else { throw .missingValue(flag: flag) }
                value = arguments[index]
                index += 1
            }
            try apply(flag: flag, value: value)
        }
        try validate()
    }

    /// The flags that reproduce this configuration (only those that differ from the defaults),
    /// e.g. `["--optimizer", "lars", "--warmup", "5e", "--scale-lr"]`.
    public var arguments: [String] {
        var result: [String] = []
        if kind != .sgd { result += ["--optimizer", kind.rawValue] }
        if let momentum { result += ["--momentum", "\(momentum)"] }
        if let weightDecay { result += ["--weight-decay", "\(weightDecay)"] }
        if schedule != .constant { result += ["--schedule", "\(schedule)"] }
        if warmup != .steps(0) { result += ["--warmup", "\(warmup)"] }
        if let clipNorm { result += ["--clip", "\(clipNorm)"] }
        if scalesLearningRate { result.append("--scale-lr") }
        if adaptsBiases { result.append("--adapt-biases") }
        return result
    }

    /// `500`, `500steps`, `5e`, `5epochs`, `2.5epoch` (no sign check).
    static func parseDuration(_ text: String) -> Duration? {
        let lower = text.lowercased()
        for suffix in ["epochs", "epoch", "e"] where lower.hasSuffix(suffix) {
            guard let e = Double(lower.dropLast(suffix.count)), e.isFinite else { return nil }
            return .epochs(e)
        }
        var digits = Substring(lower)
        for suffix in ["steps", "step", "s"] where lower.hasSuffix(suffix) {
            digits = lower.dropLast(suffix.count)
            break
        }
        return Int(digits).map { .steps($0) }
    }

    /// `constant`, `step:K:GAMMA`, `cosine`, `cosine:FLOOR`.
    static func parseSchedule(_ text: String, flag: String) throws(OptimizerConfigurationError) -> Schedule {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "constant" where parts.count == 1:
            return .constant
        case "step":
            guard parts.count == 3, let every = parseDuration(parts[1]), isValid(every) else {
                throw .invalidValue(flag: flag, value: text,
                                    expected: "step:K:GAMMA with K a positive number of steps (30) or epochs (10e)")
            }
            guard let gamma = Float(parts[2]), gamma.isFinite, gamma > 0 else {
                throw .invalidValue(flag: flag, value: text, expected: "step:K:GAMMA with GAMMA a positive factor")
            }
            return .step(every: every, factor: gamma)
        case "cosine" where parts.count <= 2:
            guard parts.count == 2 else { return .cosine(floor: 0) }
            guard let floor = Float(parts[1]), floor >= 0, floor <= 1 else {
                throw .invalidValue(flag: flag, value: text, expected: "cosine:FLOOR with FLOOR a fraction in [0, 1]")
            }
            return .cosine(floor: floor)
        default:
            throw .invalidValue(flag: flag, value: text, expected: "constant, step:K:GAMMA, cosine or cosine:FLOOR")
        }
    }
}
