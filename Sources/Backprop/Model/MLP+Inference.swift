// Inference: the forward pass alone, in batches, over buffers allocated once per call.

/// The loss and accuracy of a model on a data set.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss over the samples (NaN or infinite when the model's outputs are).
    public var loss: Float
    /// Fraction of samples whose largest output is the label (classification only; `nil` for float targets).
    public var accuracy: Float?
    /// Number of samples evaluated.
    public var count: Int

    /// An evaluation with the given figures.
    public init(loss: Float, accuracy: Float?, count: Int) {
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
    }
}

extension MLP {
    /// The output `h(L)` for each row of `input` (logits when the output activation is
    /// `.identity`), computed `batchSize` rows at a time to bound memory. Row `i` of the result
    /// does not depend on `batchSize` or on the other rows.
    /// - Throws: `BackpropError.emptyBatch` when `input` has no rows; `.shapeMismatch` when
    ///   `input.columns != inputSize` or the layers do not chain; `.invalidConfiguration` when
    ///   `batchSize < 1`.
    public func predict(_ input: Matrix, batchSize: Int = 1024) throws -> Matrix {
        try validate(input: input)
        try MLP.validate(batchSize: batchSize)
        let n = outputSize
        var output = Matrix(rows: input.rows, columns: n)
        output.withUnsafeMutableBufferPointer { out in
            forEachBatch(of: input, batchSize: batchSize) { rows, _, h in
                (out.baseAddress! + rows.lowerBound * n).update(from: h, count: rows.count * n)
            }
        }
        return output
    }

    /// The predicted class of each row of `input`: the index of its largest output (the first
    /// on ties; NaN outputs are never the largest, and a row of NaNs gives 0).
    /// - Throws: as `predict(_:batchSize:)`.
    public func classify(_ input: Matrix, batchSize: Int = 1024) throws -> [Int] {
        try validate(input: input)
        try MLP.validate(batchSize: batchSize)
        let n = outputSize
        var classes = [Int](repeating: 0, count: input.rows)
        forEachBatch(of: input, batchSize: batchSize) { rows, _, h in
            for i in 0..<rows.count { classes[rows.lowerBound + i] = MLP.argmax(h + i * n, count: n) }
        }
        return classes
    }

    /// Mean loss and accuracy over `input` with class labels, `batchSize` rows at a time.
    ///
    /// The loss equals `lossAndGradients(input:labels:loss:)`'s on the same rows, bitwise
    /// (row losses are summed in order in `Double`), whatever `batchSize`. Buffers are
    /// allocated once per call, not per batch. A non-finite loss is returned, not thrown.
    /// - Throws: `BackpropError.emptyBatch`, `.shapeMismatch`, `.labelOutOfRange` and
    ///   `.invalidConfiguration` as `lossAndGradients(input:labels:loss:)` does, and
    ///   `.invalidConfiguration` when `batchSize < 1`.
    public func evaluate(input: Matrix, labels: [Int], loss: Loss = .softmaxCrossEntropy,
                         batchSize: Int = 1024) throws -> Evaluation {
        try validate(input: input, labels: labels, loss: loss)
        try MLP.validate(batchSize: batchSize)
        let (total, correct) = labels.withUnsafeBufferPointer { l in
            accumulate(input: input, batchSize: batchSize, loss: loss, countCorrect: l.baseAddress!) { start in
                .labels(l.baseAddress! + start)
            }
        }
        return Evaluation(loss: Float(total / Double(input.rows)),
                          accuracy: Float(Double(correct) / Double(input.rows)), count: input.rows)
    }

    /// Mean loss over `input` with float targets (`.meanSquaredError`), `batchSize` rows at a
    /// time; `accuracy` is `nil`. The loss equals `lossAndGradients(input:targets:loss:)`'s,
    /// bitwise, whatever `batchSize`. A non-finite loss is returned, not thrown.
    /// - Throws: as `lossAndGradients(input:targets:loss:)`, and `.invalidConfiguration` when
    ///   `batchSize < 1`.
    public func evaluate(input: Matrix, targets: Matrix, loss: Loss = .meanSquaredError,
                         batchSize: Int = 1024) throws -> Evaluation {
        try validate(input: input, targets: targets, loss: loss)
        try MLP.validate(batchSize: batchSize)
        let ldy = targets.columns
        let (total, _) = targets.withUnsafeBufferPointer { t in
            accumulate(input: input, batchSize: batchSize, loss: loss, countCorrect: nil) { start in
                .values(t.baseAddress! + start * ldy, leadingDimension: ldy)
            }
        }
        return Evaluation(loss: Float(total / Double(input.rows)), accuracy: nil, count: input.rows)
    }

    /// The mean loss over `input` with class labels: `evaluate(input:labels:loss:).loss`.
    /// - Throws: as `evaluate(input:labels:loss:batchSize:)`.
    public func loss(input: Matrix, labels: [Int], loss: Loss = .softmaxCrossEntropy) throws -> Float {
        try evaluate(input: input, labels: labels, loss: loss).loss
    }

