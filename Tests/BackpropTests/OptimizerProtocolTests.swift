@testable import Backprop
import XCTest

/// Heavy-ball momentum, `v ← μ·v + g`, `W ← W − η·v`: one state float per parameter.
struct TestMomentum: Optimizer {
    var learningRate: Float
    var momentum: Float
    var stateCountPerParameter: Int { 1 }

    func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        for j in 0..<chunk.count {
            chunk.state[j] = momentum * chunk.state[j] + chunk.gradients[j]
            chunk.parameters[j] -= learningRate * chunk.state[j]
        }
    }
}

/// LARS-like: `W ← W − (η/t)·(‖W‖/‖g‖)·g` with `η/t` from `prepare`, and two state floats:
/// the last gradient and the number of updates, to check the state layout.
struct TestTrustRatio: Optimizer {
    var learningRate: Float
    var stateCountPerParameter: Int { 2 }
    var requestedNorms: TensorNormRequest { [.parameters, .gradients] }

    func prepare(step: Int) -> OptimizerStep {
        var scalars = SIMD8<Float>()
        scalars[0] = learningRate / Float(step)
        return OptimizerStep(number: step, scalars: scalars)
    }

    func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        let ratio = chunk.norms.gradients > 0 ? chunk.norms.parameters / chunk.norms.gradients : 1
        let rate = step.scalars[0] * ratio
        for j in 0..<chunk.count {
            chunk.state[j] = chunk.gradients[j]
            chunk.state[chunk.stateStride + j] += 1
            chunk.parameters[j] -= rate * chunk.gradients[j]
        }
    }
}

/// Records what `update` sees: which elements of which tensor, and their values.
final class ChunkLog: @unchecked Sendable {
    /// Per tensor index: times each element was updated, its parameter and gradient seen.
    var visits: [UnsafeMutablePointer<Int32>] = []
    var parameters: [UnsafeMutablePointer<Float>] = []
    var gradients: [UnsafeMutablePointer<Float>] = []
    var counts: [Int] = []
    let lock = NSLock()
    var problems: [String] = []

    init(model: MLP) {
        for layer in model.layers {
            for count in [layer.weight.count, layer.bias.count] {
                counts.append(count)
                visits.append(.allocate(capacity: count))
                visits.last!.initialize(repeating: 0, count: count)
                parameters.append(.allocate(capacity: count))
                gradients.append(.allocate(capacity: count))
            }
        }
    }

    func note(_ problem: String) {
        lock.lock()
        problems.append(problem)
        lock.unlock()
    }
}

struct RecordingSGD: Optimizer {
    let log: ChunkLog
    let model: MLP
    var stateCountPerParameter: Int { 1 }

    func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        let t = chunk.tensor
        let layer = model.layers[t.layer]
        let expectedShape = t.kind == .weight ? (layer.outputSize, layer.inputSize) : (layer.outputSize, 1)
        if (t.rows, t.columns) != expectedShape { log.note("\(t) has shape \(t.rows)×\(t.columns)") }
        if chunk.elements.lowerBound % t.columns != 0 || chunk.count % t.columns != 0 {
            log.note("\(t) chunk \(chunk.elements) is not whole rows")
        }
        if chunk.stateStride != t.count { log.note("\(t) state stride \(chunk.stateStride)") }
        if chunk.elements.upperBound > t.count { log.note("\(t) chunk \(chunk.elements) out of range") }
        for j in 0..<chunk.count {
            let e = chunk.elements.lowerBound + j
            log.visits[t.index][e] += 1
            log.parameters[t.index][e] = chunk.parameters[j]
            log.gradients[t.index][e] = chunk.gradients[j]
            chunk.parameters[j] -= 0.1 * chunk.gradients[j]
        }
    }
}

