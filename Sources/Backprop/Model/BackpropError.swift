/// Errors of the model and trainer. Each message names the value or shape at fault.
public enum BackpropError: Error, Equatable, CustomStringConvertible {
    /// Two shapes that must agree do not; the message names both.
    case shapeMismatch(String)
    /// `labels[sample]` is `label`, outside `0..<classes`.
    case labelOutOfRange(label: Int, sample: Int, classes: Int)
    /// A batch with no samples.
    case emptyBatch
    /// A thread count below 1.
    case invalidThreadCount(Int)
    /// The loss (or a gradient) became NaN or infinite; `step` is the trainer's step count
    /// when known (`nil` from `MLP.lossAndGradients`). The weights were not updated.
    case nonFiniteLoss(step: Int?)
    /// A model or trainer configuration that cannot work; the message says why.
    case invalidConfiguration(String)

    /// A one-line, human-readable message naming the value or shape at fault.
    public var description: String {
        switch self {
        case .shapeMismatch(let message): return "shape mismatch: \(message)"
        case .labelOutOfRange(let label, let sample, let classes):
            return "label \(label) of sample \(sample) is out of range 0..<\(classes)"
        case .emptyBatch: return "empty batch: a batch needs at least one sample"
        case .invalidThreadCount(let n): return "invalid thread count \(n): it must be at least 1"
        case .nonFiniteLoss(let step):
            return "the loss is not finite (NaN or infinity)" + (step.map { " at step \($0)" } ?? "")
                + "; the weights were not updated"
        case .invalidConfiguration(let message): return "invalid configuration: \(message)"
        }
    }
}
