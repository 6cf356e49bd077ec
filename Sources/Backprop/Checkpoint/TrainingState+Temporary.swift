// TEMPORARY (branch `data`): the Trainer's `TrainingState` is defined on branch `trainer` in
// Sources/Backprop/Training. This identical copy lets checkpoints build until that branch is
// merged; delete this file at the merge.

/// Everything a `Trainer` needs to resume training exactly where it stopped.
public struct TrainingState: Sendable {
    /// The model's parameters.
    public var model: MLP
    /// Optimizer steps taken so far.
    public var stepCount: Int
    /// The optimizer's state: one flat array per parameter tensor, in the order
    /// `layers[0].weight, layers[0].bias, layers[1].weight, …` (empty arrays for plain SGD).
    public var optimizerState: [[Float]]

    public init(model: MLP, stepCount: Int, optimizerState: [[Float]]) {
        self.model = model
        self.stepCount = stepCount
        self.optimizerState = optimizerState
    }
}
