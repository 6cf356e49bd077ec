import Backprop

/// The names the command line uses for activations and losses (PyTorch's spelling).
enum CLINames {
    /// Activation names `--activation` accepts.
    static let activationNames = ["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "identity"]
    /// Loss names `--loss` accepts.
    static let lossNames = ["cross_entropy", "mse"]

    /// The activation called `name`, or `nil`.
    static func activation(_ name: String) -> Activation? {
        switch name.lowercased() {
        case "relu": return .relu
        case "leaky_relu", "leakyrelu": return .leakyReLU
        case "tanh": return .tanh
        case "sigmoid": return .sigmoid
        case "gelu": return .gelu
        case "identity", "linear": return .identity
        default: return nil
        }
    }

    /// The loss called `name`, or `nil`.
    static func loss(_ name: String) -> Loss? {
        switch name.lowercased() {
        case "cross_entropy", "crossentropy", "softmax_cross_entropy": return .softmaxCrossEntropy
        case "mse", "mean_squared_error": return .meanSquaredError
        default: return nil
        }
    }
}

extension CLINames {
    /// The command-line name of `activation` (`leaky_relu` for any slope).
    static func name(of activation: Activation) -> String {
        switch activation {
        case .relu: return "relu"
        case .leakyReLU: return "leaky_relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .gelu: return "gelu"
        case .identity: return "identity"
        }
    }

    /// The command-line name of `loss`.
    static func name(of loss: Loss) -> String {
        switch loss {
        case .softmaxCrossEntropy: return "cross_entropy"
        case .meanSquaredError: return "mse"
        }
    }
}
