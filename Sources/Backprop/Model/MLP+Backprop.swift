// MLP+Backprop.swift: the whole algorithm, in one sitting.
//
// This is the single-threaded reference path. The data-parallel Trainer splits the batch
// into row shards and must agree with it; everything here is plain and checked against a
// float64 reimplementation and finite differences in Tests/BackpropTests/Gradient*.
//
// NOTATION. The batch is row-major: X is B × n₀, one sample per row. Layers are 0-based in
// code: layers[l] has weight W[l] (nₗ₊₁ × nₗ), bias b[l] (nₗ₊₁) and activation fₗ; it reads
// h[l] and writes a[l] and h[l+1] (h[0] = X). In the column-vector notation of the docs,
// a(l) = W h(l-1) + b is the same thing written per sample.
//
// FORWARD, l = 0 … L-1:
//     a[l]   = h[l]·W[l]ᵀ + b[l]              (B × nₗ₊₁)   one GEMM, bias and fₗ in its epilogue
//     h[l+1] = fₗ(a[l])                                      (h[l+1] is a[l] itself when fₗ = identity)
//
// LOSS, a mean over the batch (Loss.swift), on the output h[L]:
//     softmax CE:  Loss = (1/B) Σᵢ [logsumexp(h[L]ᵢ) − h[L]ᵢ[yᵢ]]
//     MSE:         Loss = (1/(B·n_L)) Σᵢ Σⱼ (h[L]ᵢⱼ − yᵢⱼ)²
//
// BACKWARD. Let delta[l] = dLoss/da[l] (B × nₗ₊₁). By the chain rule, since a[l] feeds the loss
// only through h[l+1] = fₗ(a[l]), and h[l+1] only through a[l+1] = h[l+1]·W[l+1]ᵀ + b[l+1]:
//     delta[L-1] = dLoss/dh[L] ⊙ f'_{L-1}(a[L-1])          fused with the loss, per row:
//                  CE:  (softmax(h[L]ᵢ) − onehot(yᵢ)) / B    Loss.outputDelta
//                  MSE: 2(h[L] − y)/(B·n_L) ⊙ f'(a[L-1])
//     dLoss/dW[l] = delta[l]ᵀ·h[l]                (nₗ₊₁ × nₗ)   a sum over the batch's rows
//     dLoss/db[l] = Σ_rows delta[l]               (nₗ₊₁)
//     delta[l-1] = (delta[l]·W[l]) ⊙ f'_{l-1}(a[l-1])   (B × nₗ)   one GEMM, f' in its epilogue
// delta[-1] (the gradient with respect to the input) is never needed, so layer 0 stops at dW, db.
// f' is evaluated from both a and h = f(a) (Activation.derivative), whichever is cheaper.
//
// SGD then does W[l] ← W[l] − η dLoss/dW[l], b[l] ← b[l] − η dLoss/db[l] (Training/Optimizer.swift).

extension MLP {
    /// The mean loss over a batch with class labels and the gradient of that mean with
    /// respect to every layer's weight and bias (`gradients[l]` matches `layers[l]`).
    ///
    /// Single-threaded: the reference the data-parallel `Trainer` agrees with. Allocates its
    /// intermediate matrices (use the `Trainer` for an allocation-free training step).
    /// - Throws: `BackpropError.emptyBatch` when `input` has no rows; `.shapeMismatch` when
    ///   `input.columns != inputSize`, `labels.count != input.rows` or the layers do not chain;
    ///   `.labelOutOfRange` for the first label outside `0..<outputSize`;
    ///   `.invalidConfiguration` when `loss` needs float targets or the output layer is not
    ///   `.identity` (cross-entropy takes logits); `.nonFiniteLoss(step: nil)` when the loss or
    ///   a gradient is NaN or infinite (a NaN input, say).
    public func lossAndGradients(input: Matrix, labels: [Int], loss: Loss) throws
        -> (loss: Float, gradients: [LayerGradients]) {
        try validate(input: input, labels: labels, loss: loss)
        return try labels.withUnsafeBufferPointer { l in
            try backpropagate(input: input, targets: .labels(l.baseAddress!), loss: loss)
        }
    }

