@testable import Backprop
import CAllocationCounter
import Dispatch
import Foundation
import XCTest

/// The trainer with each NUMA placement. On a one-node machine every placement resolves to
/// uniform, so the mechanisms (pinning, node-placed buffers, staged input shards, weight
/// replicas, the topology-ordered reduction) are exercised on an injected two-node topology
/// whose nodes hold this machine's CPUs. Node ids that do not exist here keep the default
/// memory policy (counted as binding failures), which changes where pages are, never results.
final class PlacementTrainerTests: XCTestCase {
    /// Two nodes made of this machine's first two CPUs (or one CPU twice over when there is one).
    func twoNodes() throws -> NUMATopology {
        let cpus = NUMATopology.allowedCPUs()
        guard cpus.count >= 2 else { throw XCTSkip("needs two CPUs") }
        let real = NUMATopology.current.nodes[0].id
        return try NUMATopology(nodes: [.init(id: real, cpus: [cpus[0]]), .init(id: real + 1, cpus: [cpus[1]])],
                                distances: [[10, 21], [21, 10]])
    }

    private func train(threads: Int, options: TrainerOptions, placement: Placement, topology: NUMATopology,
                       loss: Loss = .softmaxCrossEntropy, optimizer: any Optimizer = SGD(learningRate: 0.05))
        throws -> (weights: [UInt32], losses: [UInt32], trainer: Trainer) {
        let model = loss == .softmaxCrossEntropy
            ? try MLP(sizes: [12, 40, 24, 5], activations: [.relu, .gelu, .identity], seed: 3)
            : try MLP(sizes: [12, 40, 24, 5], activations: [.tanh, .sigmoid, .leakyReLU], seed: 3)
        let trainer = try Trainer(model: model, loss: loss, optimizer: optimizer, threads: threads, options: options,
                                  placement: placement, topology: topology)
        var losses: [UInt32] = []
        for (step, batch) in [33, 33, 7, 64, 1, 33].enumerated() {
            let x = TrainerFixture.matrix(rows: batch, columns: 12, seed: UInt64(10 + step))
            if loss == .softmaxCrossEntropy {
                let labels = TrainerFixture.labels(count: batch, classes: 5, seed: UInt64(step))
                losses.append(try trainer.step(input: x, labels: labels).bitPattern)
            } else {
                let y = TrainerFixture.matrix(rows: batch, columns: 5, seed: UInt64(90 + step))
                losses.append(try trainer.step(input: x, targets: y).bitPattern)
            }
        }
        return (TrainerFixture.bits(trainer.model), losses, trainer)
    }

    /// Every placement gives bitwise the same weights and losses, in both reduction modes, with
    /// both executors, with fewer and more workers than threads; in the thread-count-invariant
    /// mode also the same as the uniform single-thread trainer.
    func testResultsBitwiseIdenticalWithEveryPlacement() throws {
        let topology = try twoNodes()
        for loss in Loss.allCases {
            let reference = try train(threads: 1, options: TrainerOptions(), placement: .none,
                                      topology: .current, loss: loss)
            for reduction in TrainerOptions.Reduction.allCases {
                for executor in TrainerOptions.Executor.allCases {
                    for threads in [2, 3, 5] {
                        let options = TrainerOptions(reduction: reduction, executor: executor)
                        let baseline = try train(threads: threads, options: options, placement: .none,
                                                 topology: topology, loss: loss)
                        if reduction == .threadCountInvariant {
                            XCTAssertEqual(baseline.weights, reference.weights, "\(loss) \(executor) \(threads)")
                        }
                        for placement in Placement.allCases where placement != .none {
                            let other = try train(threads: threads, options: options, placement: placement,
                                                  topology: topology, loss: loss)
                            XCTAssertNotEqual(other.trainer.placement, Placement.none)
                            let context = "\(loss) \(reduction) \(executor) threads \(threads) \(placement)"
                            XCTAssertEqual(other.weights, baseline.weights, context)
                            XCTAssertEqual(other.losses, baseline.losses, context)
                        }
                    }
                }
            }
        }
    }

