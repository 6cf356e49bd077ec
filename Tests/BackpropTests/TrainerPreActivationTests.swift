@testable import Backprop
import XCTest

/// Hidden layers whose `f'` follows from `h` keep no pre-activation buffer (`BatchBuffers`): the
/// trainer evaluates `f'` from `h` there. It must still match the reference for every hidden
/// activation, and keep `a` exactly where `f'` needs it (GELU, leaky ReLU with a negative slope)
/// and for the output layer (the loss reads it).
final class TrainerPreActivationTests: XCTestCase {
    let hidden: [Activation] = [.relu, .leakyReLU(negativeSlope: 0.2), .leakyReLU(negativeSlope: -0.5), .tanh,
                                .sigmoid, .gelu, .identity]

    func testEveryHiddenActivationMatchesReference() throws {
        for f in hidden {
            for reduction in TrainerOptions.Reduction.allCases {
                for threads in [1, 3] {
                    var reference = try MLP(sizes: [5, 9, 7, 4], activations: [f, f, .identity], seed: 21)
                    let trainer = try Trainer(model: reference, loss: .softmaxCrossEntropy,
                                              optimizer: SGD(learningRate: 0.3), threads: threads,
                                              options: TrainerOptions(reduction: reduction))
                    for step in 0..<2 {
                        let context = "\(f) \(reduction) threads \(threads) step \(step)"
                        let x = TrainerFixture.matrix(rows: 16, columns: 5, seed: UInt64(40 + step))
                        let labels = TrainerFixture.labels(count: 16, classes: 4, seed: UInt64(60 + step))
                        let expected = try TrainerFixture.referenceStep(&reference, input: x, labels: labels,
                                                                        loss: .softmaxCrossEntropy, learningRate: 0.3)
                        let actual = try trainer.step(input: x, labels: labels)
                        XCTAssertEqual(actual, expected, accuracy: 1e-5 * max(1, abs(expected)), context)
                        XCTAssertLessThanOrEqual(TrainerFixture.relativeDifference(trainer.model, reference), 1e-5,
                                                 context)
                    }
                }
            }
        }
    }

    func testPreActivationIsKeptExactlyWhereTheDerivativeNeedsIt() {
        let sizes = [9, 7, 4], rows = 10
        for f in hidden {
            let buffers = BatchBuffers(outputSizes: sizes, activations: [f, f, f])
            let needs = f.derivativeNeedsPreActivation
            XCTAssertEqual(buffers.keepsPreActivation, [needs, needs, true], "\(f)")
            XCTAssertEqual(buffers.floatCount(rows: rows), rows * ((needs ? 3 : 2) * (9 + 7) + 3 * 4), "\(f)")
            let base = UnsafeMutablePointer<Float>.allocate(capacity: buffers.floatCount(rows: rows))
            defer { base.deallocate() }
            var end = base
            for l in sizes.indices {
                let (a, h, delta) = buffers.layer(l, base: base, capacityRows: rows)
                // Laid out back to back: a (when kept), h, delta, then the next layer.
                XCTAssertEqual(a, end, "\(f) layer \(l)")
                XCTAssertEqual(h - a, buffers.keepsPreActivation[l] ? rows * sizes[l] : 0, "\(f) layer \(l)")
                XCTAssertEqual(delta - h, rows * sizes[l], "\(f) layer \(l)")
                end = delta + rows * sizes[l]
            }
            XCTAssertEqual(end - base, buffers.floatCount(rows: rows), "\(f)")
        }
    }
}
