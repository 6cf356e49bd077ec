import Backprop

/// The hyperparameters of a training run once flags, checkpoint and defaults are combined;
/// all of them are saved in a checkpoint, so `--resume` continues with the same ones.
public struct TrainConfiguration: Sendable, Equatable {
    /// Layer widths, inputs first.
    public var layers: [Int]
    /// Activation of the hidden layers; the output layer is `.identity`.
    public var activation: Activation
    public var loss: Loss
    /// Epochs of the whole run (a resumed run counts the epochs before it).
    public var epochs: Int
    public var batchSize: Int
    /// The base SGD learning rate `η`.
    public var learningRate: Float
    public var schedule: LearningRateSchedule
    public var seed: UInt64
    public var shuffle: Bool
    /// The optimizer flags; `nil` for plain SGD at `learningRate` (`mlp-train`'s default).
    /// With a library `--schedule` in it, `schedule` is `.constant`.
    public var optimizer: OptimizerConfiguration?

    public init(layers: [Int], activation: Activation, loss: Loss, epochs: Int, batchSize: Int,
                learningRate: Float, schedule: LearningRateSchedule, seed: UInt64, shuffle: Bool,
                optimizer: OptimizerConfiguration? = nil) {
        self.optimizer = optimizer
        self.layers = layers
        self.activation = activation
        self.loss = loss
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.schedule = schedule
        self.seed = seed
        self.shuffle = shuffle
    }

    /// Optimizer steps in one epoch of `samples` samples: `⌈samples / batchSize⌉` (the last
    /// batch may be partial).
    public func stepsPerEpoch(samples: Int) -> Int {
        let batch = min(batchSize, max(samples, 1))
        return (samples + batch - 1) / batch
    }

    /// The optimizer of step `step + 1` (0-based `step` = steps already taken) of a run of
    /// `totalSteps` steps over `samples` samples per epoch: plain `SGD` at the `schedule`'s rate
    /// without `optimizer`, else `optimizer.make` with the `schedule`'s rate as its base rate.
    /// - Throws: `CLIError` naming the optimizer flag whose value does not fit the run.
    public func makeOptimizer(step: Int, totalSteps: Int, samples: Int) throws(CLIError) -> any Optimizer {
        let rate = schedule.rate(base: learningRate, step: step, totalSteps: totalSteps)
        guard let optimizer else { return SGD(learningRate: rate) }
        do {
            return try optimizer.make(learningRate: rate, batchSize: batchSize,
                                      stepsPerEpoch: stepsPerEpoch(samples: samples), totalSteps: totalSteps)
        } catch {
            throw CLIError(error)
        }
    }

    /// One activation per layer: `activation` for the hidden layers, `.identity` for the output.
    public var activations: [Activation] {
        Array(repeating: activation, count: layers.count - 2) + [.identity]
    }
}

/// Where a run stands: the position a checkpoint records so that a resumed run continues
/// exactly where the saved one stopped.
public struct TrainPosition: Sendable, Equatable {
    /// Epochs completed.
    public var epoch: Int
    /// Samples of epoch `epoch + 1` already trained on (0 at an epoch boundary).
    public var sampleOffset: Int
    /// The `EpochShuffler` state from which epoch `epoch + 1`'s order is drawn.
    public var shuffleState: UInt64

    public init(epoch: Int, sampleOffset: Int, shuffleState: UInt64) {
        self.epoch = epoch
        self.sampleOffset = sampleOffset
        self.shuffleState = shuffleState
    }
}
