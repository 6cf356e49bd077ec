// Activation functions and derivatives: against finite differences, against an independent
// Double implementation, and at saturating magnitudes.
import Backprop
import XCTest

final class ActivationTests: XCTestCase {
    /// Pre-activations from −8 to 8 in steps of 0.37 (never closer than 0.03 to the ReLU kink
    /// at 0), plus large magnitudes where tanh, sigmoid and GELU saturate.
    static let grid: [Float] = stride(from: -8, through: 8, by: 0.37).map { Float($0) } + [-80, -30, -12, 12, 30, 80]

    /// `f'(a)` (given `a` and `h = f(a)`, as the kernels call it) against the central
    /// difference (f(a+s) − f(a−s)) / 2s of the library's own `f`, s = 1e-2·max(1, |a|/8),
    /// for every activation: catches a wrong derivative formula or one evaluated from the
    /// wrong argument (h where a belongs). Tolerance 1e-3 absolute + 1e-3 relative: truncation
    /// is ≤ s²·max|f'''|/6 ≈ 2e-5 and Float rounding ≤ 6e-8·|f|/s ≈ 5e-4 at |a| = 80.
    func testDerivativeMatchesCentralDifference() {
        for f in everyActivation {
            for a in Self.grid {
                let s = 1e-2 * max(1, abs(a) / 8)
                switch f {
                case .relu, .leakyReLU: XCTAssertGreaterThan(abs(a), s, "the difference must not straddle the kink")
                default: break
                }
                let up = a + s, down = a - s
                let numeric = (Double(f(up)) - Double(f(down))) / (Double(up) - Double(down))
                let analytic = f.derivative(preActivation: a, activation: f(a))
                XCTAssertFalse(analytic.isNaN, "\(f)'(\(a)) is NaN")
                XCTAssertEqual(Double(analytic), numeric, accuracy: 1e-3 + 1e-3 * abs(numeric), "\(f)'(\(a))")
            }
        }
    }

    /// `f` and `f'` against Double implementations written independently (erfc-based GELU,
    /// tanh and 1/(1+e^−a) in Double), to 1e-6 absolute + 1e-5 relative: catches e.g. the tanh
    /// approximation of GELU (off by up to 1e-3) or a sigmoid that overflows.
    func testValuesMatchDoubleReference() {
        for f in everyActivation {
            for a in Self.grid {
                let h = f(a)
                let expected = referenceActivation(f, Double(a))
                XCTAssertEqual(Double(h), expected, accuracy: 1e-6 + 1e-5 * abs(expected), "\(f)(\(a))")
                let expectedDerivative = referenceDerivative(f, Double(a))
                XCTAssertEqual(Double(f.derivative(preActivation: a, activation: h)), expectedDerivative,
                               accuracy: 1e-6 + 1e-5 * abs(expectedDerivative), "\(f)'(\(a))")
            }
        }
    }

    /// At ±80, ±1e4 and ±1e30, tanh, sigmoid and GELU give finite values at their limits and
    /// finite derivatives (no NaN from inf/inf or 0·inf): catches a naive 1/(1+e^−a) for
    /// large negative a written as e^a/(1+e^a) without the branch, or GELU's a·φ(a) as inf·0.
    func testSaturationIsFiniteAndAtTheLimits() {
        for a: Float in [80, 1e4, 1e30] {
            let cases: [(Activation, Float, Float, Float, Float)] = [
                // f, f(a), f(−a), f'(a), f'(−a)
                (.tanh, 1, -1, 0, 0),
                (.sigmoid, 1, 0, 0, 0),
                (.gelu, a, 0, 1, 0),
            ]
            for (f, fPlus, fMinus, dPlus, dMinus) in cases {
                let hPlus = f(a), hMinus = f(-a)
                let gPlus = f.derivative(preActivation: a, activation: hPlus)
                let gMinus = f.derivative(preActivation: -a, activation: hMinus)
                for v in [hPlus, hMinus, gPlus, gMinus] { XCTAssertTrue(v.isFinite, "\(f) at ±\(a) gives \(v)") }
                XCTAssertEqual(hPlus, fPlus, accuracy: 1e-6 * max(1, abs(fPlus)), "\(f)(\(a))")
                XCTAssertEqual(hMinus, fMinus, accuracy: 1e-6, "\(f)(\(-a))")
                XCTAssertEqual(gPlus, dPlus, accuracy: 1e-6, "\(f)'(\(a))")
                XCTAssertEqual(gMinus, dMinus, accuracy: 1e-6, "\(f)'(\(-a))")
            }
        }
    }

