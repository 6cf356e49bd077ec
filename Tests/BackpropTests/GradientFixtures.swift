// Shared set-up for the gradient tests: small models with random biases, inputs and targets,
// every activation/loss combination, and a tensor comparison that names the worst element.
import Backprop
import XCTest

/// The activations every gradient test covers; leaky ReLU with a non-default slope so a slope
/// ignored or hard-coded to 0.01 shows.
let everyActivation: [Activation] = [.identity, .relu, .leakyReLU(negativeSlope: 0.2), .tanh, .sigmoid, .gelu]

/// One configuration: hidden activation, output activation and loss.
struct GradientCase: CustomStringConvertible {
    var hidden: Activation
    var output: Activation
    var loss: Loss

    var description: String { "hidden \(hidden), output \(output), \(loss)" }

    /// Softmax cross-entropy (identity output) for every hidden activation, and MSE for every
    /// hidden activation × every output activation: 6 + 36 cases.
    static var all: [GradientCase] {
        var cases: [GradientCase] = []
        for hidden in everyActivation {
            cases.append(GradientCase(hidden: hidden, output: .identity, loss: .softmaxCrossEntropy))
            for output in everyActivation { cases.append(GradientCase(hidden: hidden, output: output, loss: .meanSquaredError)) }
        }
        return cases
    }
}

/// A model, a batch and its targets, in Float for the library and in Double for the reference.
struct GradientProblem {
    var model: MLP
    var input: Matrix
    var labels: [Int]
    var targets: Matrix
    var loss: Loss

    /// The batch in Double.
    var x: [[Double]] { input.rowArrays.map { $0.map(Double.init) } }
    /// The targets as the reference takes them.
    var referenceTargets: ReferenceTargets {
        loss == .softmaxCrossEntropy ? .labels(labels) : .values(targets.rowArrays.map { $0.map(Double.init) })
    }

    /// `sizes`/`activations` from `seed`, with biases in ±0.5 (so a bias dropped from the forward
    /// pass shows), inputs in ±1.5, labels in 0..<n and targets in ±0.8.
    init(sizes: [Int], activations: [Activation], loss: Loss, batch: Int, seed: UInt64) throws {
        model = try MLP(sizes: sizes, activations: activations, seed: seed)
        var generator = SplitMix64(seed: seed &+ 0x5EED)
        for l in model.layers.indices {
            model.layers[l].bias = Matrix.random(rows: 1, columns: sizes[l + 1], in: -0.5...0.5,
                                                 generator: &generator).values
        }
        input = Matrix.random(rows: batch, columns: sizes[0], in: -1.5...1.5, generator: &generator)
        let classes = UInt64(sizes[sizes.count - 1])
        labels = (0..<batch).map { _ in Int(generator.next() % classes) }
        targets = Matrix.random(rows: batch, columns: sizes[sizes.count - 1], in: -0.8...0.8, generator: &generator)
        self.loss = loss
    }

    /// The first problem, trying seeds `seed`, `seed + 1`, …, whose pre-activations at every
    /// ReLU-family unit (the only kinks) are at least `margin` from 0 in every sample, so that
    /// a perturbation of a weight by much less than `margin` cannot cross a kink.
    static func awayFromKinks(sizes: [Int], activations: [Activation], loss: Loss, batch: Int, seed: UInt64,
                              margin: Double) throws -> GradientProblem {
        for s in seed..<(seed + 200) {
            let problem = try GradientProblem(sizes: sizes, activations: activations, loss: loss, batch: batch, seed: s)
            if problem.smallestKinkDistance >= margin { return problem }
        }
        // A failure, not a skip: a gradient test must never pass by not running.
        throw BackpropError.invalidConfiguration(
            "test fixture: no seed in \(seed)..<\(seed + 200) keeps every ReLU pre-activation \(margin) from 0")
    }

    /// The smallest `|a|` at a unit with a kink (ReLU, leaky ReLU), over every layer and sample;
    /// infinity when no layer has one.
    var smallestKinkDistance: Double {
        let reference = ReferenceMLP(model)
        let a = reference.forward(x).a
        var smallest = Double.infinity
        for (l, f) in model.activations.enumerated() {
            switch f {
            case .relu, .leakyReLU: smallest = min(smallest, a[l].joined().map(abs).min()!)
            default: break
            }
        }
        return smallest
    }

    /// The library's loss and gradients for this problem.
    func libraryLossAndGradients(_ model: MLP? = nil) throws -> (loss: Float, gradients: [LayerGradients]) {
        let m = model ?? self.model
        return loss == .softmaxCrossEntropy
            ? try m.lossAndGradients(input: input, labels: labels, loss: loss)
            : try m.lossAndGradients(input: input, targets: targets, loss: loss)
    }

    /// The library's loss alone, for `model` (forward only).
    func libraryLoss(_ model: MLP) throws -> Float {
        loss == .softmaxCrossEntropy
            ? try model.loss(input: input, labels: labels, loss: loss)
            : try model.loss(input: input, targets: targets, loss: loss)
    }
}

/// Asserts `|actual[i] − expected[i]| ≤ tolerance·(|expected[i]| + max_j |expected[j]|)` for
/// every `i`: relative to the element and to the tensor's scale, so tiny elements are judged
/// against the tensor and large ones against themselves. Names the worst element on failure.
/// Returns the worst ratio `|actual − expected| / (|expected[i]| + scale)`.
@discardableResult
func assertClose(_ actual: [Double], _ expected: [Double], tolerance: Double, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) -> Double {
    guard actual.count == expected.count else {
        XCTFail("\(what()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return .infinity
    }
    let scale = expected.map(abs).max() ?? 0
    var worst = 0.0, worstIndex = 0
    for i in actual.indices {
        let error = abs(actual[i] - expected[i])
        let ratio = error == 0 ? 0 : error / (abs(expected[i]) + scale)
        if ratio.isNaN || ratio > worst {
            worst = ratio
            worstIndex = i
            if ratio.isNaN { break }
        }
    }
    XCTAssertLessThanOrEqual(worst, tolerance,
                             "\(what()): element \(worstIndex) is \(actual.isEmpty ? .nan : actual[worstIndex]), "
                                 + "expected \(expected.isEmpty ? .nan : expected[worstIndex]) (tensor scale \(scale))",
                             file: file, line: line)
    return worst
}
