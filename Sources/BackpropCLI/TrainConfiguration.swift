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
    public var learningRate: Float
    public var seed: UInt64
    public var shuffle: Bool

    public init(layers: [Int], activation: Activation, loss: Loss, epochs: Int, batchSize: Int,
                learningRate: Float, seed: UInt64, shuffle: Bool) {
        self.layers = layers
        self.activation = activation
        self.loss = loss
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.shuffle = shuffle
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