final class OptimizerProtocolTests: XCTestCase {
    func testChunksCoverEveryParameterOnceWithItsGradient() throws {
        let model = try TrainerFixture.classifier()
        let x = TrainerFixture.matrix(rows: 10, columns: 5, seed: 1)
        let labels = TrainerFixture.labels(count: 10, classes: 4, seed: 2)
        let (_, gradients) = try model.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy)
        for reduction in TrainerOptions.Reduction.allCases {
            for threads in [1, 2, 3, 7, 16] {
                let log = ChunkLog(model: model)
                let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy,
                                          optimizer: RecordingSGD(log: log, model: model), threads: threads,
                                          options: TrainerOptions(reduction: reduction))
                _ = try trainer.step(input: x, labels: labels)
                XCTAssertEqual(log.problems, [])
                for (l, layer) in model.layers.enumerated() {
                    for (index, (values, grads)) in [(layer.weight.values, gradients[l].weight.values),
                                                     (layer.bias, gradients[l].bias)].enumerated() {
                        let t = 2 * l + index
                        for e in 0..<log.counts[t] {
                            XCTAssertEqual(log.visits[t][e], 1, "tensor \(t) element \(e) threads \(threads)")
                            XCTAssertEqual(log.parameters[t][e], values[e])
                            XCTAssertEqual(log.gradients[t][e], grads[e], accuracy: 1e-6)
                        }
                    }
                }
            }
        }
    }

    func testNormsScheduleAndTwoStateVectorsMatchAReference() throws {
        var reference = try TrainerFixture.classifier()
        let trainer = try Trainer(model: reference, loss: .softmaxCrossEntropy,
                                  optimizer: TestTrustRatio(learningRate: 0.2), threads: 3)
        var lastGradients: [LayerGradients] = []
        for step in 1...3 {
            let x = TrainerFixture.matrix(rows: 9, columns: 5, seed: UInt64(step))
            let labels = TrainerFixture.labels(count: 9, classes: 4, seed: UInt64(step))
            let (_, gradients) = try reference.lossAndGradients(input: x, labels: labels, loss: .softmaxCrossEntropy)
            for l in reference.layers.indices {
                func norm(_ v: [Float]) -> Float { Float(v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()) }
                let wRate = 0.2 / Float(step) * norm(reference.layers[l].weight.values) / norm(gradients[l].weight.values)
                let bNorm = norm(gradients[l].bias)
                let bRate = 0.2 / Float(step) * (bNorm > 0 ? norm(reference.layers[l].bias) / bNorm : 1)
                reference.layers[l].weight.withUnsafeMutableBufferPointer { w in
                    for i in w.indices { w[i] -= wRate * gradients[l].weight.values[i] }
                }
                for i in reference.layers[l].bias.indices { reference.layers[l].bias[i] -= bRate * gradients[l].bias[i] }
            }
            lastGradients = gradients
            _ = try trainer.step(input: x, labels: labels)
            XCTAssertLessThanOrEqual(TrainerFixture.relativeDifference(trainer.model, reference), 1e-5, "step \(step)")
        }
        let state = trainer.exportState().optimizerState
        for l in reference.layers.indices {
            let weight = state[2 * l], count = reference.layers[l].weight.count
            XCTAssertEqual(weight.count, 2 * count)
            for i in 0..<count {
                XCTAssertEqual(weight[i], lastGradients[l].weight.values[i], accuracy: 1e-6)  // vector 0
                XCTAssertEqual(weight[count + i], 3)  // vector 1: updates counted
            }
        }
    }

    func testNormsAreBitwiseIdenticalAcrossThreadCounts() throws {
        var results: [[UInt32]] = []
        for threads in [1, 2, 3, 8, 16] {
            let trainer = try Trainer(model: try MLP(sizes: [12, 40, 24, 5], activations: [.relu, .gelu, .identity], seed: 3),
                                      loss: .softmaxCrossEntropy, optimizer: TestTrustRatio(learningRate: 0.1), threads: threads)
            for step in 0..<3 {
                _ = try trainer.step(input: TrainerFixture.matrix(rows: 21, columns: 12, seed: UInt64(step)),
                                     labels: TrainerFixture.labels(count: 21, classes: 5, seed: UInt64(step)))
            }
            results.append(TrainerFixture.bits(trainer.model))
        }
        for (i, result) in results.enumerated() { XCTAssertEqual(result, results[0], "run \(i)") }
    }

    func testReplacingTheOptimizerKeepsOrResetsState() throws {
        let trainer = try Trainer(model: try TrainerFixture.classifier(), loss: .softmaxCrossEntropy,
                                  optimizer: TestMomentum(learningRate: 0.1, momentum: 0.9), threads: 2)
        _ = try trainer.step(input: TrainerFixture.matrix(rows: 4, columns: 5, seed: 1), labels: [0, 1, 2, 3])
        let state = trainer.exportState().optimizerState
        trainer.optimizer = TestMomentum(learningRate: 0.05, momentum: 0.5)  // same state size: kept
        XCTAssertEqual(trainer.exportState().optimizerState, state)
        trainer.optimizer = SGD(learningRate: 0.1)  // no state
        XCTAssertEqual(trainer.exportState().optimizerState, [[], [], [], [], [], []])
        trainer.optimizer = TestMomentum(learningRate: 0.05, momentum: 0.5)  // fresh zeros
        XCTAssertEqual(trainer.exportState().optimizerState, state.map { [Float](repeating: 0, count: $0.count) })
    }
}
