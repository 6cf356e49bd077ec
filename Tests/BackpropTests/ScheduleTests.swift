@testable import Backprop
import Foundation
import XCTest

/// `LearningRateSchedule` against its formulas at chosen steps, warm-up boundaries included,
/// the linear scaling rule, and the schedule as an optimizer applies it.
final class ScheduleTests: XCTestCase {
    func testConstant() {
        for t in [1, 2, 1000] { XCTAssertEqual(LearningRateSchedule.constant.factor(atStep: t), 1) }
        XCTAssertEqual(LearningRateSchedule.constant.learningRate(base: 0.3, atStep: 7), 0.3)
    }

    func testLinearWarmupThenConstant() throws {
        let s = try LearningRateSchedule(warmupSteps: 4)
        XCTAssertEqual(s.factor(atStep: 1), 0.25)
        XCTAssertEqual(s.factor(atStep: 2), 0.5)
        XCTAssertEqual(s.factor(atStep: 3), 0.75)
        XCTAssertEqual(s.factor(atStep: 4), 1)  // last warm-up step reaches η
        XCTAssertEqual(s.factor(atStep: 5), 1)
        XCTAssertEqual(s.factor(atStep: 0), 0.25, "steps below 1 count as 1")
        XCTAssertEqual(s.learningRate(base: 0.8, atStep: 1), 0.2)
    }

    func testStepDecay() throws {
        let s = try LearningRateSchedule(decay: .step(every: 3, factor: 0.1))
        // s = t − 1: γ^⌊s/3⌋.
        XCTAssertEqual(s.factor(atStep: 1), 1)
        XCTAssertEqual(s.factor(atStep: 3), 1)
        let gamma = Double(Float(0.1))  // the factor is a Float
        XCTAssertEqual(s.factor(atStep: 4), gamma)
        XCTAssertEqual(s.factor(atStep: 6), gamma)
        XCTAssertEqual(s.factor(atStep: 7), gamma * gamma, accuracy: 1e-18)
        XCTAssertEqual(s.factor(atStep: 31), pow(Double(Float(0.1)), 10), accuracy: 1e-20)
    }

    func testStepDecayAfterWarmup() throws {
        let s = try LearningRateSchedule(decay: .step(every: 2, factor: 0.5), warmupSteps: 3)
        XCTAssertEqual(s.factor(atStep: 1), 1.0 / 3)
        XCTAssertEqual(s.factor(atStep: 3), 1)  // end of warm-up
        XCTAssertEqual(s.factor(atStep: 4), 1)  // decay clock s = 0
        XCTAssertEqual(s.factor(atStep: 5), 1)  // s = 1
        XCTAssertEqual(s.factor(atStep: 6), 0.5)  // s = 2
        XCTAssertEqual(s.factor(atStep: 8), 0.25)  // s = 4
    }

    func testCosine() throws {
        let s = try LearningRateSchedule(decay: .cosine(totalSteps: 100, floor: 0))
        XCTAssertEqual(s.factor(atStep: 1), 1)
        XCTAssertEqual(s.factor(atStep: 51), 0.5, accuracy: 1e-15)  // s = 50 = D/2
        XCTAssertEqual(s.factor(atStep: 26), (1 + cos(Double.pi / 4)) / 2, accuracy: 1e-15)
        XCTAssertEqual(s.factor(atStep: 100), (1 + cos(Double.pi * 99 / 100)) / 2, accuracy: 1e-15)
        XCTAssertEqual(s.factor(atStep: 101), 0, accuracy: 1e-15)  // reached at s = D
        XCTAssertEqual(s.factor(atStep: 500), 0, accuracy: 1e-15)  // held
    }

    func testCosineWithWarmupAndFloor() throws {
        let s = try LearningRateSchedule(decay: .cosine(totalSteps: 30, floor: 0.2), warmupSteps: 10)
        XCTAssertEqual(s.factor(atStep: 5), 0.5)
        XCTAssertEqual(s.factor(atStep: 10), 1)
        XCTAssertEqual(s.factor(atStep: 11), 1)  // s = 0
        // s = 10 of D = 20: halfway between 1 and the floor.
        XCTAssertEqual(s.factor(atStep: 21), Double(Float(0.2)) + (1 - Double(Float(0.2))) / 2, accuracy: 1e-15)
        XCTAssertEqual(s.factor(atStep: 31), Double(Float(0.2)), accuracy: 1e-15)
        XCTAssertEqual(s.factor(atStep: 99), Double(Float(0.2)), accuracy: 1e-15)
        // Monotone after the warm-up.
        for t in 11..<40 { XCTAssertLessThanOrEqual(s.factor(atStep: t + 1), s.factor(atStep: t)) }
    }

