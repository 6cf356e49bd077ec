// Checks shared by the reference path (MLP+Backprop.swift), inference and the Trainer.
// None of them allocates unless it throws.

extension MLP {
    /// Throws unless `layers` is a non-empty chain of well-formed layers.
    static func validateChain(_ layers: [Dense]) throws {
        guard !layers.isEmpty else { throw BackpropError.invalidConfiguration("an MLP needs at least one layer") }
        for l in layers.indices {
            if let problem = Dense.shapeProblem(weight: layers[l].weight, bias: layers[l].bias) {
                throw BackpropError.shapeMismatch("layer \(l)'s " + problem)
            }
            if l > 0, layers[l].inputSize != layers[l - 1].outputSize {
                throw BackpropError.shapeMismatch(
                    "layer \(l) takes \(layers[l].inputSize) inputs but layer \(l - 1) gives \(layers[l - 1].outputSize)")
            }
        }
    }

    /// Throws unless the model is well formed and `input` is a non-empty batch of its inputs.
    func validate(input: Matrix) throws {
        try MLP.validateChain(layers)
        guard input.rows > 0 else { throw BackpropError.emptyBatch }
        guard input.columns == inputSize else {
            throw BackpropError.shapeMismatch(
                "input has \(input.columns) columns but the first layer takes \(inputSize) inputs")
        }
    }

    /// Throws unless there is one label per input row, each in `0..<outputSize`.
    func validate(labels: [Int], for input: Matrix) throws {
        guard labels.count == input.rows else {
            throw BackpropError.shapeMismatch("\(input.rows) input rows but \(labels.count) labels")
        }
        let classes = outputSize
        for (i, label) in labels.enumerated() where label < 0 || label >= classes {
            throw BackpropError.labelOutOfRange(label: label, sample: i, classes: classes)
        }
    }

    /// Throws unless `loss` takes class labels on this model's outputs and `labels` fit `input`.
    func validate(input: Matrix, labels: [Int], loss: Loss) throws {
        try validate(input: input)
        guard loss == .softmaxCrossEntropy else {
            throw BackpropError.invalidConfiguration("\(loss) needs float targets, not class labels")
        }
        let outputActivation = layers[layers.count - 1].activation
        guard outputActivation == .identity else {
            throw BackpropError.invalidConfiguration(
                "softmaxCrossEntropy takes logits: the output layer's activation must be .identity, not .\(outputActivation)")
        }
        try validate(labels: labels, for: input)
    }

    /// Throws unless `loss` takes float targets and `targets` is `input.rows × outputSize`.
    func validate(input: Matrix, targets: Matrix, loss: Loss) throws {
        try validate(input: input)
        guard loss == .meanSquaredError else {
            throw BackpropError.invalidConfiguration("\(loss) needs class labels, not float targets")
        }
        guard targets.rows == input.rows, targets.columns == outputSize else {
            throw BackpropError.shapeMismatch(
                "targets are \(targets.rows)×\(targets.columns) but the batch needs \(input.rows)×\(outputSize)")
        }
    }

    /// Throws unless `batchSize` is at least 1.
    static func validate(batchSize: Int) throws {
        guard batchSize >= 1 else {
            throw BackpropError.invalidConfiguration("batchSize must be at least 1, got \(batchSize)")
        }
    }
}