    /// The placements on this machine's own topology: identical results too, and uniform
    /// (`.none`) wherever the machine cannot place memory.
    func testPlacementsOnThisMachine() throws {
        let baseline = try train(threads: 3, options: TrainerOptions(reduction: .perWorkerTree), placement: .none,
                                 topology: .current)
        for placement in Placement.allCases {
            let run = try train(threads: 3, options: TrainerOptions(reduction: .perWorkerTree), placement: placement,
                                topology: .current)
            XCTAssertEqual(run.weights, baseline.weights, "\(placement)")
            XCTAssertEqual(run.trainer.placement, placement.resolved(for: .current))
            if !NUMATopology.current.placesMemory {
                XCTAssertEqual(run.trainer.placement, Placement.none)
                XCTAssertEqual(run.trainer.placementReport.note, NUMATopology.current.note)
            }
        }
    }

    /// The replicas equal the master weights after every step (refreshed by the update) and
    /// after `restore`, and an optimizer with state trains identically replicated or not.
    func testReplicasFollowTheMaster() throws {
        let topology = try twoNodes()
        let momentum = PlacementTestMomentum(learningRate: 0.05, momentum: 0.9)
        for reduction in TrainerOptions.Reduction.allCases {
            let replicated = try train(threads: 2, options: TrainerOptions(reduction: reduction), placement: .replicated,
                                       topology: topology, optimizer: momentum)
            let none = try train(threads: 2, options: TrainerOptions(reduction: reduction), placement: .none,
                                 topology: topology, optimizer: momentum)
            XCTAssertEqual(replicated.weights, none.weights)
            let engine = replicated.trainer.engine
            XCTAssertEqual(engine.replicas.count, 2)
            func check(_ context: String) {
                for replica in engine.replicas {
                    XCTAssertTrue(memcmp(replica, engine.parameters, engine.layout.count * 4) == 0, context)
                }
            }
            check("after steps")
            var state = replicated.trainer.exportState()
            state.model = try MLP(sizes: [12, 40, 24, 5], activations: [.relu, .gelu, .identity], seed: 99)
            try replicated.trainer.restore(state)
            check("after restore")
            XCTAssertEqual(TrainerFixture.bits(replicated.trainer.model), TrainerFixture.bits(state.model))
        }
    }

