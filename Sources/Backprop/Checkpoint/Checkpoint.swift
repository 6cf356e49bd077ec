/// A trained model and, optionally, everything needed to resume its training, stored as a
/// safetensors file that Python's `safetensors` package reads as it is.
///
/// File layout (all tensors `F32`, little-endian):
/// - `layers.{i}.weight`, shape `[out, in]` (`W` of layer `i`), and `layers.{i}.bias`, shape `[out]`;
/// - `optimizer.{k}`, shape `[n]`: `training.optimizerState[k]`, flat (only with `training`);
/// - `__metadata__`, all strings: `format` = `backprop-mlp`, `format_version` = `1`,
///   `sizes` (`784,256,10`), `activations` (`relu,identity`, names as `Activation.name`),
///   `loss` (`cross_entropy` or `mse`), `epoch`, and when present `step` and
///   `optimizer_tensors` (with `training`) and `rng` (the shuffler's `SplitMix64.state`,
///   decimal), plus the user's `metadata` entries.
public struct Checkpoint: Sendable {
    /// The model.
    public var model: MLP
    /// The loss it is trained with.
    public var loss: Loss
    /// The trainer's state, to resume training; `nil` for a weights-only checkpoint.
    /// `save` stores `model` (not `training.model`) with the optimizer state; `load` sets
    /// `training.model` to the loaded `model`.
    public var training: TrainingState?
    /// Completed epochs.
    public var epoch: Int
    /// `SplitMix64.state` of the data shuffler (`EpochShuffler.state`), to resume the same
    /// sample order; `nil` when not recorded.
    public var rngState: UInt64?
    /// Extra string metadata (a key may not be one of `reservedMetadataKeys`).
    public var metadata: [String: String]

    /// The `__metadata__` keys a checkpoint writes itself.
    public static let reservedMetadataKeys: Set<String> = [
        "format", "format_version", "sizes", "activations", "loss", "epoch", "step", "optimizer_tensors", "rng",
    ]
    /// The value of the `format` metadata entry.
    public static let formatName = "backprop-mlp"
    /// The value of the `format_version` metadata entry this version writes and reads.
    public static let formatVersion = 1

    public init(model: MLP, loss: Loss, training: TrainingState? = nil, epoch: Int = 0, rngState: UInt64? = nil,
                metadata: [String: String] = [:]) {
        self.model = model
        self.loss = loss
        self.training = training
        self.epoch = epoch
        self.rngState = rngState
        self.metadata = metadata
    }

    /// Writes the checkpoint to `path` atomically (a crash leaves the old file or the new one,
    /// never a mix). Weights are stored bitwise.
    /// - Throws: `DataError` naming `path` when a `metadata` key is reserved, `epoch` or the
    ///   step count is negative, or the write fails.
    public func save(to path: String) throws {
        func fault(_ message: String) -> DataError { DataError(file: path, fault: message) }
        if let key = metadata.keys.sorted().first(where: { Self.reservedMetadataKeys.contains($0) }) {
            throw fault("metadata key '\(key)' is reserved for the checkpoint itself")
        }
        guard epoch >= 0 else { throw fault("the epoch must be non-negative, got \(epoch)") }
        var tensors: [String: Safetensors.Tensor] = [:]
        for (i, layer) in model.layers.enumerated() {
            tensors["layers.\(i).weight"] = .init(shape: [layer.outputSize, layer.inputSize], values: layer.weight.values)
            tensors["layers.\(i).bias"] = .init(shape: [layer.outputSize], values: layer.bias)
        }
        var header = metadata
        header["format"] = Self.formatName
        header["format_version"] = String(Self.formatVersion)
        header["sizes"] = model.sizes.map(String.init).joined(separator: ",")
        header["activations"] = model.activations.map(\.name).joined(separator: ",")
        header["loss"] = loss.name
        header["epoch"] = String(epoch)
        if let training {
            guard training.stepCount >= 0 else { throw fault("the step count must be non-negative, got \(training.stepCount)") }
            header["step"] = String(training.stepCount)
            header["optimizer_tensors"] = String(training.optimizerState.count)
            for (k, state) in training.optimizerState.enumerated() {
                tensors["optimizer.\(k)"] = .init(shape: [state.count], values: state)
            }
        }
        if let rngState { header["rng"] = String(rngState) }
        try Safetensors.write(tensors, metadata: header, to: path)
    }
}
