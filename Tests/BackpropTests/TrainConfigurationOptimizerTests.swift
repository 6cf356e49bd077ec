@testable import Backprop
@testable import BackpropCLI
import XCTest

/// `TrainConfiguration.makeOptimizer` makes the run's optimizer once: `--lr-schedule cosine`
/// becomes the library's cosine schedule, which must give the rate of
/// `LearningRateSchedule.rate` (the tool's own definition) at every step, bitwise.
final class TrainConfigurationOptimizerTests: XCTestCase {
    private func configuration(_ schedule: BackpropCLI.LearningRateSchedule,
                               optimizer: OptimizerConfiguration? = nil) -> TrainConfiguration {
        TrainConfiguration(layers: [4, 3, 2], activation: .relu, loss: .softmaxCrossEntropy, epochs: 3, batchSize: 10,
                           learningRate: 0.3, schedule: schedule, seed: 1, shuffle: true, optimizer: optimizer)
    }

    func testCosineRunRatesMatchTheToolsScheduleAtEveryStep() throws {
        let samples = 95, totalSteps = 30  // 3 epochs of ⌈95 / 10⌉ steps
        var momentum = OptimizerConfiguration()
        momentum.kind = .momentum
        for (name, c) in [("plain", configuration(.cosine)), ("momentum", configuration(.cosine, optimizer: momentum))] {
            let optimizer = try c.makeOptimizer(totalSteps: totalSteps, samples: samples)
            // Steps past the end (a resume with fewer epochs) stay at the last rate, 0.
            for taken in 0..<(totalSteps + 3) {
                let expected = c.schedule.rate(base: c.learningRate, step: taken, totalSteps: totalSteps)
                let got = optimizer.prepare(step: taken + 1).learningRate
                XCTAssertEqual(got.bitPattern, expected.bitPattern, "\(name): step \(taken + 1): \(got) vs \(expected)")
            }
        }
        let constant = try configuration(.constant).makeOptimizer(totalSteps: totalSteps, samples: samples)
        XCTAssertEqual(constant.prepare(step: 7).learningRate, 0.3)
    }

    /// A `--schedule` of the optimizer's own is kept: `--lr-schedule` does not replace it.
    func testOwnScheduleIsKept() throws {
        var stepDecay = OptimizerConfiguration()
        stepDecay.kind = .momentum
        stepDecay.schedule = .step(every: .steps(5), factor: 0.5)
        let optimizer = try configuration(.constant, optimizer: stepDecay).makeOptimizer(totalSteps: 30, samples: 95)
        XCTAssertEqual(optimizer.prepare(step: 5).learningRate, 0.3)
        XCTAssertEqual(optimizer.prepare(step: 6).learningRate, 0.15)
    }
}
