@testable import Backprop
import Foundation
import XCTest

/// Float64 transcriptions of the published update rules, and a driver that trains the same
/// small MLP with the `Trainer` and with these rules side by side.
///
/// The reference keeps its weights and state in `Double`; each step it takes the gradients of
/// its own weights (rounded to `Float` for `MLP.lossAndGradients`, widened back) and applies the
/// rule in `Double`, written from the paper or PyTorch's documentation, not from the library.
struct ReferenceParameters {
    /// Per tensor, in the trainer's order (`layers[0].weight, layers[0].bias, …`).
    var tensors: [[Double]]
    var isBias: [Bool]

    init(_ model: MLP) {
        tensors = model.layers.flatMap { [$0.weight.values.map(Double.init), $0.bias.map(Double.init)] }
        isBias = model.layers.flatMap { _ in [false, true] }
    }

    /// `template` with these weights rounded to `Float`.
    func model(shapedAs template: MLP) -> MLP {
        var result = template
        for l in result.layers.indices {
            result.layers[l].weight.withUnsafeMutableBufferPointer { w in
                for i in w.indices { w[i] = Float(tensors[2 * l][i]) }
            }
            result.layers[l].bias = tensors[2 * l + 1].map { Float($0) }
        }
        return result
    }
}

/// One rule: updates `p` from gradients `g` at step `t` (1-based).
protocol ReferenceRule {
    mutating func apply(step t: Int, _ p: inout ReferenceParameters, gradients g: [[Double]])
}

/// `√Σ g²` over every tensor.
func referenceGlobalNorm(_ g: [[Double]]) -> Double {
    g.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + $1 * $1 } }.squareRoot()
}

/// `‖x‖`.
func referenceNorm(_ x: [Double]) -> Double { x.reduce(0.0) { $0 + $1 * $1 }.squareRoot() }

/// Clipping by global norm: `g·min(1, maxNorm/‖g‖)`.
func referenceClip(_ g: [[Double]], maxNorm: Double?) -> [[Double]] {
    guard let maxNorm else { return g }
    let norm = referenceGlobalNorm(g)
    guard norm > maxNorm else { return g }
    return g.map { $0.map { $0 * maxNorm / norm } }
}

/// The schedule's formula, written out independently of `LearningRateSchedule`.
struct ReferenceSchedule {
    enum Decay { case constant, step(Int, Double), cosine(Int, Double) }
    var decay = Decay.constant
    var warmup = 0

    func factor(_ t: Int) -> Double {
        if t <= warmup { return Double(t) / Double(warmup) }
        let s = t - warmup - 1
        switch decay {
        case .constant: return 1
        case .step(let k, let gamma): return pow(gamma, Double(s / k))
        case .cosine(let total, let floor):
            let d = Double(total - warmup)
            return floor + (1 - floor) * 0.5 * (1 + cos(Double.pi * min(Double(s), d) / d))
        }
    }
}

/// PyTorch `torch.optim.SGD` (momentum, dampening, nesterov, weight_decay), plus the
/// AdamW-style decoupled decay `p ← p·(1 − lr·λ)`.
struct ReferenceSGD: ReferenceRule {
    var lr: Double, momentum = 0.0, dampening = 0.0, nesterov = false, weightDecay = 0.0
    var decoupled = false, decaysBiases = true
    var schedule = ReferenceSchedule(), clip: Double?
    var buffers: [[Double]] = []

    mutating func apply(step t: Int, _ p: inout ReferenceParameters, gradients: [[Double]]) {
        let gradients = referenceClip(gradients, maxNorm: clip)
        let rate = lr * schedule.factor(t)
        if buffers.isEmpty { buffers = gradients.map { [Double](repeating: 0, count: $0.count) } }
        for i in p.tensors.indices {
            let wd = p.isBias[i] && !decaysBiases ? 0 : weightDecay
            for j in p.tensors[i].indices {
                if decoupled { p.tensors[i][j] *= 1 - rate * wd }
                var d = gradients[i][j]
                if !decoupled { d += wd * p.tensors[i][j] }
                if momentum != 0 {
                    buffers[i][j] = t == 1 ? d : momentum * buffers[i][j] + (1 - dampening) * d
                    d = nesterov ? d + momentum * buffers[i][j] : buffers[i][j]
                }
                p.tensors[i][j] -= rate * d
            }
        }
    }
}

/// PyTorch `torch.optim.Adam` (L2 `weight_decay`) and `torch.optim.AdamW` (decoupled).
struct ReferenceAdam: ReferenceRule {
    var lr: Double, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0, decoupled = false
    var schedule = ReferenceSchedule(), clip: Double?
    var m: [[Double]] = [], v: [[Double]] = []

    mutating func apply(step t: Int, _ p: inout ReferenceParameters, gradients: [[Double]]) {
        let gradients = referenceClip(gradients, maxNorm: clip)
        let rate = lr * schedule.factor(t)
        if m.isEmpty {
            m = gradients.map { [Double](repeating: 0, count: $0.count) }
            v = m
        }
        let bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
        for i in p.tensors.indices {
            for j in p.tensors[i].indices {
                var g = gradients[i][j]
                if decoupled { p.tensors[i][j] *= 1 - rate * weightDecay } else { g += weightDecay * p.tensors[i][j] }
                m[i][j] = beta1 * m[i][j] + (1 - beta1) * g
                v[i][j] = beta2 * v[i][j] + (1 - beta2) * g * g
                let denom = v[i][j].squareRoot() / bc2.squareRoot() + eps
                p.tensors[i][j] -= rate / bc1 * m[i][j] / denom
            }
        }
    }
}

