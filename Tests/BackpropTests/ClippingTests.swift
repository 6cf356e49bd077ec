@testable import Backprop
import XCTest

/// Clipping by global gradient norm: on, the gradient applied has exactly the maximum norm;
/// off (or under the limit), the step is bitwise the unclipped one.
final class ClippingTests: XCTestCase {
    private var model: MLP!

    override func setUpWithError() throws {
        model = try MLP(sizes: [5, 9, 7, 4], activations: [.relu, .tanh, .identity], seed: 11)
    }
    private let x = TrainerFixture.matrix(rows: 16, columns: 5, seed: 1, scale: 3)
    private let labels = TrainerFixture.labels(count: 16, classes: 4, seed: 2)

    /// The global norm of the batch gradient at `model`, from the reference backpropagation.
    private func globalGradientNorm() throws -> Double {
        let (_, gradients) = try model.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy)
        return gradients.reduce(0.0) { sum, layer in
            sum + (layer.weight.values + layer.bias).reduce(0.0) { $0 + Double($1) * Double($1) }
        }.squareRoot()
    }

    /// One plain-SGD step with rate 1: the applied gradient is `W_before − W_after`.
    private func appliedGradient(clipping: GradientClipping?, threads: Int = 3) throws -> (norm: Double, model: MLP) {
        let sgd = try SGD(learningRate: 1, momentum: 0, clipping: clipping)
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: sgd, threads: threads)
        XCTAssertEqual(sgd.requestedNorms, clipping == nil ? [] : .gradients)
        _ = try trainer.step(input: x, labels: labels)
        var squares = 0.0
        for (before, after) in zip(model.layers, trainer.model.layers) {
            for (u, v) in zip(before.weight.values + before.bias, after.weight.values + after.bias) {
                squares += (Double(u) - Double(v)) * (Double(u) - Double(v))
            }
        }
        return (squares.squareRoot(), trainer.model)
    }

    func testClippingScalesTheGradientExactlyToTheMaximumNorm() throws {
        let norm = try globalGradientNorm()
        XCTAssertGreaterThan(norm, 0.1, "fixture: the gradient must be large enough to clip")
        let maxNorm = Float(norm / 4)
        let (applied, _) = try appliedGradient(clipping: GradientClipping(maxNorm: maxNorm))
        // Measured from W − W′ in Float: rounding of the weights limits the agreement to ~1e-6.
        XCTAssertEqual(applied, Double(maxNorm), accuracy: 1e-5 * Double(maxNorm))
        let (unclipped, _) = try appliedGradient(clipping: nil)
        XCTAssertEqual(unclipped, norm, accuracy: 1e-5 * norm)
    }

    func testClippingOffOrUnderTheLimitChangesNothingBitwise() throws {
        let norm = try globalGradientNorm()
        let (_, off) = try appliedGradient(clipping: nil)
        let (_, under) = try appliedGradient(clipping: GradientClipping(maxNorm: Float(norm * 2)))
        let plain = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 1), threads: 3)
        _ = try plain.step(input: x, labels: labels)
        XCTAssertEqual(TrainerFixture.bits(off), TrainerFixture.bits(plain.model))
        XCTAssertEqual(TrainerFixture.bits(under), TrainerFixture.bits(plain.model))
        // And clipping does change the result when the norm is over the limit.
        let (_, clipped) = try appliedGradient(clipping: GradientClipping(maxNorm: Float(norm / 2)))
        XCTAssertNotEqual(TrainerFixture.bits(clipped), TrainerFixture.bits(plain.model))
    }

    func testClippedResultDoesNotDependOnTheThreadCount() throws {
        let clip = try GradientClipping(maxNorm: Float(try globalGradientNorm() / 3))
        let reference = try appliedGradient(clipping: clip, threads: 1).model
        for threads in [2, 3, 4, 7] {
            XCTAssertEqual(TrainerFixture.bits(try appliedGradient(clipping: clip, threads: threads).model),
                           TrainerFixture.bits(reference), "threads \(threads)")
        }
    }

    func testFactor() throws {
        let clip = try GradientClipping(maxNorm: 2)
        XCTAssertEqual(clip.factor(globalNorm: 8), 0.25)
        XCTAssertEqual(clip.factor(globalNorm: 2), 1, "exactly at the limit: unchanged")
        XCTAssertEqual(clip.factor(globalNorm: 1), 1)
        XCTAssertEqual(clip.factor(globalNorm: 0), 1)
        for bad: Float in [0, -1, .infinity, .nan] {
            XCTAssertThrowsError(try GradientClipping(maxNorm: bad)) { error in
                XCTAssertTrue("\(error)".contains("clipping norm"), "\(error)")
            }
        }
    }

    func testThePreparedStepCarriesTheClippingFactor() throws {
        let clip = try GradientClipping(maxNorm: 3)
        let optimizers: [any Optimizer] = [
            try SGD(learningRate: 1, momentum: 0.9, clipping: clip), try Adam(clipping: clip), try AdamW(clipping: clip),
            try LARS(learningRate: 1, clipping: clip), try LAMB(clipping: clip),
        ]
        for optimizer in optimizers {
            XCTAssertTrue(optimizer.requestedNorms.contains(.gradients), "\(type(of: optimizer))")
            XCTAssertEqual(optimizer.prepare(step: 2, globalNorms: TensorNorms(gradients: 12)).gradientScale, 0.25)
            XCTAssertEqual(optimizer.prepare(step: 2, globalNorms: TensorNorms(gradients: 1)).gradientScale, 1)
        }
        // Without clipping, no gradient norms are requested (the pass is skipped).
        XCTAssertEqual(try SGD(learningRate: 1, momentum: 0.9).requestedNorms, [])
        XCTAssertEqual(try Adam().requestedNorms, [])
        XCTAssertEqual(try LAMB().requestedNorms, [.parameters, .updates])
    }
}
