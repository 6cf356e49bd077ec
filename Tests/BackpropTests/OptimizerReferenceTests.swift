@testable import Backprop
import Foundation
import XCTest

/// Each optimizer, trained through the `Trainer` (3 threads, so tensors are split into several
/// chunks), against a float64 transcription of its published rule (`OptimizerReferenceSupport`)
/// over 5 steps on a small MLP.
///
/// Tolerance: the worst `|w − w_ref| / max(1, |w_ref|)` over all parameters must stay below
/// `1e-5`. The trainer computes in `Float` (rounding ~6e-8 per operation) on gradients of its
/// own `Float` weights; the differences observed are about 1e-7 to 1e-6. Each test also checks
/// that the weights moved by far more than the tolerance, and that a variant of the rule
/// (another option value) lands outside it, so agreement is not an accident.
final class OptimizerReferenceTests: XCTestCase {
    static let tolerance = 1e-5
    static let steps = 5

    private func model() throws -> MLP {
        try MLP(sizes: [6, 10, 8, 3], activations: [.relu, .tanh, .identity], seed: 21)
    }

    /// Runs both, asserts agreement and that the weights moved; returns the trained model.
    @discardableResult
    private func check<Rule: ReferenceRule>(_ name: String, _ optimizer: any Optimizer, _ rule: Rule,
                                            threads: Int = 3, file: StaticString = #filePath,
                                            line: UInt = #line) throws -> MLP {
        var rule = rule
        let start = try model()
        let (worst, trainer, _) = try compareWithReference(optimizer, &rule, model: start, steps: Self.steps,
                                                          threads: threads)
        // OPTIM_PRINT=1 prints the differences (to recalibrate the tolerance).
        if ProcessInfo.processInfo.environment["OPTIM_PRINT"] != nil { print("\(name): worst \(worst)") }
        XCTAssertLessThan(worst, Self.tolerance, "\(name): trainer vs float64 reference", file: file, line: line)
        let moved = worstDifference(trainer.model, start)
        XCTAssertGreaterThan(moved, 100 * Self.tolerance, "\(name): the weights barely moved", file: file, line: line)
        XCTAssertEqual(trainer.stepCount, Self.steps, file: file, line: line)
        return trainer.model
    }

    // MARK: - SGD

    func testPlainSGD() throws {
        try check("sgd", SGD(learningRate: 0.5), ReferenceSGD(lr: 0.5))
    }

    func testSGDMomentum() throws {
        let a = try check("momentum", SGD(learningRate: 0.2, momentum: 0.9), ReferenceSGD(lr: 0.2, momentum: 0.9))
        // Without momentum the result differs by far more than the tolerance.
        let plain = try check("sgd lr 0.2", SGD(learningRate: 0.2), ReferenceSGD(lr: 0.2))
        XCTAssertGreaterThan(worstDifference(a, plain), 100 * Self.tolerance)
    }

    func testSGDMomentumWithDampeningAndL2() throws {
        let a = try check("dampening+L2", SGD(learningRate: 0.2, momentum: 0.8, dampening: 0.3, weightDecay: 0.05),
                          ReferenceSGD(lr: 0.2, momentum: 0.8, dampening: 0.3, weightDecay: 0.05))
        let b = try check("L2", SGD(learningRate: 0.2, momentum: 0.8, weightDecay: 0.05),
                          ReferenceSGD(lr: 0.2, momentum: 0.8, weightDecay: 0.05))
        XCTAssertGreaterThan(worstDifference(a, b), 10 * Self.tolerance, "dampening must matter")
    }

    func testSGDNesterov() throws {
        let a = try check("nesterov", SGD(learningRate: 0.2, momentum: 0.9, nesterov: true, weightDecay: 0.01),
                          ReferenceSGD(lr: 0.2, momentum: 0.9, nesterov: true, weightDecay: 0.01))
        let b = try check("heavy ball", SGD(learningRate: 0.2, momentum: 0.9, weightDecay: 0.01),
                          ReferenceSGD(lr: 0.2, momentum: 0.9, weightDecay: 0.01))
        XCTAssertGreaterThan(worstDifference(a, b), 100 * Self.tolerance)
    }