    /// GELU is the exact a·Φ(a): GELU(1) = Φ(1) = 0.8413447…, GELU(−1) = −0.1586553…, where the
    /// tanh approximation gives 0.8411920 and −0.1588080.
    func testGELUIsTheExactErfForm() {
        XCTAssertEqual(Activation.gelu(1), 0.841_344_75, accuracy: 1e-6)
        XCTAssertEqual(Activation.gelu(-1), -0.158_655_25, accuracy: 1e-6)
        XCTAssertEqual(Activation.gelu.derivative(preActivation: 1, activation: Activation.gelu(1)),
                       Float(0.841_344_746 + 0.241_970_725), accuracy: 1e-6)  // Φ(1) + φ(1)
    }

    /// ReLU: f'(0) = 0 by convention; leaky ReLU uses its own slope on both sides of 0, and
    /// `.leakyReLU` (no argument) is PyTorch's 0.01.
    func testPiecewiseLinearConventions() {
        XCTAssertEqual(Activation.relu.derivative(preActivation: 0, activation: 0), 0)
        XCTAssertEqual(Activation.relu(-3), 0)
        XCTAssertEqual(Activation.relu(2.5), 2.5)
        let leaky = Activation.leakyReLU(negativeSlope: 0.2)
        XCTAssertEqual(leaky(-2), -0.4, accuracy: 1e-7)
        XCTAssertEqual(leaky(3), 3)
        XCTAssertEqual(leaky.derivative(preActivation: -2, activation: leaky(-2)), 0.2)
        XCTAssertEqual(leaky.derivative(preActivation: 2, activation: 2), 1)
        XCTAssertEqual(Activation.leakyReLU, .leakyReLU(negativeSlope: 0.01))
        XCTAssertEqual(Activation.leakyReLU(-100), -1, accuracy: 1e-6)
    }

    /// GELU keeps full relative accuracy in the negative tail (a·Φ(a) through erfc, not 1 + erf).
    func testGELUNegativeTailRelativeAccuracy() {
        for a in [-5.0, -6.0, -8.0] {
            let exact = 0.5 * a * erfc(-a / 2.0.squareRoot())
            let got = Double(Activation.gelu(Float(a)))
            XCTAssertEqual(got, exact, accuracy: abs(exact) * 1e-5, "gelu(\(a))")
            let exactDerivative = 0.5 * erfc(-a / 2.0.squareRoot()) + a * exp(-0.5 * a * a) / (2 * Double.pi).squareRoot()
            let d = Double(Activation.gelu.derivative(preActivation: Float(a), activation: Float(got)))
            XCTAssertEqual(d, exactDerivative, accuracy: abs(exactDerivative) * 1e-4, "gelu'(\(a))")
        }
    }

    /// NaN passes through ReLU and leaky ReLU (as in PyTorch) instead of becoming 0.
    func testNaNPropagatesThroughReLU() {
        XCTAssertTrue(Activation.relu(.nan).isNaN)
        XCTAssertTrue(Activation.leakyReLU(.nan).isNaN)
    }

    /// A negative leaky slope flips the sign of h, so f' must come from a.
    func testNegativeLeakySlopeNeedsPreActivation() {
        XCTAssertTrue(Activation.leakyReLU(negativeSlope: -0.5).derivativeNeedsPreActivation)
        XCTAssertFalse(Activation.leakyReLU(negativeSlope: 0.2).derivativeNeedsPreActivation)
        XCTAssertFalse(Activation.relu.derivativeNeedsPreActivation)
        XCTAssertTrue(Activation.gelu.derivativeNeedsPreActivation)
    }
}