    /// The mean loss over `input` with float targets: `evaluate(input:targets:loss:).loss`.
    /// - Throws: as `evaluate(input:targets:loss:batchSize:)`.
    public func loss(input: Matrix, targets: Matrix, loss: Loss = .meanSquaredError) throws -> Float {
        try evaluate(input: input, targets: targets, loss: loss).loss
    }

    /// Fraction of rows of `input` whose predicted class (`classify`) equals the label. Needs no
    /// loss, so it works whatever the output activation.
    /// - Throws: `BackpropError.emptyBatch` when `input` has no rows; `.shapeMismatch` when
    ///   `input.columns != inputSize` or `labels.count != input.rows`; `.labelOutOfRange` for
    ///   the first label outside `0..<outputSize`.
    public func accuracy(input: Matrix, labels: [Int]) throws -> Float {
        try validate(input: input)
        try validate(labels: labels, for: input)
        let n = outputSize
        var correct = 0
        forEachBatch(of: input, batchSize: 1024) { rows, _, h in
            for i in 0..<rows.count where MLP.argmax(h + i * n, count: n) == labels[rows.lowerBound + i] {
                correct += 1
            }
        }
        return Float(Double(correct) / Double(input.rows))
    }

    // MARK: - Internals

    /// Sums the row losses over `input` in order (in `Double`) and, when `countCorrect` holds
    /// the labels, counts rows whose argmax is the label. `targets(start)` gives the targets
    /// of the batch starting at row `start`.
    func accumulate(input: Matrix, batchSize: Int, loss: Loss, countCorrect labels: UnsafePointer<Int>?,
                    targets: (Int) -> LossTargets) -> (loss: Double, correct: Int) {
        let n = outputSize, outputActivation = layers[layers.count - 1].activation
        let capacity = min(batchSize, input.rows)
        let delta = AlignedBuffer(count: capacity * n), rowLoss = AlignedBuffer(count: capacity)
        var total = 0.0, correct = 0
        forEachBatch(of: input, batchSize: batchSize) { rows, a, h in
            loss.outputDelta(rows: 0..<rows.count, columns: n, batchSize: 1, activation: outputActivation,
                             preActivation: a, output: h, targets: targets(rows.lowerBound),
                             delta: delta.base, rowLoss: rowLoss.base)
            for i in 0..<rows.count { total += Double(rowLoss.base[i]) }
            if let labels {
                for i in 0..<rows.count where MLP.argmax(h + i * n, count: n) == labels[rows.lowerBound + i] {
                    correct += 1
                }
            }
        }
        withExtendedLifetime((delta, rowLoss)) {}
        return (total, correct)
    }

    /// Runs the forward pass over a validated `input`, at most `batchSize` rows at a time, and
    /// calls `body(rows, a, h)` with the last layer's pre-activation `a` and output `h` for
    /// `rows` (packed, `rows.count × outputSize`; `a == h` for an identity output layer).
    /// The pointers are valid only during the call. Allocates its buffers once, up front.
    func forEachBatch(of input: Matrix, batchSize: Int,
                      _ body: (_ rows: Range<Int>, _ a: UnsafePointer<Float>, _ h: UnsafePointer<Float>) -> Void) {
        var width = 0
        for layer in layers { width = max(width, layer.outputSize) }
        let capacity = min(batchSize, input.rows)
        let pre = AlignedBuffer(count: capacity * width)
        let ping = AlignedBuffer(count: capacity * width), pong = AlignedBuffer(count: capacity * width)
        let workspace = AlignedBuffer(count: Kernels.workspaceCount())
        withExtendedLifetime((pre, ping, pong, workspace)) {
            input.withUnsafeBufferPointer { x in
                var start = 0
                while start < input.rows {
                    let count = min(capacity, input.rows - start)
                    // Layer l reads h (the input rows, then the last output buffer) and writes a to
                    // `pre` and f(a) to `next`; an identity layer writes a straight to `next`.
                    var h = UnsafePointer(x.baseAddress! + start * input.columns)
                    var a = h
                    var ldh = input.columns
                    var next = ping.base, spare = pong.base
                    for layer in layers {
                        let identity = layer.activation == .identity
                        let c = identity ? next : pre.base
                        MLP.forward(layer, rows: count, input: h, inputLeadingDimension: ldh,
                                    preActivation: c, output: identity ? nil : next, workspace: workspace.base)
                        a = UnsafePointer(c)
                        h = UnsafePointer(next)
                        ldh = layer.outputSize
                        swap(&next, &spare)
                    }
                    body(start..<(start + count), a, h)
                    start += count
                }
            }
        }
    }

    /// The index of the largest of `row[0..<count]`, the first on ties; NaNs are skipped
    /// (never larger), so a row of NaNs gives 0.
    static func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for j in 1..<max(count, 1) where row[j] > row[best] || (row[best].isNaN && !row[j].isNaN) { best = j }
        return best
    }

    /// The index of the largest element of row `i` of `m` (see `argmax(_:count:)`).
    func argmax(_ m: Matrix, row i: Int) -> Int {
        m.withUnsafeBufferPointer { MLP.argmax($0.baseAddress! + i * m.columns, count: m.columns) }
    }
}