    /// The mean loss over a batch with float targets (`.meanSquaredError`) and the gradient
    /// of that mean with respect to every layer's weight and bias (`gradients[l]` matches
    /// `layers[l]`). Single-threaded, like `lossAndGradients(input:labels:loss:)`.
    /// - Throws: `BackpropError.emptyBatch` when `input` has no rows; `.shapeMismatch` when
    ///   `input.columns != inputSize`, `targets` is not `input.rows × outputSize` or the layers
    ///   do not chain; `.invalidConfiguration` when `loss` needs class labels;
    ///   `.nonFiniteLoss(step: nil)` when the loss or a gradient is NaN or infinite.
    public func lossAndGradients(input: Matrix, targets: Matrix, loss: Loss) throws
        -> (loss: Float, gradients: [LayerGradients]) {
        try validate(input: input, targets: targets, loss: loss)
        return try targets.withUnsafeBufferPointer { t in
            try backpropagate(input: input, targets: .values(t.baseAddress!, leadingDimension: targets.columns),
                              loss: loss)
        }
    }

    /// Forward, loss, backward, for a validated batch.
    func backpropagate(input: Matrix, targets: LossTargets, loss: Loss) throws
        -> (loss: Float, gradients: [LayerGradients]) {
        let batch = input.rows, last = layers.count - 1
        let workspace = AlignedBuffer(count: Kernels.workspaceCount())

        // 1. Forward, keeping a[l] and h[l] of every layer for the backward pass.
        var a: [Matrix] = []
        var h: [Matrix] = [input]
        a.reserveCapacity(layers.count)
        h.reserveCapacity(layers.count + 1)
        for l in 0...last {
            let (preActivation, activation) = MLP.forward(layers[l], h[l], workspace: workspace)
            a.append(preActivation)
            h.append(activation)
        }

        // 2. The loss and delta[L-1] = dLoss/da[L-1], fused and row by row.
        var delta = Matrix(rows: batch, columns: outputSize)
        let rowLoss = AlignedBuffer(count: batch)
        a[last].withUnsafeBufferPointer { pre in
            h[last + 1].withUnsafeBufferPointer { out in
                delta.withUnsafeMutableBufferPointer { d in
                    loss.outputDelta(rows: 0..<batch, columns: outputSize, batchSize: batch,
                                     activation: layers[last].activation, preActivation: pre.baseAddress!,
                                     output: out.baseAddress!, targets: targets, delta: d.baseAddress!,
                                     rowLoss: rowLoss.base)
                }
            }
        }
        let meanLoss = Loss.mean(rowLoss.base, count: batch)
        guard meanLoss.isFinite else { throw BackpropError.nonFiniteLoss(step: nil) }

        // 3. Backward, last layer first: dW[l], db[l], then delta[l-1] for the layer below.
        var gradients = [LayerGradients]()
        gradients.reserveCapacity(layers.count)
        for l in stride(from: last, through: 0, by: -1) {
            gradients.append(MLP.parameterGradients(delta: delta, input: h[l], workspace: workspace))
            if l > 0 {
                delta = MLP.propagate(delta: delta, through: layers[l], belowActivation: layers[l - 1].activation,
                                      preActivation: a[l - 1], activation: h[l], workspace: workspace)
            }
        }
        gradients.reverse()

        // 4. A finite loss can still come with a non-finite gradient (a NaN input that a ReLU
        //    clamps away before the loss, or huge weights overflowing dW); that step is as unusable.
        guard gradients.allSatisfy(\.isFinite) else { throw BackpropError.nonFiniteLoss(step: nil) }
        return (meanLoss, gradients)
    }

    // MARK: - The three products

    /// Forward through one layer: `a = h·Wᵀ + b` and `h' = f(a)`, returned as `(a, h')`
    /// (`h'` shares `a`'s storage when `f` is the identity).
    static func forward(_ layer: Dense, _ h: Matrix, workspace: AlignedBuffer) -> (preActivation: Matrix, activation: Matrix) {
        var a = Matrix(rows: h.rows, columns: layer.outputSize)
        if layer.activation == .identity {
            h.withUnsafeBufferPointer { hp in
                a.withUnsafeMutableBufferPointer { ap in
                    forward(layer, rows: h.rows, input: hp.baseAddress!, inputLeadingDimension: h.columns,
                            preActivation: ap.baseAddress!, output: nil, workspace: workspace.base)
                }
            }
            return (a, a)
        }
        var out = Matrix(rows: h.rows, columns: layer.outputSize)
        h.withUnsafeBufferPointer { hp in
            a.withUnsafeMutableBufferPointer { ap in
                out.withUnsafeMutableBufferPointer { op in
                    forward(layer, rows: h.rows, input: hp.baseAddress!, inputLeadingDimension: h.columns,
                            preActivation: ap.baseAddress!, output: op.baseAddress!, workspace: workspace.base)
                }
            }
        }
        return (a, out)
    }

