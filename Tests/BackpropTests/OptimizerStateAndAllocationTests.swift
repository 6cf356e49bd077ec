@testable import Backprop
import CAllocationCounter
import Foundation
import XCTest

/// Every optimizer's steady-state step allocates nothing, its state round-trips through
/// `TrainingState` bitwise, and the trainer hooks it relies on (global norms, the measure
/// pass) behave as documented.
final class OptimizerStateAndAllocationTests: XCTestCase {
    /// Every optimizer, with a warm-up, a schedule and clipping switched on, so every branch
    /// of `prepare` and `update` runs.
    private func allOptimizers() throws -> [(String, any Optimizer)] {
        let schedule = try LearningRateSchedule(decay: .cosine(totalSteps: 50, floor: 0.01), warmupSteps: 3)
        let clip = try GradientClipping(maxNorm: 0.5)
        return [
            ("sgd", SGD(learningRate: 0.1)),
            ("momentum", try SGD(learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-4,
                                 schedule: schedule, clipping: clip)),
            ("nesterov", try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4,
                                 weightDecayMode: .decoupled, schedule: schedule, clipping: clip)),
            ("adam", try Adam(learningRate: 0.01, weightDecay: 1e-4, schedule: schedule, clipping: clip)),
            ("adamw", try AdamW(learningRate: 0.01, schedule: schedule, clipping: clip)),
            ("lars", try LARS(learningRate: 2, schedule: schedule, clipping: clip)),
            ("lamb", try LAMB(learningRate: 0.01, schedule: schedule, clipping: clip)),
            ("lamb unclipped", try LAMB(learningRate: 0.01, adaptsBiases: true)),
        ]
    }

    func testSteadyStateStepAllocatesNothingForEveryOptimizer() throws {
        let model = try MLP(sizes: [20, 48, 32, 6], activations: [.relu, .tanh, .identity], seed: 5)
        let x = TrainerFixture.matrix(rows: 37, columns: 20, seed: 1)
        let labels = TrainerFixture.labels(count: 37, classes: 6, seed: 2)
        for (name, optimizer) in try allOptimizers() {
            for reduction in TrainerOptions.Reduction.allCases {
                for threads in [1, 3] {
                    let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: optimizer,
                                              threads: threads, options: TrainerOptions(reduction: reduction))
                    for _ in 0..<2 { _ = try trainer.step(input: x, labels: labels) }
                    var losses: Float = 0
                    let count = try fewestProcessAllocations {
                        for _ in 0..<5 { losses += try trainer.step(input: x, labels: labels) }
                    }
                    XCTAssertEqual(count, 0, "\(name) \(reduction) threads \(threads)")
                    XCTAssertTrue(losses.isFinite, name)
                }
            }
        }
    }

    func testReplacingPlainSGDEveryStepAllocatesNothing() throws {
        // A tool with its own schedule sets `trainer.optimizer = SGD(learningRate:)` every step;
        // SGD keeps its options boxed so that the existential holds it inline.
        XCTAssertLessThanOrEqual(MemoryLayout<SGD>.size, 3 * MemoryLayout<Int>.size, "fits an existential's inline buffer")
        let model = try MLP(sizes: [20, 48, 6], activations: [.relu, .identity], seed: 5)
        let x = TrainerFixture.matrix(rows: 16, columns: 20, seed: 1)
        let labels = TrainerFixture.labels(count: 16, classes: 6, seed: 2)
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 2)
        _ = try trainer.step(input: x, labels: labels)
        var rate: Float = 0.1
        let count = try fewestProcessAllocations {
            for _ in 0..<5 {
                rate *= 0.9
                trainer.optimizer = SGD(learningRate: rate)
                _ = try trainer.step(input: x, labels: labels)
            }
        }
        XCTAssertEqual(count, 0)
        XCTAssertEqual((trainer.optimizer as? SGD)?.learningRate, rate)
    }

    /// Trains 6 steps straight, and 3 + export + restore into a fresh trainer + 3: bitwise equal.
    private func assertResumesBitwise(_ name: String, _ optimizer: any Optimizer, threads: Int = 3) throws {
        let model = try MLP(sizes: [6, 10, 8, 3], activations: [.relu, .tanh, .identity], seed: 21)
        let batches = (0..<6).map { t in
            (TrainerFixture.matrix(rows: 20, columns: 6, seed: UInt64(50 + t)),
             TrainerFixture.labels(count: 20, classes: 3, seed: UInt64(70 + t)))
        }
        let straight = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: optimizer, threads: threads)
        for (x, y) in batches { _ = try straight.step(input: x, labels: y) }

        let first = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: optimizer, threads: threads)
        for (x, y) in batches[..<3] { _ = try first.step(input: x, labels: y) }
        let state = first.exportState()
        XCTAssertEqual(state.stepCount, 3)
        XCTAssertTrue(state.optimizerState.contains { $0.contains { $0 != 0 } }, "\(name): the state is not empty")
        let perParameter = optimizer.stateCountPerParameter
        for (i, values) in state.optimizerState.enumerated() {
            let layer = model.layers[i / 2]
            XCTAssertEqual(values.count, perParameter * (i % 2 == 0 ? layer.weight.count : layer.bias.count))
        }

        // A fresh trainer (other weights, zero state) continues exactly.
        let resumed = try Trainer(model: try MLP(sizes: model.sizes, activations: model.activations, seed: 99),
                                  loss: .softmaxCrossEntropy, optimizer: optimizer, threads: threads)
        try resumed.restore(state)
        for (x, y) in batches[3...] { _ = try resumed.step(input: x, labels: y) }
        XCTAssertEqual(TrainerFixture.bits(resumed.model), TrainerFixture.bits(straight.model), name)
        XCTAssertEqual(resumed.exportState().optimizerState, straight.exportState().optimizerState, name)
        XCTAssertEqual(resumed.stepCount, 6)

        // Without the state (zeros), the continuation differs: the state matters.
        var cleared = state
        cleared.optimizerState = state.optimizerState.map { [Float](repeating: 0, count: $0.count) }
        let amnesiac = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: optimizer, threads: threads)
        try amnesiac.restore(cleared)
        for (x, y) in batches[3...] { _ = try amnesiac.step(input: x, labels: y) }
        XCTAssertNotEqual(TrainerFixture.bits(amnesiac.model), TrainerFixture.bits(straight.model), name)
    }

    func testAdamStateRoundTripContinuesBitwise() throws {
        try assertResumesBitwise("adam", Adam(learningRate: 0.01, weightDecay: 0.01))
        try assertResumesBitwise("adamw", AdamW(learningRate: 0.01, schedule: LearningRateSchedule(warmupSteps: 4)))
    }

    func testLARSStateRoundTripContinuesBitwise() throws {
        try assertResumesBitwise("lars", LARS(learningRate: 3, clipping: GradientClipping(maxNorm: 0.1)))
        try assertResumesBitwise("lars, other thread count", LARS(learningRate: 3), threads: 1)
    }

    func testLAMBAndMomentumStateRoundTripContinuesBitwise() throws {
        try assertResumesBitwise("lamb", LAMB(learningRate: 0.01))
        try assertResumesBitwise("nesterov", SGD(learningRate: 0.1, momentum: 0.9, nesterov: true))
    }

    func testStateCounts() throws {
        XCTAssertEqual(SGD(learningRate: 1).stateCountPerParameter, 0)
        XCTAssertEqual(try SGD(learningRate: 1, momentum: 0.5).stateCountPerParameter, 1)
        XCTAssertEqual(try Adam().stateCountPerParameter, 2)
        XCTAssertEqual(try AdamW().stateCountPerParameter, 2)
        XCTAssertEqual(try LARS(learningRate: 1).stateCountPerParameter, 1)
        XCTAssertEqual(try LAMB().stateCountPerParameter, 2)
        XCTAssertEqual(try LARS(learningRate: 1).requestedNorms, [.parameters, .gradients])
    }

    func testInvalidHyperparametersThrowNamingThem() {
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertTrue(message { _ = try SGD(learningRate: 0.1, momentum: 1) }.contains("momentum"))
        XCTAssertTrue(message { _ = try SGD(learningRate: 0.1, momentum: -0.1) }.contains("momentum"))
        XCTAssertTrue(message { _ = try SGD(learningRate: .nan, momentum: 0) }.contains("learning rate"))
        XCTAssertTrue(message { _ = try SGD(learningRate: 0.1, momentum: 0, nesterov: true) }.contains("Nesterov"))
        XCTAssertTrue(message { _ = try SGD(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true) }
            .contains("dampening"))
        XCTAssertTrue(message { _ = try SGD(learningRate: 0.1, momentum: 0, weightDecay: -1) }.contains("weight decay"))
        XCTAssertTrue(message { _ = try Adam(beta1: 1) }.contains("beta1"))
        XCTAssertTrue(message { _ = try AdamW(beta2: -0.5) }.contains("beta2"))
        XCTAssertTrue(message { _ = try Adam(epsilon: 0) }.contains("epsilon"))
        XCTAssertTrue(message { _ = try LARS(learningRate: 1, trustCoefficient: 0) }.contains("trust coefficient"))
        XCTAssertTrue(message { _ = try LAMB(maxTrustNorm: -1) }.contains("maximum trust norm"))
        XCTAssertTrue(message { _ = try LAMB(weightDecay: .infinity) }.contains("weight decay"))
    }

    // MARK: - Trainer hooks

    /// Records the global norms `prepare` receives and the per-tensor norms `update` sees.
    final class NormLog: @unchecked Sendable {
        var global = TensorNorms()
        var tensors: [Int: TensorNorms] = [:]
        let lock = NSLock()
    }

    /// Measures `Σ (2g)²` per row, keeps W unchanged.
    struct MeasuringOptimizer: Optimizer {
        let log: NormLog
        var requestedNorms: TensorNormRequest { [.parameters, .gradients, .updates] }
        func prepare(step: Int, globalNorms: TensorNorms) -> OptimizerStep {
            log.global = globalNorms
            return OptimizerStep(number: step)
        }
        func measure(_ chunk: ParameterChunk, step: OptimizerStep, rowSquares: UnsafeMutablePointer<Double>) {
            if chunk.norms.updates != 0 { log.lock.withLock { log.tensors[-1] = chunk.norms } }
            let columns = chunk.tensor.columns
            for r in 0..<(chunk.count / columns) {
                var s = 0.0
                for j in (r * columns)..<((r + 1) * columns) { s += 4 * Double(chunk.gradients[j]) * Double(chunk.gradients[j]) }
                rowSquares[r] = s
            }
        }
        func update(_ chunk: ParameterChunk, step: OptimizerStep) {
            log.lock.withLock { log.tensors[chunk.tensor.index] = chunk.norms }
        }
    }

    func testGlobalNormsAndMeasuredUpdateNorms() throws {
        let model = try TrainerFixture.classifier()
        let x = TrainerFixture.matrix(rows: 16, columns: 5, seed: 1)
        let labels = TrainerFixture.labels(count: 16, classes: 4, seed: 2)
        let log = NormLog()
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: MeasuringOptimizer(log: log), threads: 3)
        _ = try trainer.step(input: x, labels: labels)
        let (_, gradients) = try model.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy)
        var parameterSquares = 0.0, gradientSquares = 0.0
        XCTAssertNil(log.tensors[-1], "measure must see updates == 0")
        for (l, layer) in model.layers.enumerated() {
            for (i, (w, g)) in [(layer.weight.values, gradients[l].weight.values), (layer.bias, gradients[l].bias)].enumerated() {
                let ws = w.reduce(0.0) { $0 + Double($1) * Double($1) }, gs = g.reduce(0.0) { $0 + Double($1) * Double($1) }
                parameterSquares += ws
                gradientSquares += gs
                let norms = try XCTUnwrap(log.tensors[2 * l + i])
                XCTAssertEqual(Double(norms.parameters), ws.squareRoot(), accuracy: 1e-6 * ws.squareRoot())
                XCTAssertEqual(Double(norms.gradients), gs.squareRoot(), accuracy: 1e-5 * gs.squareRoot())
                XCTAssertEqual(norms.updates, 2 * norms.gradients, accuracy: 1e-6 * norms.gradients)
            }
        }
        XCTAssertEqual(Double(log.global.parameters), parameterSquares.squareRoot(), accuracy: 1e-6 * parameterSquares.squareRoot())
        XCTAssertEqual(Double(log.global.gradients), gradientSquares.squareRoot(), accuracy: 1e-5 * gradientSquares.squareRoot())
        XCTAssertEqual(TrainerFixture.bits(trainer.model), TrainerFixture.bits(model), "this optimizer changes nothing")
    }
}
