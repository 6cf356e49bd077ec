import Foundation

/// Trains an `MLP` with data-parallel backpropagation.
///
/// ```swift
/// let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy,
///                           optimizer: SGD(learningRate: 0.1), threads: 2)
/// let loss = try trainer.step(input: x, labels: labels)  // mean loss before the update
/// let trained = trainer.model
/// ```
///
/// Each step cuts the batch into shards of consecutive rows, one per worker; each worker runs
/// the forward and backward pass of its shard on its own preallocated buffers; the batch sums
/// of the gradients are formed either without any reduction, by output rows (bitwise the same
/// for every thread count), or by a pairwise tree over per-worker gradients; then one parallel
/// update applies the optimizer (see `TrainerOptions` for the modes, shards and threads).
///
/// The weights live in the trainer's own 64-byte-aligned flat buffers while it trains; `model`
/// copies them out. A step allocates nothing once the buffers have grown to the largest batch
/// seen (the first step, or one with a larger batch, allocates). A `Trainer` is not thread-safe:
/// call it from one thread at a time.
///
/// Reproducibility: the same model, data, options and thread count give bitwise the same
/// weights run after run; with `.threadCountInvariant` (the default) also whatever the thread count.
public final class Trainer {
    /// The loss minimised.
    public let loss: Loss
    /// Workers and tasks per step (see `TrainerOptions`); at most this many threads, and never
    /// more than the machine's active cores, run at once.
    public let threads: Int
    /// The options the trainer was made with.
    public let options: TrainerOptions
    /// The model as given: its shapes and activations validate batches and shape snapshots.
    let structure: MLP
    let engine: TrainingEngine
    /// `model`, until the weights change.
    var cachedModel: MLP?

    /// A trainer for `model`.
    /// - Parameters:
    ///   - threads: shards and tasks per step, at least 1; defaults to the active cores.
    ///   - options: the summation mode and executor (defaults: `TrainerOptions()`).
    /// - Throws: `BackpropError.invalidThreadCount` when `threads < 1`.
    public init(model: MLP, loss: Loss, optimizer: any Optimizer,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                options: TrainerOptions = TrainerOptions()) throws {
        guard threads >= 1 else { throw BackpropError.invalidThreadCount(threads) }
        self.loss = loss
        self.threads = threads
        self.options = options
        structure = model
        engine = TrainingEngine(model: model, loss: loss, optimizer: optimizer, threads: threads,
                                cores: max(1, ProcessInfo.processInfo.activeProcessorCount), options: options)
        cachedModel = model
    }

    /// The optimizer. Replacing it keeps the per-parameter state when the new one has the same
    /// `stateCountPerParameter`, and resets it to zeros otherwise.
    public var optimizer: any Optimizer {
        get { engine.optimizer }
        set { engine.setOptimizer(newValue) }
    }

    /// Optimizer steps taken (failed steps do not count).
    public var stepCount: Int { engine.stepCount }

    /// How long the phases of the last step took (also of a step that failed).
    public var lastStepTimings: PhaseTimings { engine.timings }

    /// A snapshot of the model with the current weights.
    public var model: MLP {
        if let cachedModel { return cachedModel }
        let snapshot = engine.snapshot(of: structure)
        cachedModel = snapshot
        return snapshot
    }

    /// One step on a batch with class labels (`.softmaxCrossEntropy`).
    /// - Returns: the batch's mean loss before the update.
    /// - Throws: `BackpropError.emptyBatch`, `.shapeMismatch` (input columns or label count),
    ///   `.labelOutOfRange`, `.invalidConfiguration` (a loss that needs float targets, or an
    ///   output activation other than `.identity`), or `.nonFiniteLoss(step: stepCount)` when the
    ///   loss or a gradient is NaN or infinite. After any error the weights, the optimizer state
    ///   and `stepCount` are unchanged.
    public func step(input: Matrix, labels: [Int]) throws -> Float {
        try structure.validate(input: input, labels: labels, loss: loss)
        let meanLoss = try input.withUnsafeBufferPointer { x in
            try labels.withUnsafeBufferPointer { l in
                try engine.step(batchSize: input.rows, input: x.baseAddress!, targets: .labels(l.baseAddress!))
            }
        }
        cachedModel = nil
        return meanLoss
    }

    /// One step on a batch with float targets (`.meanSquaredError`).
    /// - Returns: the batch's mean loss before the update.
    /// - Throws: `BackpropError.emptyBatch`, `.shapeMismatch` (input columns, or targets not
    ///   `input.rows × outputSize`), `.invalidConfiguration` (a loss that needs labels), or
    ///   `.nonFiniteLoss(step: stepCount)`. After any error nothing has changed.
    public func step(input: Matrix, targets: Matrix) throws -> Float {
        try structure.validate(input: input, targets: targets, loss: loss)
        let meanLoss = try input.withUnsafeBufferPointer { x in
            try targets.withUnsafeBufferPointer { y in
                try engine.step(batchSize: input.rows, input: x.baseAddress!,
                                targets: .values(y.baseAddress!, leadingDimension: targets.columns))
            }
        }
        cachedModel = nil
        return meanLoss
    }
}