    /// Forward through one layer on raw rows: `preActivation = h·Wᵀ + b` (`rows × outputSize`,
    /// packed) and, when `output` is non-nil, `output = f(preActivation)` (same layout).
    /// `h` is `rows × inputSize` with leading dimension `inputLeadingDimension`.
    static func forward(_ layer: Dense, rows: Int, input h: UnsafePointer<Float>, inputLeadingDimension: Int,
                        preActivation: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>?,
                        workspace: UnsafeMutablePointer<Float>) {
        layer.weight.withUnsafeBufferPointer { w in
            layer.bias.withUnsafeBufferPointer { b in
                Kernels.gemm(GEMMProblem(
                    m: rows, n: layer.outputSize, k: layer.inputSize,
                    a: GEMMOperand(h, leadingDimension: inputLeadingDimension),
                    b: GEMMOperand(w.baseAddress!, leadingDimension: layer.inputSize, transposed: true),
                    c: preActivation, cLeadingDimension: layer.outputSize,
                    epilogue: .biasActivation(bias: b.baseAddress!, activation: layer.activation,
                                              output: output, outputLeadingDimension: layer.outputSize)),
                    workspace: workspace)
            }
        }
    }

    /// `dLoss/dW = deltaᵀ·h` (`(n_out × B)·(B × n_in)`) and `dLoss/db = Σ_rows delta`, for a
    /// layer whose input was `h` and whose error is `delta`.
    static func parameterGradients(delta: Matrix, input h: Matrix, workspace: AlignedBuffer) -> LayerGradients {
        let batch = delta.rows, outputs = delta.columns, inputs = h.columns
        var dW = Matrix(rows: outputs, columns: inputs)
        var db = [Float](repeating: 0, count: outputs)
        delta.withUnsafeBufferPointer { d in
            h.withUnsafeBufferPointer { hp in
                dW.withUnsafeMutableBufferPointer { w in
                    Kernels.gemm(GEMMProblem(
                        m: outputs, n: inputs, k: batch,
                        a: GEMMOperand(d.baseAddress!, leadingDimension: outputs, transposed: true),
                        b: GEMMOperand(hp.baseAddress!, leadingDimension: inputs),
                        c: w.baseAddress!, cLeadingDimension: inputs), workspace: workspace.base)
                }
            }
            db.withUnsafeMutableBufferPointer { b in
                Kernels.columnSums(rows: batch, columns: outputs, x: d.baseAddress!, leadingDimension: outputs,
                                   into: b.baseAddress!, accumulate: false)
            }
        }
        return LayerGradients(weight: dW, bias: db)
    }

    /// The error of the layer below: `delta[l-1] = (delta[l]·W[l]) ⊙ f'(a[l-1])`
    /// (`(B × n_out)·(n_out × n_in)`), where `f` is the layer below's activation, `a` its
    /// pre-activation and `h = f(a)` its output (this layer's input).
    static func propagate(delta: Matrix, through layer: Dense, belowActivation f: Activation,
                          preActivation a: Matrix, activation h: Matrix, workspace: AlignedBuffer) -> Matrix {
        let batch = delta.rows
        var below = Matrix(rows: batch, columns: layer.inputSize)
        delta.withUnsafeBufferPointer { d in
            layer.weight.withUnsafeBufferPointer { w in
                a.withUnsafeBufferPointer { ap in
                    h.withUnsafeBufferPointer { hp in
                        below.withUnsafeMutableBufferPointer { out in
                            Kernels.gemm(GEMMProblem(
                                m: batch, n: layer.inputSize, k: layer.outputSize,
                                a: GEMMOperand(d.baseAddress!, leadingDimension: layer.outputSize),
                                b: GEMMOperand(w.baseAddress!, leadingDimension: layer.inputSize),
                                c: out.baseAddress!, cLeadingDimension: layer.inputSize,
                                epilogue: .activationDerivative(activation: f, preActivation: ap.baseAddress!,
                                                                activationValues: hp.baseAddress!,
                                                                leadingDimension: layer.inputSize)),
                                workspace: workspace.base)
                        }
                    }
                }
            }
        }
        return below
    }
}
