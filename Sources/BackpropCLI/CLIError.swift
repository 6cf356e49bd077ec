import Backprop

/// An error of the command-line tools: one line that names the flag, file or step at fault,
/// and the process exit status it maps to.
///
/// Usage errors (a flag the tool does not know, a missing or malformed value, flags that
/// contradict each other or the data) exit with status 2; data and runtime errors (a file that
/// cannot be read or written, a malformed data file, a loss that became NaN) exit with status 1.
public enum CLIError: Error, Equatable, CustomStringConvertible {
    /// An argument that is not a known flag.
    case unknownFlag(String)
    /// A flag that needs a value was last, or followed by another flag.
    case missingValue(flag: String)
    /// A flag's value does not parse or is out of range; `expected` says what it must be.
    case invalidValue(flag: String, value: String, expected: String)
    /// A flag that takes no value was given one (`--json=yes`).
    case unexpectedValue(flag: String, value: String)
    /// A flag given more than once.
    case repeatedFlag(String)
    /// Two flags that cannot be used together.
    case conflictingFlags(String, String)
    /// A flag that needs another one: `flag` is meaningless or incomplete without `requires`.
    case missingFlag(flag: String, requires: String)
    /// The flags do not fit the data or the checkpoint (a usage error); the message says how.
    case mismatch(flag: String, message: String)
    /// A data, weights or checkpoint file that cannot be read or is malformed.
    case unreadableFile(path: String, message: String)
    /// A file that cannot be written (checked before training starts, and on every save).
    case unwritableFile(path: String, flag: String, message: String)
    /// The loss or the weights became NaN or infinite at optimizer step `step` (1-based);
    /// `checkpoint` is the last good checkpoint left in place, if any.
    case nonFiniteLoss(step: Int, checkpoint: String?)
    /// Any other failure while training.
    case runtime(String)

    /// The process exit status: 2 for usage errors, 1 for data and runtime errors.
    public var exitStatus: Int32 {
        switch self {
        case .unknownFlag, .missingValue, .invalidValue, .unexpectedValue, .repeatedFlag, .conflictingFlags, .missingFlag, .mismatch:
            return 2
        case .unreadableFile, .unwritableFile, .nonFiniteLoss, .runtime:
            return 1
        }
    }

    /// Whether this is a usage error (exit status 2), after which the tool suggests `--help`.
    public var isUsageError: Bool { exitStatus == 2 }

    /// The one-line message, without the tool's name.
    public var description: String {
        switch self {
        case .unknownFlag(let flag):
            return "unknown option '\(flag)'"
        case .missingValue(let flag):
            return "option \(flag) needs a value"
        case .invalidValue(let flag, let value, let expected):
            return "option \(flag): '\(value)' is not \(expected)"
        case .unexpectedValue(let flag, let value):
            return "option \(flag) takes no value, got '\(value)'"
        case .repeatedFlag(let flag):
            return "option \(flag) is given more than once"
        case .conflictingFlags(let a, let b):
            return "options \(a) and \(b) cannot be used together"
        case .missingFlag(let flag, let requires):
            return "option \(flag) needs \(requires)"
        case .mismatch(let flag, let message):
            return "option \(flag): \(message)"
        case .unreadableFile(let path, let message):
            return "\(path): \(message)"
        case .unwritableFile(let path, let flag, let message):
            return "\(flag) \(path): cannot write: \(message)"
        case .nonFiniteLoss(let step, let checkpoint):
            return "the loss became NaN or infinite at step \(step); training stopped"
                + (checkpoint.map { ", the last good checkpoint is \($0)" } ?? ", no checkpoint was written")
                + " (try a smaller --lr)"
        case .runtime(let message):
            return message
        }
    }
}

extension CLIError {
    /// The usage error (exit status 2) of an optimizer flag, naming the same flag.
    public init(_ error: OptimizerConfigurationError) {
        switch error {
        case .unknownFlag(let flag): self = .unknownFlag(flag)
        case .missingValue(let flag): self = .missingValue(flag: flag)
        case .unexpectedValue(let flag, let value): self = .unexpectedValue(flag: flag, value: value)
        case .invalidValue(let flag, let value, let expected): self = .invalidValue(flag: flag, value: value, expected: expected)
        case .conflictingFlags(let a, let b): self = .conflictingFlags(a, b)
        case .mismatch(let flag, let message): self = .mismatch(flag: flag, message: message)
        }
    }
}