    func testInvalidSchedulesThrowNamingTheParameter() {
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertTrue(message { _ = try LearningRateSchedule(warmupSteps: -1) }.contains("warm-up"))
        XCTAssertTrue(message { _ = try LearningRateSchedule(decay: .step(every: 0, factor: 0.1)) }.contains("interval"))
        XCTAssertTrue(message { _ = try LearningRateSchedule(decay: .step(every: 5, factor: 0)) }.contains("factor"))
        XCTAssertTrue(message { _ = try LearningRateSchedule(decay: .step(every: 5, factor: .nan)) }.contains("factor"))
        XCTAssertTrue(message { _ = try LearningRateSchedule(decay: .cosine(totalSteps: 10, floor: 1.5)) }.contains("floor"))
        XCTAssertTrue(message { _ = try LearningRateSchedule(decay: .cosine(totalSteps: 10, floor: 0), warmupSteps: 10) }
            .contains("total steps"))
    }

    func testLinearScalingRule() throws {
        XCTAssertEqual(try linearlyScaledLearningRate(0.1, batchSize: 256), 0.1)
        XCTAssertEqual(try linearlyScaledLearningRate(0.1, batchSize: 8192), 3.2, accuracy: 1e-6)
        XCTAssertEqual(try linearlyScaledLearningRate(0.1, batchSize: 64), 0.025)
        XCTAssertEqual(try linearlyScaledLearningRate(0.1, batchSize: 1000, referenceBatchSize: 100), 1)
        XCTAssertThrowsError(try linearlyScaledLearningRate(0.1, batchSize: 0))
        XCTAssertThrowsError(try linearlyScaledLearningRate(0.1, batchSize: 8, referenceBatchSize: 0))
        XCTAssertThrowsError(try linearlyScaledLearningRate(.infinity, batchSize: 8))
    }

    func testOptimizersPutTheScheduledRateInTheirStep() throws {
        let schedule = try LearningRateSchedule(decay: .cosine(totalSteps: 20, floor: 0.1), warmupSteps: 5)
        let optimizers: [any Optimizer] = [
            try SGD(learningRate: 0.4, momentum: 0.9, schedule: schedule), try Adam(learningRate: 0.4, schedule: schedule),
            try AdamW(learningRate: 0.4, schedule: schedule), try LARS(learningRate: 0.4, schedule: schedule),
            try LAMB(learningRate: 0.4, schedule: schedule),
        ]
        for optimizer in optimizers {
            for t in [1, 4, 5, 6, 12, 20, 21, 40] {
                let step = optimizer.prepare(step: t, globalNorms: TensorNorms())
                XCTAssertEqual(step.number, t)
                XCTAssertEqual(step.learningRate, Float(Double(Float(0.4)) * schedule.factor(atStep: t)), "\(type(of: optimizer)) t=\(t)")
                XCTAssertEqual(step.gradientScale, 1)
            }
        }
    }

    func testWarmupScalesTheFirstSGDStepsThroughTheTrainer() throws {
        // With plain SGD, step t changes W by exactly −η·(t/W)·g: compare the first two steps
        // against a trainer with the constant rate η·t/W.
        let model = try MLP(sizes: [4, 6, 3], activations: [.relu, .identity], seed: 3)
        let x = TrainerFixture.matrix(rows: 8, columns: 4, seed: 1)
        let labels = TrainerFixture.labels(count: 8, classes: 3, seed: 2)
        let warm = try Trainer(model: model, loss: .softmaxCrossEntropy,
                               optimizer: SGD(learningRate: 0.3, momentum: 0, schedule: LearningRateSchedule(warmupSteps: 3)),
                               threads: 2)
        let manual = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 2)
        _ = try warm.step(input: x, labels: labels)
        _ = try manual.step(input: x, labels: labels)
        XCTAssertEqual(TrainerFixture.bits(warm.model), TrainerFixture.bits(manual.model))
        _ = try warm.step(input: x, labels: labels)
        manual.optimizer = SGD(learningRate: 0.2)
        _ = try manual.step(input: x, labels: labels)
        XCTAssertEqual(TrainerFixture.bits(warm.model), TrainerFixture.bits(manual.model))
    }
}