/// LARS, You, Gitman & Ginsburg 2017, Algorithm 1 (biases: plain momentum SGD unless adapted).
struct ReferenceLARS: ReferenceRule {
    var lr: Double, momentum = 0.9, weightDecay = 0.0005, trust = 0.001, adaptsBiases = false
    var schedule = ReferenceSchedule(), clip: Double?
    var velocity: [[Double]] = []
    /// The trust ratios λ of the last step, per tensor.
    var lastRatios: [Double] = []

    mutating func apply(step t: Int, _ p: inout ReferenceParameters, gradients: [[Double]]) {
        let gradients = referenceClip(gradients, maxNorm: clip)
        let gamma = lr * schedule.factor(t)
        if velocity.isEmpty { velocity = gradients.map { [Double](repeating: 0, count: $0.count) } }
        lastRatios = []
        for i in p.tensors.indices {
            let adapted = !p.isBias[i] || adaptsBiases
            let wNorm = referenceNorm(p.tensors[i]), gNorm = referenceNorm(gradients[i])
            let beta = adapted ? weightDecay : 0
            let local = adapted && wNorm > 0 && gNorm > 0 ? trust * wNorm / (gNorm + weightDecay * wNorm) : 1
            lastRatios.append(local)
            for j in p.tensors[i].indices {
                velocity[i][j] = momentum * velocity[i][j] + gamma * local * (gradients[i][j] + beta * p.tensors[i][j])
                p.tensors[i][j] -= velocity[i][j]
            }
        }
    }
}

/// LAMB, You et al. 2019, Algorithm 2 with `φ(z) = min(z, 10)` (biases: Adam step unless adapted).
struct ReferenceLAMB: ReferenceRule {
    var lr: Double, beta1 = 0.9, beta2 = 0.999, eps = 1e-6, weightDecay = 0.01, maxNorm = 10.0
    var adaptsBiases = false
    var schedule = ReferenceSchedule(), clip: Double?
    var m: [[Double]] = [], v: [[Double]] = []
    var lastRatios: [Double] = []

    mutating func apply(step t: Int, _ p: inout ReferenceParameters, gradients: [[Double]]) {
        let gradients = referenceClip(gradients, maxNorm: clip)
        let rate = lr * schedule.factor(t)
        if m.isEmpty {
            m = gradients.map { [Double](repeating: 0, count: $0.count) }
            v = m
        }
        let bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
        lastRatios = []
        for i in p.tensors.indices {
            let adapted = !p.isBias[i] || adaptsBiases
            var u = [Double](repeating: 0, count: p.tensors[i].count)
            for j in u.indices {
                let g = gradients[i][j]
                m[i][j] = beta1 * m[i][j] + (1 - beta1) * g
                v[i][j] = beta2 * v[i][j] + (1 - beta2) * g * g
                let r = (m[i][j] / bc1) / ((v[i][j] / bc2).squareRoot() + eps)
                u[j] = r + (adapted ? weightDecay * p.tensors[i][j] : 0)
            }
            let wNorm = referenceNorm(p.tensors[i]), uNorm = referenceNorm(u)
            let ratio = adapted && wNorm > 0 && uNorm > 0 ? min(wNorm, maxNorm) / uNorm : 1
            lastRatios.append(ratio)
            for j in u.indices { p.tensors[i][j] -= rate * ratio * u[j] }
        }
    }
}

/// Trains `model` for `steps` steps with `optimizer` in a `Trainer` (`threads` threads) and
/// with `rule` in `Double`, on the same batches; returns the worst `|a − b| / max(1, |b|)`
/// over all parameters after the last step, the trainer and the reference.
func compareWithReference<Rule: ReferenceRule>(
    _ optimizer: any Optimizer, _ rule: inout Rule, model: MLP, steps: Int, threads: Int = 3,
    batchSize: Int = 24, inputScale: Float = 1
) throws -> (worst: Double, trainer: Trainer, reference: ReferenceParameters) {
    let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: optimizer, threads: threads)
    var reference = ReferenceParameters(model)
    for t in 1...steps {
        let x = TrainerFixture.matrix(rows: batchSize, columns: model.inputSize, seed: UInt64(100 + t), scale: inputScale)
        let labels = TrainerFixture.labels(count: batchSize, classes: model.outputSize, seed: UInt64(200 + t))
        _ = try trainer.step(input: x, labels: labels)
        let (_, gradients) = try reference.model(shapedAs: model).lossAndGradients(
            input: x, labels: labels, loss: .softmaxCrossEntropy)
        let g = gradients.flatMap { [$0.weight.values.map(Double.init), $0.bias.map(Double.init)] }
        rule.apply(step: t, &reference, gradients: g)
    }
    return (worstDifference(trainer.model, reference), trainer, reference)
}

/// Worst `|a − b| / max(1, |b|)` between a model's parameters and the reference's.
func worstDifference(_ model: MLP, _ reference: ReferenceParameters) -> Double {
    let values = model.layers.flatMap { [$0.weight.values, $0.bias] }
    var worst = 0.0
    for (a, b) in zip(values, reference.tensors) {
        for (x, y) in zip(a, b) { worst = max(worst, abs(Double(x) - y) / max(1, abs(y))) }
    }
    return worst
}

/// Worst `|a − b| / max(1, |b|)` between the weights of two models (how far apart two
/// optimizers' results are, to show a tolerance is meaningful).
func worstDifference(_ a: MLP, _ b: MLP) -> Double {
    worstDifference(a, ReferenceParameters(b))
}
