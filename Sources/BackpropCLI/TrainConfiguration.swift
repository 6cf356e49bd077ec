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

    /// The optimizer of a run of `totalSteps` steps over `samples` samples per epoch, made once:
    /// `--lr-schedule cosine` becomes the library's cosine schedule to 0 over the run
    /// (`Backprop.LearningRateSchedule.Decay.cosine`, the same rate at every step as
    /// `LearningRateSchedule.rate`), so no step rebuilds the optimizer. Without `optimizer`:
    /// plain `SGD` at `learningRate`. With it: `optimizer.make`, whose own `--schedule` (when
    /// given, `schedule` is `.constant`) or else the `--lr-schedule` cosine follows its `--warmup`.
    /// - Throws: `CLIError` naming the optimizer flag whose value does not fit the run.
    public func makeOptimizer(totalSteps: Int, samples: Int) throws(CLIError) -> any Optimizer {
        let annealed = schedule == .cosine && totalSteps > 0
        guard var optimizer else {
            guard annealed else { return SGD(learningRate: learningRate) }
            do {
                let cosine = try Backprop.LearningRateSchedule(decay: .cosine(totalSteps: totalSteps, floor: 0))
                return try SGD(learningRate: learningRate, momentum: 0, schedule: cosine)
            } catch {
                throw .mismatch(flag: "--lr", message: "\(error)")
            }
        }
        if annealed && optimizer.schedule == .constant { optimizer.schedule = .cosine(floor: 0) }
        do {
            return try optimizer.make(learningRate: learningRate, batchSize: batchSize,
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
