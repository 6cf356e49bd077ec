// A plain float64 MLP for the gradient tests: forward, loss and backward written as
// straightforward loops over Double arrays, independent of the library's Matrix, kernels,
// Activation functions and Loss code. It reads only the library's parameters and the
// activation cases (to know which function to apply).
import Backprop
import Foundation

/// Targets for the reference loss.
enum ReferenceTargets {
    case labels([Int])
    case values([[Double]])
}

/// `f(a)` in Double, written independently of `Activation.callAsFunction`.
func referenceActivation(_ f: Activation, _ a: Double) -> Double {
    switch f {
    case .identity: return a
    case .relu: return max(a, 0)
    case .leakyReLU(let slope): return a > 0 ? a : Double(slope) * a
    case .tanh: return Foundation.tanh(a)
    case .sigmoid: return 1 / (1 + Foundation.exp(-a))
    case .gelu: return 0.5 * a * Foundation.erfc(-a / 2.0.squareRoot())
    }
}

/// `f'(a)` in Double, analytically, from `a` alone.
func referenceDerivative(_ f: Activation, _ a: Double) -> Double {
    switch f {
    case .identity: return 1
    case .relu: return a > 0 ? 1 : 0
    case .leakyReLU(let slope): return a > 0 ? 1 : Double(slope)
    case .tanh:
        let t = Foundation.tanh(a)
        return 1 - t * t
    case .sigmoid:
        let s = 1 / (1 + Foundation.exp(-a))
        return s * (1 - s)
    case .gelu:
        let cdf = 0.5 * Foundation.erfc(-a / 2.0.squareRoot())
        let pdf = Foundation.exp(-0.5 * a * a) / (2 * Double.pi).squareRoot()
        return cdf + a * pdf
    }
}

/// An MLP in Double: `weights[l][o][i]`, `biases[l][o]`, one activation per layer.
struct ReferenceMLP {
    var weights: [[[Double]]]
    var biases: [[Double]]
    var activations: [Activation]

    init(_ model: MLP) {
        weights = model.layers.map { layer in layer.weight.rowArrays.map { $0.map(Double.init) } }
        biases = model.layers.map { $0.bias.map(Double.init) }
        activations = model.activations
    }

    /// Forward pass for every sample: `a[l][s][o]` (pre-activations) and `h[l][s][·]`
    /// (`h[0]` is the input, `h[l+1] = f(a[l])`).
    func forward(_ x: [[Double]]) -> (a: [[[Double]]], h: [[[Double]]]) {
        var a: [[[Double]]] = []
        var h: [[[Double]]] = [x]
        for l in weights.indices {
            var al: [[Double]] = []
            var hl: [[Double]] = []
            for sample in h[l] {
                var row = [Double](repeating: 0, count: weights[l].count)
                for o in weights[l].indices {
                    var sum = biases[l][o]
                    for i in sample.indices { sum += weights[l][o][i] * sample[i] }
                    row[o] = sum
                }
                al.append(row)
                hl.append(row.map { referenceActivation(activations[l], $0) })
            }
            a.append(al)
            h.append(hl)
        }
        return (a, h)
    }

    /// The mean loss and `dLoss/dh` of the outputs, per sample.
    func lossAndOutputGradient(_ output: [[Double]], _ targets: ReferenceTargets, _ loss: Loss)
        -> (loss: Double, dh: [[Double]]) {
        let batch = Double(output.count)
        var total = 0.0
        var dh: [[Double]] = []
        switch (loss, targets) {
        case (.softmaxCrossEntropy, .labels(let labels)):
            for (s, z) in output.enumerated() {
                let m = z.max()!
                let sum = z.reduce(0) { $0 + Foundation.exp($1 - m) }
                total += Foundation.log(sum) + m - z[labels[s]]
                var g = z.map { Foundation.exp($0 - m) / sum / batch }
                g[labels[s]] -= 1 / batch
                dh.append(g)
            }
        case (.meanSquaredError, .values(let y)):
            let n = Double(output[0].count)
            for (s, z) in output.enumerated() {
                var g = [Double](repeating: 0, count: z.count)
                for j in z.indices {
                    let e = z[j] - y[s][j]
                    total += e * e / n
                    g[j] = 2 * e / (batch * n)
                }
                dh.append(g)
            }
        default:
            fatalError("reference: loss \(loss) with the wrong targets")
        }
        return (total / batch, dh)
    }

    /// The mean loss alone.
    func loss(_ x: [[Double]], _ targets: ReferenceTargets, _ loss: Loss) -> Double {
        lossAndOutputGradient(forward(x).h.last!, targets, loss).loss
    }

    /// The mean loss and, per layer, `dW[l][o][i]` and `db[l][o]`, by the chain rule written out.
    func lossAndGradients(_ x: [[Double]], _ targets: ReferenceTargets, _ loss: Loss)
        -> (loss: Double, dW: [[[Double]]], db: [[Double]]) {
        let (a, h) = forward(x)
        let (value, dh) = lossAndOutputGradient(h.last!, targets, loss)
        let L = weights.count
        var dW = weights.map { $0.map { [Double](repeating: 0, count: $0.count) } }
        var db = biases.map { [Double](repeating: 0, count: $0.count) }
        for s in x.indices {
            // delta = dLoss/da for this sample, layer by layer from the top.
            var delta = zip(dh[s], a[L - 1][s]).map { $0 * referenceDerivative(activations[L - 1], $1) }
            for l in stride(from: L - 1, through: 0, by: -1) {
                for o in weights[l].indices {
                    db[l][o] += delta[o]
                    for i in weights[l][o].indices { dW[l][o][i] += delta[o] * h[l][s][i] }
                }
                if l > 0 {
                    var below = [Double](repeating: 0, count: weights[l][0].count)
                    for i in below.indices {
                        var sum = 0.0
                        for o in weights[l].indices { sum += weights[l][o][i] * delta[o] }
                        below[i] = sum * referenceDerivative(activations[l - 1], a[l - 1][s][i])
                    }
                    delta = below
                }
            }
        }
        return (value, dW, db)
    }

    /// Number of parameters of layer `l` (weights row-major, then biases).
    func parameterCount(layer l: Int) -> Int { weights[l].count * weights[l][0].count + biases[l].count }

    /// Parameter `p` of layer `l` in the order weights (row-major) then biases.
    subscript(layer l: Int, parameter p: Int) -> Double {
        get {
            let w = weights[l].count * weights[l][0].count
            return p < w ? weights[l][p / weights[l][0].count][p % weights[l][0].count] : biases[l][p - w]
        }
        set {
            let w = weights[l].count * weights[l][0].count
            if p < w { weights[l][p / weights[l][0].count][p % weights[l][0].count] = newValue } else {
                biases[l][p - w] = newValue
            }
        }
    }
}

/// Gradients flattened per layer in the order weights (row-major) then biases.
func flatten(_ dW: [[Double]], _ db: [Double]) -> [Double] { dW.flatMap { $0 } + db }
func flatten(_ g: LayerGradients) -> [Double] { g.weight.values.map(Double.init) + g.bias.map(Double.init) }
