extension Checkpoint {
    /// Reads a checkpoint written by `save`, or a weights-only safetensors file written by
    /// another tool (such as Python's `safetensors.numpy.save_file`) with the same tensor names.
    ///
    /// Any dtype the safetensors reader accepts is converted to `Float`. When metadata is
    /// missing: the sizes come from the tensor shapes; the activations default to `relu` for
    /// hidden layers and `identity` for the output layer; the loss to `cross_entropy`; the epoch
    /// to 0; `rngState` to `nil`. `training` is present when the file holds a `step` entry or
    /// `optimizer.{k}` tensors (the step defaulting to 0). Metadata keys other than
    /// `reservedMetadataKeys` are returned in `metadata`; a foreign `format` entry (such as
    /// PyTorch's `pt`) is dropped, so the checkpoint can be saved again.
    /// - Throws: `DataError` naming `path`: any fault of `Safetensors.read`; no `layers.0.weight`;
    ///   a tensor with another name; a missing weight or bias; a weight that is not 2-D and
    ///   non-empty, a bias whose length differs from its weight's rows, consecutive layers whose
    ///   sizes do not chain; optimizer tensors not numbered `0..<k`; and metadata that does not
    ///   parse or disagrees with the tensors (sizes, activation count, optimizer tensor count,
    ///   an unsupported `format_version`).
    public static func load(_ path: String) throws -> Checkpoint {
        try load(bytes: FileBytes.read(path), path: path)
    }

    /// `load` of `bytes`, the whole content of the file at `path` (named in errors).
    static func load(bytes: [UInt8], path: String) throws -> Checkpoint {
        let (tensors, header) = try Safetensors.read(bytes: bytes, path: path)
        func fault(_ message: String) -> DataError { DataError(file: path, fault: message) }

        var layerIndices = Set<Int>()
        var optimizerIndices = Set<Int>()
        for name in tensors.keys {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 3, parts[0] == "layers", let i = canonicalIndex(parts[1]),
               parts[2] == "weight" || parts[2] == "bias" {
                layerIndices.insert(i)
            } else if parts.count == 2, parts[0] == "optimizer", let k = canonicalIndex(parts[1]) {
                optimizerIndices.insert(k)
            } else {
                throw fault("unexpected tensor '\(name)': a checkpoint holds layers.{i}.weight, layers.{i}.bias "
                    + "and optimizer.{k}")
            }
        }
        guard !layerIndices.isEmpty else { throw fault("no layers.0.weight tensor: this is not an MLP checkpoint") }
        let layerCount = layerIndices.count
        if let gap = (0..<layerCount).first(where: { !layerIndices.contains($0) }) {
            throw fault("layer tensors are not numbered 0..<\(layerCount): layers.\(gap) is missing")
        }

        let isOurs = header["format"] == Self.formatName
        if isOurs, let version = header["format_version"], version != String(Self.formatVersion) {
            throw fault("format_version \(version) is not supported (this version reads \(Self.formatVersion))")
        }

        var activations: [Activation]
        if let names = header["activations"] {
            let list = names.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard list.count == layerCount else {
                throw fault("metadata activations '\(names)' name \(list.count) activations for \(layerCount) layers")
            }
            activations = []
            for name in list {
                guard let activation = Activation(name: name) else {
                    throw fault("metadata activations: unknown activation '\(name)' (expected \(Activation.nameSyntax))")
                }
                activations.append(activation)
            }
        } else {
            activations = [Activation](repeating: .relu, count: layerCount - 1) + [.identity]
        }

        var layers: [Dense] = []
        for i in 0..<layerCount {
            guard let weight = tensors["layers.\(i).weight"] else { throw fault("layer \(i) has no layers.\(i).weight tensor") }
            guard let bias = tensors["layers.\(i).bias"] else { throw fault("layer \(i) has no layers.\(i).bias tensor") }
            guard weight.shape.count == 2, weight.shape[0] > 0, weight.shape[1] > 0 else {
                throw fault("layers.\(i).weight has shape \(weight.shape); expected [out, in], both positive")
            }
            guard bias.shape.count == 1, bias.shape[0] == weight.shape[0] else {
                throw fault("layers.\(i).bias has shape \(bias.shape); expected [\(weight.shape[0])] to match layers.\(i).weight")
            }
            if let previous = layers.last, previous.outputSize != weight.shape[1] {
                throw fault("layers.\(i).weight takes \(weight.shape[1]) inputs but layers.\(i - 1) gives \(previous.outputSize) outputs")
            }
            let w = try Matrix(rows: weight.shape[0], columns: weight.shape[1], values: weight.values)
            layers.append(try Dense(weight: w, bias: bias.values, activation: activations[i]))
        }
        let model = try MLP(layers: layers)

        if let sizes = header["sizes"], sizes != model.sizes.map(String.init).joined(separator: ",") {
            throw fault("metadata sizes '\(sizes)' disagree with the tensor shapes, which give "
                + model.sizes.map(String.init).joined(separator: ","))
        }
        var loss = Loss.softmaxCrossEntropy
        if let name = header["loss"] {
            guard let parsed = Loss(name: name) else {
                throw fault("metadata loss: unknown loss '\(name)' (expected \(Loss.nameSyntax))")
            }
            loss = parsed
        }
        var epoch = 0
        if let text = header["epoch"] {
            guard let value = Int(text), value >= 0 else { throw fault("metadata epoch '\(text)' is not a non-negative integer") }
            epoch = value
        }
        var rngState: UInt64?
        if let text = header["rng"] {
            guard let value = UInt64(text) else { throw fault("metadata rng '\(text)' is not an unsigned 64-bit integer") }
            rngState = value
        }
        var step: Int?
        if let text = header["step"] {
            guard let value = Int(text), value >= 0 else { throw fault("metadata step '\(text)' is not a non-negative integer") }
            step = value
        }
        let optimizerCount = optimizerIndices.count
        if let gap = (0..<optimizerCount).first(where: { !optimizerIndices.contains($0) }) {
            throw fault("optimizer tensors are not numbered 0..<\(optimizerCount): optimizer.\(gap) is missing")
        }
        if let text = header["optimizer_tensors"], text != String(optimizerCount) {
            throw fault("metadata optimizer_tensors is '\(text)' but the file holds \(optimizerCount) optimizer tensors")
        }
        var training: TrainingState?
        if step != nil || optimizerCount > 0 || header["optimizer_tensors"] != nil {
            let state = (0..<optimizerCount).map { tensors["optimizer.\($0)"]!.values }
            training = TrainingState(model: model, stepCount: step ?? 0, optimizerState: state)
        }

        var metadata = header
        for key in reservedMetadataKeys { metadata[key] = nil }
        return Checkpoint(model: model, loss: loss, training: training, epoch: epoch, rngState: rngState, metadata: metadata)
    }

    /// `text` as a non-negative decimal index without sign or leading zeros, else `nil`.
    private static func canonicalIndex(_ text: Substring) -> Int? {
        guard let value = Int(text), value >= 0, String(value) == text else { return nil }
        return value
    }
}
