#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A loss over a batch of `B` samples; the loss is always the mean over the batch, so the
/// gradients are means too and a learning rate does not depend on the batch size.
public enum Loss: String, Sendable, Hashable, CaseIterable {
    /// Softmax cross-entropy on integer class labels `y_i ∈ 0..<n`, computed from the logits
    /// `h(L)` (the output layer's activation must be `.identity`):
    /// `L = (1/B) Σ_i [logsumexp(h_i) − h_i[y_i]]`, `delta(L) = (softmax(h_i) − onehot(y_i)) / B`.
    ///
    /// Fused and stable: the row maximum `m` is subtracted before exponentiating and a row's
    /// loss is `log Σ_j e^(h_ij − m) + (m − h_i[y_i])`, so logits of any finite size (±1e4, say)
    /// give a finite loss and an exact-to-rounding gradient. With one output (`n = 1`) the loss
    /// and gradient are 0. A non-finite logit gives a non-finite loss.
    case softmaxCrossEntropy
    /// Mean squared error on float targets, averaged over the batch and the `n` outputs
    /// (as PyTorch's `MSELoss`): `L = (1/(B·n)) Σ_i Σ_j (h_ij − y_ij)²`,
    /// `dLoss/dh = 2(h − y)/(B·n)`, `delta(L) = dLoss/dh ⊙ f'(a(L))`. Any output activation works.
    case meanSquaredError
}

/// The targets of a batch: class labels or a float target matrix, as the loss needs.
@usableFromInline
enum LossTargets {
    /// `labels[i]` is sample `i`'s class (already validated to lie in `0..<n`).
    case labels(UnsafePointer<Int>)
    /// Row `i` of the targets starts at `values + i * leadingDimension`.
    case values(UnsafePointer<Float>, leadingDimension: Int)
}

extension Loss {
    /// For rows `rows` of the output layer, writes each row's loss to `rowLoss[i]` and the
    /// output error `delta(L) = dLoss/da(L)` (already divided by `batchSize`) to `delta`.
    ///
    /// Row `i` of `preActivation`, `output` and `delta` is at offset `i * columns` (`i` in
    /// `rows`); `preActivation` may equal `output` (identity output layer). Each row is
    /// computed on its own, from its own values only, so results do not depend on how a batch
    /// is split across threads. `rowLoss[i]` is the row's unscaled loss (its mean over the
    /// batch is `Loss.mean`). The caller has validated that `targets` is the kind `self` needs
    /// (labels for cross-entropy, values for MSE) and that labels lie in `0..<columns`.
    func outputDelta(rows: Range<Int>, columns n: Int, batchSize: Int, activation f: Activation,
                     preActivation a: UnsafePointer<Float>, output h: UnsafePointer<Float>,
                     targets: LossTargets, delta: UnsafeMutablePointer<Float>,
                     rowLoss: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(batchSize)
        switch (self, targets) {
        case (.softmaxCrossEntropy, .labels(let labels)):
            // delta_ij = (e^(h_ij − m) / Σ_k e^(h_ik − m) − [j = y_i]) / B, with m = max_j h_ij.
            for i in rows {
                let logits = h + i * n, d = delta + i * n
                var maxLogit = -Float.infinity
                for j in 0..<n { maxLogit = max(maxLogit, logits[j]) }
                var sum: Float = 0
                for j in 0..<n {
                    let e = expf(logits[j] - maxLogit)
                    d[j] = e
                    sum += e
                }
                let inverse = 1 / sum
                for j in 0..<n { d[j] = d[j] * inverse * scale }
                let label = labels[i]
                d[label] -= scale
                // logsumexp(h_i) − h_i[y] = log(sum) + (m − h_i[y]): the difference first, so a
                // small log(sum) is not lost against a large m.
                rowLoss[i] = logf(sum) + (maxLogit - logits[label])
            }
        case (.meanSquaredError, .values(let y, let ldy)):
            // delta_ij = 2(h_ij − y_ij)/(B·n) · f'(a_ij); row loss = Σ_j (h_ij − y_ij)² / n.
            let perOutput = 1 / Float(n)
            let gradientScale = 2 * scale * perOutput
            for i in rows {
                let out = h + i * n, pre = a + i * n, target = y + i * ldy, d = delta + i * n
                var sum: Float = 0
                for j in 0..<n {
                    let e = out[j] - target[j]
                    sum += e * e
                    d[j] = gradientScale * e * f.derivative(preActivation: pre[j], activation: out[j])
                }
                rowLoss[i] = sum * perOutput
            }
        default:
            preconditionFailure("loss \(self) called with the wrong kind of targets (validated by callers)")
        }
    }

    /// The mean of `rowLoss[0..<count]`, summed in increasing order in `Double` (so it does
    /// not depend on how rows were split across threads). `count` must be at least 1.
    static func mean(_ rowLoss: UnsafePointer<Float>, count: Int) -> Float {
        var total = 0.0
        for i in 0..<count { total += Double(rowLoss[i]) }
        return Float(total / Double(count))
    }
}
