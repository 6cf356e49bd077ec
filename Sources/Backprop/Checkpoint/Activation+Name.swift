extension Activation {
    /// The names `init(name:)` accepts: `identity, relu, leaky_relu[:slope], tanh, sigmoid, gelu`.
    public static let nameSyntax = "identity, relu, leaky_relu[:slope], tanh, sigmoid, gelu"

    /// The activation named `name`, as in checkpoints and command-line flags: `identity`,
    /// `relu`, `leaky_relu` (slope 0.01), `leaky_relu:SLOPE` (a finite decimal), `tanh`,
    /// `sigmoid`, `gelu`. Case-sensitive, no spaces; `nil` for anything else.
    public init?(name: String) {
        switch name {
        case "identity": self = .identity
        case "relu": self = .relu
        case "leaky_relu": self = .leakyReLU
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "gelu": self = .gelu
        default:
            let prefix = "leaky_relu:"
            guard name.hasPrefix(prefix), let slope = Float(name.dropFirst(prefix.count)), slope.isFinite else {
                return nil
            }
            self = .leakyReLU(negativeSlope: slope)
        }
    }

    /// The name `init(name:)` reads back to the same activation; leaky ReLU always carries its
    /// slope in the shortest form that reads back exactly (`leaky_relu:0.01`).
    public var name: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .leakyReLU(let slope): return "leaky_relu:\(slope)"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .gelu: return "gelu"
        }
    }
}