    func testSGDDecoupledWeightDecay() throws {
        let a = try check("decoupled", SGD(learningRate: 0.2, momentum: 0.9, weightDecay: 0.1, weightDecayMode: .decoupled),
                          ReferenceSGD(lr: 0.2, momentum: 0.9, weightDecay: 0.1, decoupled: true))
        let b = try check("l2", SGD(learningRate: 0.2, momentum: 0.9, weightDecay: 0.1),
                          ReferenceSGD(lr: 0.2, momentum: 0.9, weightDecay: 0.1))
        XCTAssertGreaterThan(worstDifference(a, b), 10 * Self.tolerance)
    }

    func testSGDBiasesExcludedFromDecay() throws {
        let a = try check("no bias decay", SGD(learningRate: 0.2, momentum: 0.5, weightDecay: 0.5, decaysBiases: false),
                          ReferenceSGD(lr: 0.2, momentum: 0.5, weightDecay: 0.5, decaysBiases: false))
        let b = try check("bias decay", SGD(learningRate: 0.2, momentum: 0.5, weightDecay: 0.5),
                          ReferenceSGD(lr: 0.2, momentum: 0.5, weightDecay: 0.5))
        XCTAssertGreaterThan(worstDifference(a, b), 10 * Self.tolerance)
    }

    // MARK: - Adam

    func testAdam() throws {
        try check("adam", Adam(learningRate: 0.01), ReferenceAdam(lr: 0.01))
    }

    func testAdamWithL2AndCustomBetas() throws {
        try check("adam l2", Adam(learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1),
                  ReferenceAdam(lr: 0.02, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1))
    }

    func testAdamW() throws {
        let a = try check("adamw", AdamW(learningRate: 0.01, weightDecay: 0.5),
                          ReferenceAdam(lr: 0.01, weightDecay: 0.5, decoupled: true))
        let b = try check("adam l2", Adam(learningRate: 0.01, weightDecay: 0.5),
                          ReferenceAdam(lr: 0.01, weightDecay: 0.5))
        XCTAssertGreaterThan(worstDifference(a, b), 10 * Self.tolerance)
    }

    // MARK: - LARS and LAMB

    func testLARS() throws {
        try check("lars", LARS(learningRate: 5, momentum: 0.9, weightDecay: 0.0005),
                  ReferenceLARS(lr: 5, momentum: 0.9, weightDecay: 0.0005))
    }

    func testLARSAdaptingBiasesDiffers() throws {
        let a = try check("lars adapting biases", LARS(learningRate: 5, weightDecay: 0.01, adaptsBiases: true),
                          ReferenceLARS(lr: 5, weightDecay: 0.01, adaptsBiases: true))
        let b = try check("lars", LARS(learningRate: 5, weightDecay: 0.01), ReferenceLARS(lr: 5, weightDecay: 0.01))
        XCTAssertGreaterThan(worstDifference(a, b), 10 * Self.tolerance)
    }

    func testLARSTrustRatioMatchesThePaper() throws {
        let lars = try LARS(learningRate: 1, weightDecay: 0.1, trustCoefficient: 0.02)
        // λ = η‖w‖/(‖g‖ + β‖w‖) = 0.02·3/(4 + 0.3)
        XCTAssertEqual(lars.trustRatio(TensorNorms(parameters: 3, gradients: 4)), Float(0.02 * 3 / 4.3), accuracy: 1e-9)
        // Clipped gradients: ‖g‖ scaled by c.
        XCTAssertEqual(lars.trustRatio(TensorNorms(parameters: 3, gradients: 4), gradientScale: 0.5),
                       Float(0.02 * 3 / 2.3), accuracy: 1e-9)
        XCTAssertEqual(lars.trustRatio(TensorNorms(parameters: 0, gradients: 4)), 1)
        XCTAssertEqual(lars.trustRatio(TensorNorms(parameters: 3, gradients: 0)), 1)
    }

    func testLAMB() throws {
        try check("lamb", LAMB(learningRate: 0.02, weightDecay: 0.01), ReferenceLAMB(lr: 0.02, weightDecay: 0.01))
    }

