// The whole algorithm, single-threaded: the reference path the data-parallel Trainer
// must agree with. For layer l: a(l) = h(l-1)·W(l)ᵀ + b(l), h(l) = f(a(l));
// delta(L) from the loss; delta(l) = (delta(l+1)·W(l+1)) ⊙ f'(a(l));
// dLoss/dW(l) = delta(l)ᵀ·h(l-1), dLoss/db(l) = Σ_samples delta(l).

/// The loss and accuracy of a model on a data set.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss over the samples.
    public var loss: Float
    /// Fraction of samples whose largest output is the label (classification only; `nil` for float targets).
    public var accuracy: Float?
    /// Number of samples evaluated.
    public var count: Int
}

extension MLP {
    /// The output `h(L)` for each row of `input` (logits when the output activation is `.identity`).
    /// - Throws: `BackpropError.shapeMismatch` when `input.columns != inputSize`;
    ///   `.emptyBatch` when it has no rows.
    public func predict(_ input: Matrix) throws -> Matrix {
        try validate(input: input)
        let workspace = AlignedBuffer(count: Kernels.workspaceCount())
        var h = input
        for layer in layers {
            h = forward(layer, h, workspace: workspace).activation
        }
        return h
    }

    /// The predicted class of each row of `input`: the index of its largest output (the first on ties).
    public func classify(_ input: Matrix) throws -> [Int] {
        let output = try predict(input)
        return (0..<output.rows).map { i in argmax(output, row: i) }
    }

    /// The mean loss and gradients of every layer for a batch with class labels.
    /// Single-threaded: the reference the data-parallel `Trainer` agrees with.
    /// - Throws: `BackpropError` on a shape mismatch, an empty batch, a label outside
    ///   `0..<outputSize`, a loss that needs float targets, or a non-finite loss.
    public func lossAndGradients(input: Matrix, labels: [Int], loss: Loss) throws
        -> (loss: Float, gradients: [LayerGradients]) {
        try validate(input: input, labels: labels, loss: loss)
        return try labels.withUnsafeBufferPointer { l in
            try backpropagate(input: input, targets: .labels(l.baseAddress!), loss: loss)
        }
    }

    /// The mean loss and gradients of every layer for a batch with float targets (`.meanSquaredError`).
    /// - Throws: `BackpropError` on a shape mismatch, an empty batch, a loss that needs labels,
    ///   or a non-finite loss.
    public func lossAndGradients(input: Matrix, targets: Matrix, loss: Loss) throws
        -> (loss: Float, gradients: [LayerGradients]) {
        try validate(input: input, targets: targets, loss: loss)
        return try targets.withUnsafeBufferPointer { t in
            try backpropagate(input: input, targets: .values(t.baseAddress!, leadingDimension: targets.columns), loss: loss)
        }
    }

    /// Mean loss and accuracy over `input` with class labels, in batches of `batchSize` rows.
    public func evaluate(input: Matrix, labels: [Int], loss: Loss = .softmaxCrossEntropy,
                         batchSize: Int = 1024) throws -> Evaluation {
        try validate(input: input, labels: labels, loss: loss)
        var totalLoss = 0.0
        var correct = 0
        let batch = max(batchSize, 1)
        var start = 0
        while start < input.rows {
            let end = min(start + batch, input.rows)
            let output = try predict(input.rows(start..<end))
            let rowLoss = UnsafeMutablePointer<Float>.allocate(capacity: end - start)
            let delta = AlignedBuffer(count: output.count)
            defer { rowLoss.deallocate() }
            labels.withUnsafeBufferPointer { l in
                output.withUnsafeBufferPointer { h in
                    loss.outputDelta(rows: 0..<(end - start), columns: outputSize, batchSize: 1,
                                     activation: layers[layers.count - 1].activation,
                                     preActivation: h.baseAddress!, output: h.baseAddress!,
                                     targets: .labels(l.baseAddress! + start), delta: delta.base, rowLoss: rowLoss)
                }
            }
            for i in 0..<(end - start) {
                totalLoss += Double(rowLoss[i])
                if argmax(output, row: i) == labels[start + i] { correct += 1 }
            }
            start = end
        }
        return Evaluation(loss: Float(totalLoss / Double(input.rows)),
                          accuracy: Float(Double(correct) / Double(input.rows)), count: input.rows)
    }

