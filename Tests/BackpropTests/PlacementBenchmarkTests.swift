@testable import Backprop
import Foundation
import XCTest

/// Step times with each placement (not a test of speed: it prints, asserts nothing about time).
/// Skipped unless BACKPROP_NUMA_BENCH=1:
///
///     BACKPROP_NUMA_BENCH=1 swift test -c release -Xswiftc -enable-testing --skip-build \
///         --filter PlacementBenchmarkTests
///
/// Placements run interleaved, round after round; medians are compared within one run.
/// BACKPROP_NUMA_ROUNDS (default 7) and BACKPROP_NUMA_CASES (see `run`) size it. On a
/// one-node machine it also splits the CPUs into two injected nodes, so that the placement
/// mechanisms (pinning, staged input, replicas, interleave policy) run and their cost shows.
final class PlacementBenchmarkTests: XCTestCase {
    func testStepTimePerPlacement() throws {
        guard ProcessInfo.processInfo.environment["BACKPROP_NUMA_BENCH"] == "1" else {
            throw XCTSkip("set BACKPROP_NUMA_BENCH=1 to measure")
        }
        let rounds = Int(ProcessInfo.processInfo.environment["BACKPROP_NUMA_ROUNDS"] ?? "") ?? 7
        _ = try PlacementBenchmark.run(rounds: rounds)
    }
}

enum PlacementBenchmark {
    /// The machine's topology, and (on a one-node machine) its CPUs split into two injected
    /// nodes, so the placement mechanisms run and their overhead shows.
    static func topologies() throws -> [(String, NUMATopology)] {
        var result = [("this machine", NUMATopology.current)]
        let cpus = NUMATopology.current.nodes.flatMap(\.cpus).sorted()
        if !NUMATopology.current.placesMemory && cpus.count >= 2 {
            let id = NUMATopology.current.nodes[0].id
            let half = cpus.count / 2
            result.append(("2 injected nodes", try NUMATopology(
                nodes: [.init(id: id, cpus: Array(cpus[..<half])), .init(id: id + 1, cpus: Array(cpus[half...]))],
                distances: [[10, 21], [21, 10]])))
        }
        return result
    }

    static func run(rounds: Int) throws -> [String] {
        var lines: [String] = []
        // BACKPROP_NUMA_CASES: comma-separated `sizes:batch:steps`, sizes joined by '-'.
        let spec = ProcessInfo.processInfo.environment["BACKPROP_NUMA_CASES"] ?? "784-128-128-10:256:10,784-256-256-10:1024:3"
        let cases: [(sizes: [Int], batch: Int, steps: Int)] = spec.split(separator: ",").compactMap { item in
            let parts = item.split(separator: ":")
            guard parts.count == 3, let batch = Int(parts[1]), let steps = Int(parts[2]) else { return nil }
            let sizes = parts[0].split(separator: "-").compactMap { Int($0) }
            return sizes.count >= 2 ? (sizes, batch, steps) : nil
        }
        for (name, topology) in try topologies() {
            lines.append("topology: \(name): \(topology)")
            print(lines[lines.count - 1])
            for c in cases {
                for reduction in TrainerOptions.Reduction.allCases {
                    let model = try MLP(sizes: c.sizes, activations: Array(repeating: .relu, count: c.sizes.count - 2) + [.identity],
                                        seed: 1)
                    var generator = SplitMix64(seed: 2)
                    let x = Matrix(rows: c.batch, columns: c.sizes[0]) { _, _ in generator.nextSignedUnitFloat() }
                    let labels = (0..<c.batch).map { _ in Int(generator.next() % UInt64(c.sizes.last!)) }
                    let trainers = try Placement.allCases.map { placement in
                        try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.01),
                                    threads: topology.cpuCount, options: TrainerOptions(reduction: reduction),
                                    placement: placement, topology: topology)
                    }
                    for trainer in trainers { _ = try trainer.step(input: x, labels: labels) }  // warm up
                    var times = [[Double]](repeating: [], count: trainers.count)
                    for _ in 0..<rounds {
                        for (i, trainer) in trainers.enumerated() {
                            let start = monotonicSeconds()
                            for _ in 0..<c.steps { _ = try trainer.step(input: x, labels: labels) }
                            times[i].append((monotonicSeconds() - start) / Double(c.steps))
                        }
                    }
                    let medians = times.map { $0.sorted()[$0.count / 2] }
                    let baseline = medians[Placement.allCases.firstIndex(of: .none)!]
                    let cells = Placement.allCases.indices.map { i in
                        "\(Placement.allCases[i])→\(trainers[i].placement) \(String(format: "%.2f", medians[i] * 1000)) ms (\(String(format: "%.3f", medians[i] / baseline)))"
                    }
                    if reduction == .perWorkerTree && c.batch >= 1024 {
                        print(trainers[Placement.allCases.firstIndex(of: .automatic)!].placementReport)
                    }
                    lines.append("  \(c.sizes) batch \(c.batch) \(reduction), \(topology.cpuCount) threads: " + cells.joined(separator: ", "))
                    print(lines[lines.count - 1])
                }
            }
        }
        return lines
    }
}
