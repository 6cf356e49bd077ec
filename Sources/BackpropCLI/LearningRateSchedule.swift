import Foundation

/// How `mlp-train` sets the SGD learning rate `η_t` of step `t` (0-based: the steps taken
/// before it) from the base rate `η` (`--lr`) and the run's total step count `T`
/// (`epochs × ⌈samples / batch size⌉`).
///
/// The rate is a pure function of `t`, so a resumed run continues the same sequence.
public enum LearningRateSchedule: String, Sendable, Hashable, CaseIterable {
    /// `η_t = η`.
    case constant
    /// Cosine annealing to zero over the run (PyTorch's `CosineAnnealingLR` with
    /// `T_max = T`, `eta_min = 0`, stepped every batch): `η_t = η · (1 + cos(π t / T)) / 2`.
    /// Steps beyond `T` (possible only after `--resume` with fewer `--epochs`) use `η_T = 0`.
    case cosine

    /// `η_t` for step `t` of `totalSteps`.
    public func rate(base: Float, step: Int, totalSteps: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .cosine:
            guard totalSteps > 0 else { return base }
            let progress = min(Double(step) / Double(totalSteps), 1)
            return Float(Double(base) * 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}