    /// Fraction of rows of `input` whose predicted class equals the label.
    public func accuracy(input: Matrix, labels: [Int]) throws -> Float {
        try evaluate(input: input, labels: labels).accuracy ?? 0
    }

    // MARK: - Internals

    func forward(_ layer: Dense, _ h: Matrix, workspace: AlignedBuffer) -> (preActivation: Matrix, activation: Matrix) {
        var a = Matrix(rows: h.rows, columns: layer.outputSize)
        var out = layer.activation == .identity ? Matrix(rows: 0, columns: 0) : Matrix(rows: h.rows, columns: layer.outputSize)
        h.withUnsafeBufferPointer { hp in
            layer.weight.withUnsafeBufferPointer { wp in
                layer.bias.withUnsafeBufferPointer { bp in
                    a.withUnsafeMutableBufferPointer { ap in
                        out.withUnsafeMutableBufferPointer { op in
                            Kernels.gemm(GEMMProblem(
                                m: h.rows, n: layer.outputSize, k: layer.inputSize,
                                a: GEMMOperand(hp.baseAddress!, leadingDimension: h.columns),
                                b: GEMMOperand(wp.baseAddress!, leadingDimension: layer.inputSize, transposed: true),
                                c: ap.baseAddress!, cLeadingDimension: layer.outputSize,
                                epilogue: .biasActivation(bias: bp.baseAddress!, activation: layer.activation,
                                                          output: op.count > 0 ? op.baseAddress! : nil,
                                                          outputLeadingDimension: layer.outputSize)),
                                workspace: workspace.base)
                        }
                    }
                }
            }
        }
        return (a, layer.activation == .identity ? a : out)
    }

