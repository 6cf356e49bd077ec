// The library's loss and gradients against the float64 reference (GradientReference.swift).
import Backprop
import XCTest

final class GradientReferenceTests: XCTestCase {
    /// Float vs Double: the library computes in Float (ε ≈ 6e-8) over short sums, so 1e-4
    /// relative (see `assertClose`) leaves a wide margin for rounding and none for a wrong term.
    static let tolerance = 1e-4

    /// Compares loss and every layer's dW and db of `problem` with the reference; returns the
    /// worst gradient ratio.
    @discardableResult
    func check(_ problem: GradientProblem, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let (loss, gradients) = try problem.libraryLossAndGradients()
        let expected = ReferenceMLP(problem.model).lossAndGradients(problem.x, problem.referenceTargets, problem.loss)
        XCTAssertEqual(gradients.count, problem.model.layers.count, what, file: file, line: line)
        assertClose([Double(loss)], [expected.loss], tolerance: Self.tolerance, "\(what): loss", file: file, line: line)
        var worst = 0.0
        for l in gradients.indices {
            XCTAssertEqual(gradients[l].weight.shape.rows, problem.model.layers[l].outputSize, file: file, line: line)
            XCTAssertEqual(gradients[l].weight.shape.columns, problem.model.layers[l].inputSize, file: file, line: line)
            worst = max(worst, assertClose(gradients[l].weight.values.map(Double.init), expected.dW[l].flatMap { $0 },
                                           tolerance: Self.tolerance, "\(what): dW[\(l)]", file: file, line: line))
            worst = max(worst, assertClose(gradients[l].bias.map(Double.init), expected.db[l],
                                           tolerance: Self.tolerance, "\(what): db[\(l)]", file: file, line: line))
        }
        // Not vacuous: the first layer's gradient must be non-zero (it depends on every layer above).
        XCTAssertGreaterThan(expected.dW[0].joined().map(abs).max()!, 1e-4, "\(what): degenerate problem", file: file, line: line)
        return worst
    }

    /// Every hidden activation with cross-entropy, and with MSE under every output activation,
    /// on a 3-5-4-3 network (two hidden layers, so delta crosses a hidden activation twice).
    /// Catches a wrong derivative, a wrong loss gradient, a missing 1/B or 1/n, a transposed
    /// product, a dropped bias, or an activation taken from the wrong layer.
    func testEveryActivationAndLossMatchesFloat64Reference() throws {
        var worst = 0.0
        for c in GradientCase.all {
            let problem = try GradientProblem.awayFromKinks(sizes: [3, 5, 4, 3], activations: [c.hidden, c.hidden, c.output],
                                                            loss: c.loss, batch: 4, seed: 11, margin: 1e-3)
            worst = max(worst, try check(problem, "\(c)"))
        }
        print("GradientReferenceTests: worst gradient ratio \(worst) over \(GradientCase.all.count) cases")
    }

    /// A different activation in every layer, so using layer l's activation where layer l−1's
    /// belongs (in the delta recursion) cannot cancel out.
    func testMixedActivationsMatchFloat64Reference() throws {
        let chains: [([Activation], Loss)] = [
            ([.tanh, .relu, .gelu, .identity], .softmaxCrossEntropy),
            ([.leakyReLU(negativeSlope: 0.2), .gelu, .sigmoid, .tanh], .meanSquaredError),
            ([.sigmoid, .identity, .leakyReLU(negativeSlope: 0.05), .sigmoid], .meanSquaredError),
        ]
        for (activations, loss) in chains {
            let problem = try GradientProblem.awayFromKinks(sizes: [3, 5, 4, 4, 2], activations: activations, loss: loss,
                                                            batch: 5, seed: 21, margin: 1e-3)
            try check(problem, "\(activations) \(loss)")
        }
    }

    /// Other shapes: one sample, one input, a single layer, widths that are not multiples of a
    /// SIMD width, a batch larger than the widths.
    func testOtherShapesMatchFloat64Reference() throws {
        let shapes: [([Int], [Activation], Int)] = [
            ([1, 9, 2], [.tanh, .identity], 1),
            ([4, 3], [.identity], 6),
            ([6, 17, 11, 5], [.gelu, .sigmoid, .identity], 13),
            ([5, 33, 3], [.relu, .identity], 40),
        ]
        for (sizes, activations, batch) in shapes {
            for loss in Loss.allCases {
                let problem = try GradientProblem.awayFromKinks(sizes: sizes, activations: activations, loss: loss,
                                                                batch: batch, seed: 31, margin: 1e-3)
                try check(problem, "\(sizes) batch \(batch) \(loss)")
            }
        }
    }
}
