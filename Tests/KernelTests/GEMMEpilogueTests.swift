import Backprop
import XCTest

/// The fused epilogues: forward bias + activation, backward `⊙ f'(a)`, for every activation
/// on every supported instruction set.
final class GEMMEpilogueTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("GEMMEpilogueTests")
    }

    static let activations: [Activation] = [.identity, .relu, .leakyReLU, .leakyReLU(negativeSlope: 0.2), .tanh,
                                            .sigmoid, .gelu]
    /// Edge-heavy shapes: columns not a multiple of any vector width, rows past a tile.
    static let shapes: [(m: Int, n: Int, k: Int)] = [(19, 37, 23), (1, 5, 300), (14, 64, 9), (3, 3, 0), (40, 10, 30)]
    /// The derivative runs per packed block of rows (`mc`) and columns (`nc`): these also span
    /// several of both, with partial last blocks, and a transposed product of several blocks;
    /// a short `k` (row panels outer) over several blocks; a few-rows product (nothing packed).
    static let derivativeShapes = shapes + [(300, 1100, 20), (400, 10, 30), (300, 1100, 10), (12, 77, 40)]

    /// The bias-and-activation shapes: also one of two `k` blocks whose full tiles take the
    /// register epilogue (`op(A)` in place) on the last block only.
    static let biasShapes = shapes + [(20, 70, 1100)]

    /// `C = op(A)·op(B) + bias` within tolerance, and bitwise the plain product plus the bias
    /// (whether the tile adds it in registers or after storing); `output = f(C)` bitwise (the
    /// scalar `Activation` definition); padding of `C` and `output` untouched; with and without
    /// bias and output.
    func testBiasActivation() {
        for isa in supportedISAs {
            for f in Self.activations {
                for s in Self.biasShapes {
                    for (withBias, withOutput) in [(true, true), (false, true), (true, false)] {
                        let g = GEMMCase(m: s.m, n: s.n, k: s.k, transposeA: false, transposeB: true, pad: 3,
                                         seed: UInt64(s.m + s.n + s.k))
                        let bias = randomFloats(s.n, seed: 9).map { $0 * 4 }
                        let ldo = s.n + 1
                        var output = [Float](repeating: -7, count: max(s.m * ldo, 1))
                        let c = bias.withUnsafeBufferPointer { bp in
                            g.run(isa: isa, accumulate: s.k % 2 == 1, epilogue: { out in
                                .biasActivation(bias: withBias ? bp.baseAddress! : nil, activation: f,
                                                output: withOutput ? out : nil, outputLeadingDimension: ldo)
                            }, output: &output)
                        }
                        let plain = g.run(isa: isa, accumulate: s.k % 2 == 1)
                        let label = "\(isa) \(f) \(s) bias \(withBias) output \(withOutput)"
                        var failures = 0
                        for i in 0..<s.m {
                            for j in 0..<s.n {
                                let sum = withBias ? plain[i * g.ldc + j] + bias[j] : plain[i * g.ldc + j]
                                if c[i * g.ldc + j].bitPattern != sum.bitPattern { failures += 1 }
                                var (expected, magnitude) = g.reference(i, j)
                                if s.k % 2 == 1 { expected += Double(g.c[i * g.ldc + j]); magnitude += abs(Double(g.c[i * g.ldc + j])) }
                                if withBias { expected += Double(bias[j]); magnitude += abs(Double(bias[j])) }
                                let ci = c[i * g.ldc + j]
                                if !(abs(Double(ci) - expected) <= g.tolerance(magnitude: magnitude)) { failures += 1 }
                                let o = output[i * ldo + j]
                                if withOutput ? o.bitPattern != f(ci).bitPattern : o != -7 { failures += 1 }
                            }
                            if output[i * ldo + s.n] != -7 { failures += 1 }
                            for j in s.n..<g.ldc where c[i * g.ldc + j] != g.c[i * g.ldc + j] { failures += 1 }
                        }
                        XCTAssertEqual(failures, 0, label)
                    }
                }
            }
        }
    }

    /// The vectorised ReLU and leaky ReLU agree bitwise with the scalar definition on NaN, ±0
    /// and ±∞ (NaN passes through as in PyTorch, −0 stays −0), whichever lanes (vector body or
    /// scalar tail) the values land in on each instruction set.
    func testActivationOfSpecialValues() {
        let specials: [Float] = [.nan, -0.0, 0, .infinity, -.infinity, -1, 1, .leastNonzeroMagnitude]
        for isa in supportedISAs {
            for f in [Activation.relu, .leakyReLU, .leakyReLU(negativeSlope: 0.2)] {
                var g = GEMMCase(m: 3, n: 37, k: 0, transposeA: false, transposeB: true)
                for i in 0..<g.c.count { g.c[i] = specials[(i * 5 + i / 7) % specials.count] }
                var output = [Float](repeating: -7, count: 3 * 37)
                let c = g.run(isa: isa, accumulate: true, epilogue: { out in
                    .biasActivation(bias: nil, activation: f, output: out, outputLeadingDimension: 37)
                }, output: &output)
                var failures = 0
                for i in 0..<3 {
                    for j in 0..<37 {
                        let x = c[i * g.ldc + j], o = output[i * 37 + j]
                        XCTAssertEqual(x.bitPattern, g.c[i * g.ldc + j].bitPattern, "k = 0 leaves C as it was")
                        if x.isNaN ? !o.isNaN : o.bitPattern != f(x).bitPattern { failures += 1 }
                    }
                }
                XCTAssertEqual(failures, 0, "\(isa) \(f)")
            }
        }
    }

    /// `C = (op(A)·op(B)) ⊙ f'(a)`, bitwise equal to the plain product times the scalar
    /// `Activation.derivative`, and within tolerance of the reference.
    func testActivationDerivative() {
        for isa in supportedISAs {
            for f in Self.activations {
                for s in Self.derivativeShapes {
                    let g = GEMMCase(m: s.m, n: s.n, k: s.k, transposeA: false, transposeB: false, pad: 2,
                                     seed: UInt64(3 * s.m + s.n + s.k))
                    let ld = s.n + 5
                    // Pre-activations in [-3, 3), every 7th exactly 0 (where ReLU's f' is 0).
                    let a = randomFloats(s.m * ld, seed: 11).enumerated().map { $0.offset % 7 == 0 ? 0 : 3 * $0.element }
                    let h = a.map { f($0) }
                    let plain = g.run(isa: isa, accumulate: false)
                    var unused: [Float] = [0]
                    let c = a.withUnsafeBufferPointer { ap in
                        h.withUnsafeBufferPointer { hp in
                            g.run(isa: isa, accumulate: false, epilogue: { _ in
                                .activationDerivative(activation: f, preActivation: ap.baseAddress!,
                                                      activationValues: hp.baseAddress!, leadingDimension: ld)
                            }, output: &unused)
                        }
                    }
                    var failures = 0
                    for i in 0..<s.m {
                        for j in 0..<g.ldc {
                            let index = i * g.ldc + j
                            guard j < s.n else {
                                if c[index] != g.c[index] { failures += 1 }
                                continue
                            }
                            let d = f.derivative(preActivation: a[i * ld + j], activation: h[i * ld + j])
                            if c[index].bitPattern != (plain[index] * d).bitPattern { failures += 1 }
                            let (expected, magnitude) = g.reference(i, j)
                            if !(abs(Double(c[index]) - expected * Double(d)) <= g.tolerance(magnitude: magnitude * Double(abs(d)))) {
                                failures += 1
                            }
                        }
                    }
                    XCTAssertEqual(failures, 0, "\(isa) \(f) \(s)")
                }
            }
        }
    }
}
