import Backprop

/// A model's mean loss and accuracy (`nil` without labels) on a data set.
struct Score: Sendable, Equatable {
    var loss: Float
    var accuracy: Float?
}

extension MLP {
    /// Mean loss and (for labelled data) accuracy of the model on `data` under `loss`:
    /// the library's `evaluate` for cross-entropy on labels; for `.meanSquaredError` the mean
    /// over samples and outputs of `(h − y)²` against the data set's targets, or against the
    /// one-hot labels (accuracy then compares the largest output with the label).
    /// - Throws: `BackpropError` when the data does not fit the model.
    func score(on data: Dataset, loss: Loss, batchSize: Int = 1024) throws -> Score {
        if loss == .softmaxCrossEntropy, let labels = data.labels {
            let result = try evaluate(input: data.features, labels: labels, loss: loss, batchSize: batchSize)
            return Score(loss: result.loss, accuracy: result.accuracy)
        }
        let n = outputSize
        var squaredError = 0.0
        var correct = 0
        var start = 0
        while start < data.count {
            let end = min(start + batchSize, data.count)
            let output = try predict(data.features.rows(start..<end))
            for i in 0..<(end - start) {
                var best = 0
                for j in 0..<n {
                    let target: Float
                    if let targets = data.targets {
                        target = targets[start + i, j]
                    } else {
                        target = data.labels![start + i] == j ? 1 : 0
                    }
                    let e = Double(output[i, j] - target)
                    squaredError += e * e
                    if output[i, j] > output[i, best] { best = j }
                }
                if let labels = data.labels, labels[start + i] == best { correct += 1 }
            }
            start = end
        }
        let count = max(data.count, 1)
        return Score(loss: Float(squaredError / Double(count * n)),
                     accuracy: data.labels == nil ? nil : Float(Double(correct) / Double(count)))
    }
}
