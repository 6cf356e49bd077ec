// Gradients against central finite differences of the loss: in Double on the float64
// reference (which validates the reference the other gradient tests trust), and in Float
// straight on the library (which needs nothing but the library's own forward pass).
import Backprop
import XCTest

final class GradientFiniteDifferenceTests: XCTestCase {
    /// Double: step 1e-6 gives truncation error ~1e-12·f''' and rounding ~1e-16/1e-6 = 1e-10,
    /// so 1e-6 relative is loose for rounding and tight for any wrong term.
    static let referenceStep = 1e-6
    static let referenceTolerance = 1e-6

    /// Float: the loss carries rounding ~6e-8·|L|, so a step of 3e-3 gives ~1e-5 of noise in the
    /// difference quotient, and truncation ~1.5e-6·f'''. Tolerance 1e-2 relative (see
    /// `assertClose`) is 5× the worst seen (2e-3, sigmoid into sigmoid, first layer, whose
    /// gradients are only ~4e-3 and so nearest that noise floor; most cases are below 3e-4),
    /// and far below the error of any wrong term (≥ 0.1).
    static let libraryStep: Float = 3e-3
    static let libraryTolerance = 1e-2

    /// ReLU units stay this far from their kink (≫ the change a step of 3e-3 can cause, which
    /// is at most step · Σ|h| ≈ 0.015 here), so no difference quotient straddles a kink.
    static let kinkMargin = 0.05

    func problem(_ c: GradientCase) throws -> GradientProblem {
        try GradientProblem.awayFromKinks(sizes: [3, 5, 4, 3], activations: [c.hidden, c.hidden, c.output],
                                          loss: c.loss, batch: 4, seed: 101, margin: Self.kinkMargin)
    }

    /// The reference's analytic gradients against (L(θ+ε) − L(θ−ε)) / 2ε for every parameter,
    /// every activation and loss: catches an error in the reference itself (a wrong derivative
    /// formula, a missing factor) that the reference comparison would otherwise copy.
    func testReferenceGradientsMatchCentralDifferencesInDouble() throws {
        var worst = 0.0
        for c in GradientCase.all {
            let problem = try problem(c)
            let reference = ReferenceMLP(problem.model)
            let (x, targets) = (problem.x, problem.referenceTargets)
            let analytic = reference.lossAndGradients(x, targets, c.loss)
            for l in reference.weights.indices {
                var numeric: [Double] = []
                for p in 0..<reference.parameterCount(layer: l) {
                    var plus = reference, minus = reference
                    plus[layer: l, parameter: p] += Self.referenceStep
                    minus[layer: l, parameter: p] -= Self.referenceStep
                    numeric.append((plus.loss(x, targets, c.loss) - minus.loss(x, targets, c.loss)) / (2 * Self.referenceStep))
                }
                worst = max(worst, assertClose(flatten(analytic.dW[l], analytic.db[l]), numeric,
                                               tolerance: Self.referenceTolerance, "\(c): layer \(l)"))
            }
        }
        print("GradientFiniteDifferenceTests (Double): worst ratio \(worst)")
    }

    /// The library's gradients against central differences of the library's own loss
    /// (`MLP.loss`, forward only) in Float, for every parameter, activation and loss. Needs no
    /// reference: catches any backward-pass error independently of GradientReference.swift.
    func testLibraryGradientsMatchCentralDifferencesInFloat() throws {
        var worst = 0.0
        for c in GradientCase.all {
            let problem = try problem(c)
            let (_, gradients) = try problem.libraryLossAndGradients()
            for l in problem.model.layers.indices {
                let layer = problem.model.layers[l]
                var numeric: [Double] = []
                for p in 0..<layer.parameterCount {
                    var plus = problem.model, minus = problem.model
                    let old = p < layer.weight.count ? layer.weight.values[p] : layer.bias[p - layer.weight.count]
                    let up = old + Self.libraryStep, down = old - Self.libraryStep
                    set(&plus, layer: l, parameter: p, to: up)
                    set(&minus, layer: l, parameter: p, to: down)
                    // Divide by the step actually taken (w ± h rounds in Float).
                    let difference = Double(try problem.libraryLoss(plus)) - Double(try problem.libraryLoss(minus))
                    numeric.append(difference / (Double(up) - Double(down)))
                }
                worst = max(worst, assertClose(flatten(gradients[l]), numeric, tolerance: Self.libraryTolerance,
                                               "\(c): layer \(l)"))
            }
        }
        print("GradientFiniteDifferenceTests (Float): worst ratio \(worst)")
    }

    /// The kink margin is real: every problem used above keeps ReLU units at least
    /// `kinkMargin` from 0 (guards the fixture, which would otherwise let a kink slip in).
    func testProblemsStayAwayFromReLUKinks() throws {
        for c in GradientCase.all where [c.hidden, c.output].contains(where: { if case .relu = $0 { true } else if case .leakyReLU = $0 { true } else { false } }) {
            XCTAssertGreaterThanOrEqual(try problem(c).smallestKinkDistance, Self.kinkMargin, "\(c)")
        }
    }

    func set(_ model: inout MLP, layer l: Int, parameter p: Int, to value: Float) {
        let weights = model.layers[l].weight.count
        if p < weights {
            let columns = model.layers[l].weight.columns
            model.layers[l].weight[p / columns, p % columns] = value
        } else {
            model.layers[l].bias[p - weights] = value
        }
    }
}
