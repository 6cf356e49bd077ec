// SplitMix64 and weight initialisation: reproducible, pinned bit for bit, and within the
// schemes' bounds and variances.
import Backprop
import XCTest

final class InitializationTests: XCTestCase {
    /// SplitMix64 against the published sequence for seed 1234567 (the reference C code of
    /// Steele, Lea and Flood as reproduced on Rosetta Code, "Pseudo-random numbers/Splitmix64"):
    /// catches a changed constant, shift or increment.
    func testSplitMix64MatchesTheReferenceSequence() {
        var generator = SplitMix64(seed: 1_234_567)
        let expected: [UInt64] = [0x599E_D017_FB08_FC85, 0x2C73_F084_5854_0FA5, 0x883E_BCE5_A3F2_7C77,
                                  0x3FBE_F740_E917_7B3F, 0xE3B8_3467_08CB_5ECD]
        XCTAssertEqual((0..<5).map { _ in generator.next() }, expected)
    }

    /// The same seed gives bitwise the same model; another seed a different one; and the
    /// generator's state resumes a sequence exactly.
    func testSameSeedSameWeights() throws {
        let a = try MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 7)
        let b = try MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 7)
        let c = try MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 8)
        for l in a.layers.indices {
            XCTAssertEqual(a.layers[l].weight.values.map(\.bitPattern), b.layers[l].weight.values.map(\.bitPattern))
        }
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(a.layers.allSatisfy { $0.bias.allSatisfy { $0 == 0 } }, "biases start at zero")

        var first = SplitMix64(seed: 42)
        _ = first.next()
        var resumed = SplitMix64(seed: 0)
        resumed.state = first.state
        XCTAssertEqual(first.next(), resumed.next())
    }

    /// Golden weights for `MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 7)`,
    /// worked out from the definitions alone (by a 20-line Python script using exact integer
    /// arithmetic for SplitMix64 and numpy.float32 for the two Float roundings), not by
    /// running this library:
    ///
    /// - draw k: `t = SplitMix64(7).next() >> 40` (24 bits), `u = (t − 2²³)·2⁻²³` (exact);
    ///   draws 1…4 give t = 6540257, 281660, 15112256, 9779947.
    /// - layer 0 is ReLU → He: `r = fl(√fl(6/4)) = fl(√1.5) = 0x3F9CC471`; `w = fl(r·u)`.
    /// - layer 1 is identity → Xavier: `r = fl(√fl(6/5)) = 0x3F8C378C`; its first weight is
    ///   draw 13 (layer 0's 12 weights come first, row-major), t = 15401812.
    ///
    /// Fails if the generator, the 24-bit mapping, the bound, the draw order (row-major,
    /// layer by layer) or the default scheme per activation changes.
    func testGoldenWeightsForSeed7() throws {
        var generator = SplitMix64(seed: 7)
        XCTAssertEqual(generator.next() >> 40, 6_540_257)

        let model = try MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 7)
        XCTAssertEqual(Initialization.he.bound(inputSize: 4, outputSize: 3).bitPattern, 0x3F9C_C471)
        XCTAssertEqual(Initialization.xavier.bound(inputSize: 3, outputSize: 2).bitPattern, 0x3F8C_378C)
        let w0 = model.layers[0].weight
        XCTAssertEqual([w0[0, 0], w0[0, 1], w0[0, 2], w0[0, 3]].map(\.bitPattern),
                       [0xBE8A_2B3A, 0xBF97_80EF, 0x3F7B_4E03, 0x3E50_031B])  // −0.26986104, −1.1836222, 0.9816591, 0.20313685
        XCTAssertEqual(w0[1, 0].bitPattern, 0xBDEE_93F6)  // −0.11649315, draw 5
        XCTAssertEqual(w0[2, 3].bitPattern, 0x3F90_2FBC)  // 1.1264567, draw 12
        XCTAssertEqual(model.layers[1].weight[0, 0].bitPattern, 0x3F6A_7429)  // 0.91583496, draw 13
        XCTAssertEqual(model.layers[1].weight[1, 2].bitPattern, 0xBEC2_C6D9)  // −0.38042334, draw 18
    }

    /// He: `|w| ≤ √(6/in)`, variance ≈ bound²/3 = 2/in; Xavier: `|w| ≤ √(6/(in+out))`, variance
    /// ≈ 2/(in+out). 256 × 128 = 32768 draws: the variance estimate's relative standard error
    /// is √(0.8/32768) ≈ 0.5%, so 3% is > 5σ; the mean's standard error is r/√(3·32768) ≈ 0.003·r.
    func testHeAndXavierBoundsAndVariance() throws {
        let cases: [(Activation, Initialization?, Initialization)] = [
            (.relu, nil, .he), (.leakyReLU, nil, .he), (.tanh, nil, .xavier), (.sigmoid, nil, .xavier),
            (.gelu, nil, .xavier), (.identity, nil, .xavier), (.tanh, .he, .he), (.relu, .xavier, .xavier),
        ]
        for (activation, requested, expected) in cases {
            XCTAssertEqual(requested ?? Initialization.default(for: activation), expected)
            var generator = SplitMix64(seed: 2024)
            let layer = try Dense(inputSize: 256, outputSize: 128, activation: activation, initialization: requested,
                                  generator: &generator)
            let bound = expected == .he ? (6.0 / 256).squareRoot() : (6.0 / 384).squareRoot()
            XCTAssertEqual(Double(expected.bound(inputSize: 256, outputSize: 128)), bound, accuracy: 1e-7)
            let w = layer.weight.values.map(Double.init)
            XCTAssertLessThanOrEqual(w.map(abs).max()!, bound, "\(activation) \(expected)")
            XCTAssertGreaterThan(w.map(abs).max()!, 0.99 * bound, "the whole range is used")
            let mean = w.reduce(0, +) / Double(w.count)
            let variance = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(w.count)
            XCTAssertEqual(mean, 0, accuracy: 0.02 * bound, "\(activation) \(expected)")
            XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.03 * bound * bound / 3, "\(activation) \(expected)")
            XCTAssertEqual(generator, {
                var g = SplitMix64(seed: 2024)
                for _ in 0..<(256 * 128) { _ = g.next() }
                return g
            }(), "one draw per weight")
        }
    }

    /// `nextSignedUnitFloat` spans [−1, 1) and `nextUnitFloat` [0, 1), both on a 2⁻²³ / 2⁻²⁴ grid.
    func testUnitFloatRanges() {
        var generator = SplitMix64(seed: 5)
        for _ in 0..<10_000 {
            let s = generator.nextSignedUnitFloat(), u = generator.nextUnitFloat()
            XCTAssertTrue(s >= -1 && s < 1 && u >= 0 && u < 1)
            XCTAssertEqual(s * 0x1p23, (s * 0x1p23).rounded())
            XCTAssertEqual(u * 0x1p24, (u * 0x1p24).rounded())
        }
    }
}

// The script that derived the golden values of `testGoldenWeightsForSeed7` (Python 3, numpy):
//
//     import numpy as np
//     M = (1 << 64) - 1
//     state = 7
//     def next64():
//         global state
//         state = (state + 0x9E3779B97F4A7C15) & M
//         z = state
//         z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
//         z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
//         return z ^ (z >> 31)
//     f32 = np.float32
//     he, xavier = np.sqrt(f32(6) / f32(4)), np.sqrt(f32(6) / f32(3 + 2))
//     for k in range(18):
//         t = next64() >> 40
//         u = f32(t - (1 << 23)) * f32(2.0 ** -23)
//         w = (he if k < 12 else xavier) * u
//         print(k + 1, t, w, hex(w.view(np.uint32)))