    func testLAMBClampsTheWeightNormAndAdaptsBiasesOnRequest() throws {
        // maxTrustNorm below the layers' norms: φ = the clamp.
        let a = try check("lamb clamp", LAMB(learningRate: 0.02, weightDecay: 0.1, maxTrustNorm: 0.5, adaptsBiases: true),
                          ReferenceLAMB(lr: 0.02, weightDecay: 0.1, maxNorm: 0.5, adaptsBiases: true))
        let b = try check("lamb", LAMB(learningRate: 0.02, weightDecay: 0.1, adaptsBiases: true),
                          ReferenceLAMB(lr: 0.02, weightDecay: 0.1, adaptsBiases: true))
        XCTAssertGreaterThan(worstDifference(a, b), 10 * Self.tolerance)
    }

    func testLAMBTrustRatio() throws {
        let lamb = try LAMB(maxTrustNorm: 10)
        XCTAssertEqual(lamb.trustRatio(TensorNorms(parameters: 3, updates: 4)), 0.75)
        XCTAssertEqual(lamb.trustRatio(TensorNorms(parameters: 30, updates: 4)), 2.5)
        XCTAssertEqual(lamb.trustRatio(TensorNorms(parameters: 0, updates: 4)), 1)
        XCTAssertEqual(lamb.trustRatio(TensorNorms(parameters: 3, updates: 0)), 1)
    }

    // MARK: - With schedules and clipping

    func testScheduledAndClippedOptimizers() throws {
        let schedule = try LearningRateSchedule(decay: .cosine(totalSteps: 6, floor: 0.1), warmupSteps: 2)
        let reference = ReferenceSchedule(decay: .cosine(6, 0.1), warmup: 2)
        let clip = try GradientClipping(maxNorm: 0.05)
        try check("momentum, warm-up+cosine, clipped",
                  SGD(learningRate: 0.5, momentum: 0.9, nesterov: true, schedule: schedule, clipping: clip),
                  ReferenceSGD(lr: 0.5, momentum: 0.9, nesterov: true, schedule: reference, clip: 0.05))
        try check("adamw, warm-up+cosine, clipped", AdamW(learningRate: 0.02, schedule: schedule, clipping: clip),
                  ReferenceAdam(lr: 0.02, weightDecay: 0.01, decoupled: true, schedule: reference, clip: 0.05))
        try check("lars, warm-up+cosine, clipped", LARS(learningRate: 5, schedule: schedule, clipping: clip),
                  ReferenceLARS(lr: 5, schedule: reference, clip: 0.05))
        try check("lamb, warm-up+cosine, clipped", LAMB(learningRate: 0.02, schedule: schedule, clipping: clip),
                  ReferenceLAMB(lr: 0.02, schedule: reference, clip: 0.05))
        let stepSchedule = try LearningRateSchedule(decay: .step(every: 2, factor: 0.5), warmupSteps: 1)
        try check("adam, step decay", Adam(learningRate: 0.02, schedule: stepSchedule),
                  ReferenceAdam(lr: 0.02, schedule: ReferenceSchedule(decay: .step(2, 0.5), warmup: 1)))
    }

    // MARK: - Thread counts

    func testOptimizersAreBitwiseIndependentOfTheThreadCount() throws {
        // Per-tensor norms (and LAMB's measure pass) are formed from per-row sums in row order,
        // and the 8-wide update loops give an element the same bits as their scalar tails, so
        // splitting a tensor across any number of tasks changes nothing.
        let clip = try GradientClipping(maxNorm: 0.05)
        let optimizers: [any Optimizer] = [
            try LARS(learningRate: 5, clipping: clip), try LAMB(learningRate: 0.02, clipping: clip),
            try Adam(learningRate: 0.01, clipping: clip), try AdamW(learningRate: 0.01, weightDecay: 0.1),
            try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01, clipping: clip),
        ]
        for optimizer in optimizers {
            var bits: [[UInt32]] = []
            for threads in [1, 2, 3, 5] {
                var rule = ReferenceSGD(lr: 0)  // only the trainer's result is used here
                let (_, trainer, _) = try compareWithReference(optimizer, &rule, model: model(), steps: 3, threads: threads)
                bits.append(TrainerFixture.bits(trainer.model))
            }
            for b in bits.dropFirst() { XCTAssertEqual(b, bits[0], "\(type(of: optimizer))") }
        }
    }
}
