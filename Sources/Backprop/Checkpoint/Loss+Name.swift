extension Loss {
    /// The names `init(name:)` accepts.
    public static let nameSyntax = "cross_entropy (or softmax_cross_entropy), mse"

    /// The loss named `name`, as in checkpoints and command-line flags: `cross_entropy` (alias
    /// `softmax_cross_entropy`) or `mse`; `nil` for anything else.
    public init?(name: String) {
        switch name {
        case "cross_entropy", "softmax_cross_entropy": self = .softmaxCrossEntropy
        case "mse": self = .meanSquaredError
        default: return nil
        }
    }

    /// `cross_entropy` or `mse`.
    public var name: String {
        switch self {
        case .softmaxCrossEntropy: return "cross_entropy"
        case .meanSquaredError: return "mse"
        }
    }
}