    func backpropagate(input: Matrix, targets: LossTargets, loss: Loss) throws
        -> (loss: Float, gradients: [LayerGradients]) {
        let batch = input.rows
        let workspace = AlignedBuffer(count: Kernels.workspaceCount())
        // Forward, keeping a(l) and h(l) of every layer.
        var preActivations: [Matrix] = []
        var activations: [Matrix] = [input]
        for layer in layers {
            let (a, h) = forward(layer, activations[activations.count - 1], workspace: workspace)
            preActivations.append(a)
            activations.append(h)
        }
        // delta(L) and the loss.
        let last = layers.count - 1
        var delta = Matrix(rows: batch, columns: outputSize)
        let rowLoss = UnsafeMutablePointer<Float>.allocate(capacity: batch)
        defer { rowLoss.deallocate() }
        preActivations[last].withUnsafeBufferPointer { a in
            activations[last + 1].withUnsafeBufferPointer { h in
                delta.withUnsafeMutableBufferPointer { d in
                    loss.outputDelta(rows: 0..<batch, columns: outputSize, batchSize: batch,
                                     activation: layers[last].activation, preActivation: a.baseAddress!,
                                     output: h.baseAddress!, targets: targets, delta: d.baseAddress!, rowLoss: rowLoss)
                }
            }
        }
        let meanLoss = Loss.mean(rowLoss, count: batch)
        guard meanLoss.isFinite else { throw BackpropError.nonFiniteLoss(step: nil) }

        // Backward: dW(l) = delta(l)ᵀ·h(l-1), db(l) = Σ delta(l), delta(l-1) = (delta(l)·W(l)) ⊙ f'(a(l-1)).
        var gradients = [LayerGradients](repeating: LayerGradients(weight: Matrix(rows: 0, columns: 0), bias: []),
                                         count: layers.count)
        for l in stride(from: last, through: 0, by: -1) {
            let layer = layers[l]
            var dW = Matrix(rows: layer.outputSize, columns: layer.inputSize)
            var db = [Float](repeating: 0, count: layer.outputSize)
            let hPrev = activations[l]
            delta.withUnsafeBufferPointer { d in
                hPrev.withUnsafeBufferPointer { h in
                    dW.withUnsafeMutableBufferPointer { w in
                        Kernels.gemm(GEMMProblem(
                            m: layer.outputSize, n: layer.inputSize, k: batch,
                            a: GEMMOperand(d.baseAddress!, leadingDimension: layer.outputSize, transposed: true),
                            b: GEMMOperand(h.baseAddress!, leadingDimension: layer.inputSize),
                            c: w.baseAddress!, cLeadingDimension: layer.inputSize), workspace: workspace.base)
                    }
                    db.withUnsafeMutableBufferPointer { b in
                        Kernels.columnSums(rows: batch, columns: layer.outputSize, x: d.baseAddress!,
                                           leadingDimension: layer.outputSize, into: b.baseAddress!, accumulate: false)
                    }
                }
            }
            gradients[l] = LayerGradients(weight: dW, bias: db)
            if l > 0 {
                var next = Matrix(rows: batch, columns: layer.inputSize)
                let previous = layers[l - 1]
                delta.withUnsafeBufferPointer { d in
                    layer.weight.withUnsafeBufferPointer { w in
                        preActivations[l - 1].withUnsafeBufferPointer { a in
                            activations[l].withUnsafeBufferPointer { h in
                                next.withUnsafeMutableBufferPointer { n in
                                    Kernels.gemm(GEMMProblem(
                                        m: batch, n: layer.inputSize, k: layer.outputSize,
                                        a: GEMMOperand(d.baseAddress!, leadingDimension: layer.outputSize),
                                        b: GEMMOperand(w.baseAddress!, leadingDimension: layer.inputSize),
                                        c: n.baseAddress!, cLeadingDimension: layer.inputSize,
                                        epilogue: .activationDerivative(activation: previous.activation,
                                                                        preActivation: a.baseAddress!,
                                                                        activationValues: h.baseAddress!,
                                                                        leadingDimension: layer.inputSize)),
                                        workspace: workspace.base)
                                }
                            }
                        }
                    }
                }
                delta = next
            }
        }
        return (meanLoss, gradients)
    }

    func argmax(_ m: Matrix, row i: Int) -> Int {
        var best = 0
        for j in 1..<m.columns where m[i, j] > m[i, best] { best = j }
        return best
    }
}

// MARK: - Validation shared by the reference path and the trainer

extension MLP {
    func validate(input: Matrix) throws {
        guard input.rows > 0 else { throw BackpropError.emptyBatch }
        guard input.columns == inputSize else {
            throw BackpropError.shapeMismatch(
                "input has \(input.columns) columns but the first layer takes \(inputSize) inputs")
        }
    }

    func validate(input: Matrix, labels: [Int], loss: Loss) throws {
        try validate(input: input)
        guard loss == .softmaxCrossEntropy else {
            throw BackpropError.invalidConfiguration("\(loss) needs float targets, not class labels")
        }
        guard layers[layers.count - 1].activation == .identity else {
            throw BackpropError.invalidConfiguration(
                "softmaxCrossEntropy takes logits: the output layer's activation must be .identity, not \(layers[layers.count - 1].activation)")
        }
        guard labels.count == input.rows else {
            throw BackpropError.shapeMismatch("\(input.rows) input rows but \(labels.count) labels")
        }
        for (i, label) in labels.enumerated() where label < 0 || label >= outputSize {
            throw BackpropError.labelOutOfRange(label: label, sample: i, classes: outputSize)
        }
    }

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
}
