/// An error in the optimizer flags of a command line; each case names the flag at fault.
///
/// The cases mirror the command-line tools' own usage errors, so a tool maps them one to one.
public enum OptimizerConfigurationError: Error, Equatable, CustomStringConvertible {
    /// Not one of `OptimizerConfiguration.flags`.
    case unknownFlag(String)
    /// A flag that needs a value got none.
    case missingValue(flag: String)
    /// A flag that takes no value got one (`--scale-lr=yes`).
    case unexpectedValue(flag: String, value: String)
    /// A value that does not parse or is out of range; `expected` says what it must be.
    case invalidValue(flag: String, value: String, expected: String)
    /// Two flags that cannot be used together (`--momentum` with `--optimizer adam`).
    case conflictingFlags(String, String)
    /// A flag whose value does not fit the run (a cosine schedule shorter than its warm-up);
    /// the message says how.
    case mismatch(flag: String, message: String)

    /// The flag at fault (the first, for a conflict).
    public var flag: String {
        switch self {
        case .unknownFlag(let flag), .missingValue(let flag), .unexpectedValue(let flag, _),
             .invalidValue(let flag, _, _), .conflictingFlags(let flag, _), .mismatch(let flag, _):
            return flag
        }
    }

    public var description: String {
        switch self {
        case .unknownFlag(let flag): return "unknown option '\(flag)'"
        case .missingValue(let flag): return "option \(flag) needs a value"
        case .unexpectedValue(let flag, let value): return "option \(flag) takes no value, got '\(value)'"
        case .invalidValue(let flag, let value, let expected): return "option \(flag): '\(value)' is not \(expected)"
        case .conflictingFlags(let a, let b): return "options \(a) and \(b) cannot be used together"
        case .mismatch(let flag, let message): return "option \(flag): \(message)"
        }
    }
}