    /// The report names the placement and each buffer's policy as planned.
    func testReportOnTwoNodes() throws {
        let topology = try twoNodes()
        let ids = topology.nodes.map(\.id)
        for placement in [Placement.replicated, .interleaved] {
            let run = try train(threads: 2, options: TrainerOptions(reduction: .perWorkerTree), placement: placement,
                                topology: topology)
            let report = run.trainer.placementReport
            XCTAssertEqual(report.used, placement)
            XCTAssertEqual(report.plan.workersPerNode, [1, 1])
            XCTAssertNil(report.note)
            let byName = Dictionary(report.buffers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(byName["gradients (worker 0)"]?.placement, .node(ids[0]))
            XCTAssertEqual(byName["gradients (worker 1)"]?.placement, .node(ids[1]))
            XCTAssertEqual(byName["activations (worker 1)"]?.placement, .node(ids[1]))
            XCTAssertEqual(byName["input (batch)"]?.kind, .input)
            if placement == .replicated {
                XCTAssertEqual(report.buffers.filter { $0.kind == .weightReplicas }.map(\.placement),
                               [.node(ids[0]), .node(ids[1])])
                XCTAssertEqual(byName["weights"]?.placement, .uniform, "the master is placed chunk by chunk")
            } else {
                XCTAssertEqual(byName["weights"]?.placement, .interleaved(ids))
                XCTAssertTrue(report.buffers.filter { $0.kind == .weightReplicas }.isEmpty)
            }
            // Buffers asked for the real node are there, every page of them.
            if topology.support.isAvailable, let pages = byName["gradients (worker 0)"]?.pages {
                XCTAssertEqual(Array(pages.pagesByNode.keys), [ids[0]], "\(pages)")
                XCTAssertEqual(pages.untouched, 0)
            }
            XCTAssertTrue(report.description.hasPrefix("NUMA placement: \(placement) (asked: \(placement)); 2 nodes (injected)"),
                          report.description)
            XCTAssertTrue(report.description.contains("gradients"), report.description)
        }
    }

    /// Pinning never leaks: the calling thread gets its affinity back after every step and at
    /// init, Dispatch's threads are all unpinned afterwards, and the pool's pinned helper
    /// threads go away with the trainer.
    func testAffinityRestoredAroundTraining() throws {
        let topology = try twoNodes()
        let all = ThreadAffinity.current()
        let pinnedBefore = pinnedThreadCount()
        for executor in TrainerOptions.Executor.allCases {
            do {
                let run = try train(threads: 3, options: TrainerOptions(executor: executor), placement: .replicated,
                                    topology: topology)
                XCTAssertEqual(ThreadAffinity.current(), all, "\(executor)")
                XCTAssertEqual(run.trainer.placementReport.pinFailures, 0)
                if executor == .workerPool {
                    // The helper pins itself when it starts, which on a busy machine may come
                    // after the caller has run (and stolen) every iteration so far.
                    var pinned = pinnedThreadCount()
                    for _ in 0..<200 where pinned != pinnedBefore + 1 {
                        usleep(10_000)
                        pinned = pinnedThreadCount()
                    }
                    XCTAssertEqual(pinned, pinnedBefore + 1, "the pool's one helper thread is pinned")
                }
            }
            DispatchQueue.concurrentPerform(iterations: 64) { _ in
                XCTAssertEqual(ThreadAffinity.current(), all, "a Dispatch thread kept a pinning (\(executor))")
            }
            XCTAssertEqual(pinnedThreadCount(), pinnedBefore, "\(executor)")
        }
    }

    /// Threads of this process whose affinity is a single CPU (/proc/self/task/*/status).
    private func pinnedThreadCount() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            guard let status = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
                  let cpus = NUMATopology.parseCPUList(String(line.dropFirst("Cpus_allowed_list:".count)))
            else { return false }
            return cpus.count == 1
        }.count
    }

    /// With placement on, a step still allocates nothing once the buffers have grown.
    func testSteadyStateStepAllocatesNothingWithPlacement() throws {
        let topology = try twoNodes()
        let model = try MLP(sizes: [20, 48, 32, 6], activations: [.relu, .tanh, .identity], seed: 5)
        let x = TrainerFixture.matrix(rows: 37, columns: 20, seed: 1)
        let labels = TrainerFixture.labels(count: 37, classes: 6, seed: 2)
        let small = TrainerFixture.matrix(rows: 3, columns: 20, seed: 3)
        let smallLabels = TrainerFixture.labels(count: 3, classes: 6, seed: 4)
        for reduction in TrainerOptions.Reduction.allCases {
            for placement in [Placement.replicated, .interleaved] {
                for threads in [2, 3] {
                    let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                              threads: threads, options: TrainerOptions(reduction: reduction),
                                              placement: placement, topology: topology)
                    for _ in 0..<2 { _ = try trainer.step(input: x, labels: labels) }
                    let fewest = try fewestProcessAllocations {
                        for _ in 0..<4 { _ = try trainer.step(input: x, labels: labels) }
                        for _ in 0..<2 { _ = try trainer.step(input: small, labels: smallLabels) }
                    }
                    XCTAssertEqual(fewest, 0, "\(reduction) \(placement) threads \(threads)")
                }
            }
        }
    }

    /// On a machine that cannot place memory the informational line goes, once, to the hook.
    func testNoteDeliveredOnceToTheHook() throws {
        let lines = PlacementTestLines()
        NUMADiagnostics.setHandler { lines.append($0) }
        defer { NUMADiagnostics.setHandler(nil) }
        let model = try MLP(sizes: [4, 3], activations: [.identity], seed: 1)
        for _ in 0..<3 { _ = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1)) }
        if let note = NUMATopology.current.note {
            XCTAssertEqual(lines.values, [note])
        } else {
            XCTAssertEqual(lines.values, [])
        }
    }
}

/// Heavy-ball momentum, to have per-parameter optimizer state: `v ← μv + g`, `W ← W − ηv`.
struct PlacementTestMomentum: Optimizer {
    var learningRate: Float
    var momentum: Float
    var stateCountPerParameter: Int { 1 }

    func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        for i in 0..<chunk.elements.count {
            chunk.state[i] = momentum * chunk.state[i] + chunk.gradients[i]
            chunk.parameters[i] -= learningRate * chunk.state[i]
        }
    }
}

final class PlacementTestLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var values: [String] { lock.withLock { lines } }
}
