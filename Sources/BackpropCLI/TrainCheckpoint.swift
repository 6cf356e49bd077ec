import Backprop

/// `mlp-train`'s checkpoint: a library `Checkpoint` (weights, architecture, loss, optimizer
/// state, step, completed epochs, shuffler state) plus the run's position within the epoch and
/// hyperparameters, as string metadata, so that `--resume` continues the run exactly.
///
/// Metadata written on top of `Checkpoint`'s own (`epoch` = completed epochs, `step`, `rng` =
/// the `EpochShuffler` state from which the order of epoch `epoch + 1` is drawn):
/// `sample_offset` (samples of epoch `epoch + 1` already trained on), `epochs`, `batch_size`,
/// `learning_rate`, `lr_schedule`, `seed`, `shuffle` (`true`/`false`), `train_samples`, `writer` (`mlp-train`),
/// and, when optimizer flags were given, `optimizer`: `OptimizerConfiguration.arguments` joined
/// by spaces (`--optimizer lamb --warmup 2`; empty for SGD given explicitly). Without it the
/// run used plain SGD.
struct TrainCheckpoint {
    var configuration: TrainConfiguration
    var position: TrainPosition
    var state: TrainingState
    /// Training samples per epoch (without the validation hold-out): a resumed run must see the same.
    var trainCount: Int

    /// A model loaded by `--init`, and its hidden activation when it has hidden layers that share one.
    struct Weights {
        var model: MLP
        var hiddenActivation: Activation?
    }

    /// Writes the checkpoint to `path` atomically.
    /// - Throws: `CLIError.unwritableFile` naming `flag` and `path` when the write fails.
    func write(to path: String, flag: String) throws(CLIError) {
        var metadata = [
            "writer": "mlp-train",
            "sample_offset": String(position.sampleOffset),
            "epochs": String(configuration.epochs),
            "batch_size": String(configuration.batchSize),
            "learning_rate": "\(configuration.learningRate)",
            "lr_schedule": configuration.schedule.rawValue,
            "seed": String(configuration.seed),
            "shuffle": configuration.shuffle ? "true" : "false",
            "train_samples": String(trainCount),
        ]
        if let optimizer = configuration.optimizer { metadata["optimizer"] = optimizer.arguments.joined(separator: " ") }
        let checkpoint = Checkpoint(model: state.model, loss: configuration.loss, training: state,
                                    epoch: position.epoch, rngState: position.shuffleState, metadata: metadata)
        do {
            try checkpoint.save(to: path)
        } catch let error as DataError {
            throw .unwritableFile(path: path, flag: flag, message: error.fault)
        } catch {
            throw .unwritableFile(path: path, flag: flag, message: "\(error)")
        }
    }

    /// Reads a checkpoint `mlp-train --save` wrote.
    /// - Throws: `CLIError.unreadableFile` naming `path` for a missing, malformed or foreign file.
    static func read(_ path: String) throws(CLIError) -> TrainCheckpoint {
        let checkpoint = try load(path)
        func fault(_ message: String) -> CLIError { .unreadableFile(path: path, message: message) }
        guard checkpoint.metadata["writer"] == "mlp-train", let training = checkpoint.training else {
            throw fault("not a checkpoint of mlp-train --save (no training state); use --init to start from its weights")
        }
        func integer(_ key: String) throws(CLIError) -> Int {
            guard let text = checkpoint.metadata[key], let value = Int(text), value >= 0 else {
                throw fault("metadata \(key) is missing or not a non-negative integer")
            }
            return value
        }
        let sampleOffset = try integer("sample_offset")
        let epochs = try integer("epochs")
        let batchSize = try integer("batch_size")
        let trainCount = try integer("train_samples")
        guard let lrText = checkpoint.metadata["learning_rate"], let learningRate = Float(lrText),
              learningRate.isFinite, learningRate > 0 else {
            throw fault("metadata learning_rate is missing or not a positive number")
        }
        guard let scheduleText = checkpoint.metadata["lr_schedule"], let schedule = LearningRateSchedule(rawValue: scheduleText) else {
            throw fault("metadata lr_schedule is missing or not cosine/constant")
        }
        guard let seedText = checkpoint.metadata["seed"], let seed = UInt64(seedText) else {
            throw fault("metadata seed is missing or not an unsigned 64-bit integer")
        }
        guard let shuffleText = checkpoint.metadata["shuffle"], shuffleText == "true" || shuffleText == "false" else {
            throw fault("metadata shuffle is missing or not true/false")
        }
        var optimizer: OptimizerConfiguration?
        if let text = checkpoint.metadata["optimizer"] {
            do {
                optimizer = try OptimizerConfiguration(arguments: text.split(separator: " ").map(String.init))
            } catch {
                throw fault("metadata optimizer '\(text)' is malformed: \(error)")
            }
        }
        guard let rng = checkpoint.rngState else { throw fault("metadata rng (the shuffler state) is missing") }
        guard batchSize > 0, epochs > 0, sampleOffset < max(trainCount, 1) else {
            throw fault("metadata batch_size \(batchSize), epochs \(epochs), sample_offset \(sampleOffset) and "
                + "train_samples \(trainCount) are inconsistent")
        }
        let model = checkpoint.model
        let configuration = TrainConfiguration(
            layers: model.sizes, activation: hiddenActivation(of: model) ?? .relu, loss: checkpoint.loss,
            epochs: epochs, batchSize: batchSize, learningRate: learningRate, schedule: schedule, seed: seed, shuffle: shuffleText == "true",
            optimizer: optimizer)
        return TrainCheckpoint(configuration: configuration,
                               position: TrainPosition(epoch: checkpoint.epoch, sampleOffset: sampleOffset, shuffleState: rng),
                               state: training, trainCount: trainCount)
    }

    /// Reads the weights (and activations) of any safetensors file `Checkpoint.load` accepts.
    /// - Throws: `CLIError.unreadableFile` naming `path`.
    static func readModel(_ path: String) throws(CLIError) -> Weights {
        let model = try load(path).model
        return Weights(model: model, hiddenActivation: hiddenActivation(of: model))
    }

    /// The activation all hidden layers share; `nil` without hidden layers or when they differ.
    static func hiddenActivation(of model: MLP) -> Activation? {
        let hidden = model.activations.dropLast()
        guard let first = hidden.first, hidden.allSatisfy({ $0 == first }) else { return nil }
        return first
    }

    private static func load(_ path: String) throws(CLIError) -> Checkpoint {
        do {
            return try Checkpoint.load(path)
        } catch let error as DataError {
            throw .unreadableFile(path: error.file, message: error.fault)
        } catch {
            throw .unreadableFile(path: path, message: "\(error)")
        }
    }
}
