@testable import Backprop
import XCTest

final class PlacementPlanTests: XCTestCase {
    typealias Node = NUMATopology.Node

    /// Two sockets of two nodes each: nodes 0 and 1 share socket A, 2 and 3 socket B.
    let socketDistances = [[10, 11, 21, 21], [11, 10, 21, 21], [21, 21, 10, 11], [21, 21, 11, 10]]

    func steps(_ plan: ReductionPlan) -> [[String]] {
        plan.levels.map { $0.steps.map { "\($0.target)←\($0.source)" } }
    }

    func testOneNode() throws {
        let topology = try NUMATopology(nodes: [Node(id: 0, cpus: [0, 1])])
        let plan = try PlacementPlan(topology: topology, workers: 2)
        XCTAssertEqual(plan.threadCount, 2)
        XCTAssertEqual(plan.threadCPUs, [0, 1])
        XCTAssertEqual(plan.workerNodes, [0, 0])
        XCTAssertEqual(plan.iterationWorkers, [0, 1])
        XCTAssertEqual(steps(plan.reduction()), [["0←1"]])
        XCTAssertEqual(plan.weightPlacements(.none), [.uniform])
        XCTAssertEqual(plan.workerBufferPlacement(1, placement: .none), .uniform)
        // On one node the reduction is the plain pairwise tree.
        let five = try PlacementPlan(topology: try NUMATopology(nodes: [Node(id: 0, cpus: Array(0..<8))]), workers: 5)
        XCTAssertEqual(steps(five.reduction()), [["0←1", "2←3"], ["0←2"], ["0←4"]])
        XCTAssertEqual(five.reduction(), ReductionPlan(bufferCount: 5))
    }

    func testTwoUnevenNodes() throws {
        let topology = try NUMATopology(nodes: [Node(id: 0, cpus: Array(0..<6)), Node(id: 1, cpus: [6, 7])])
        let plan = try PlacementPlan(topology: topology, workers: 8)
        XCTAssertEqual(plan.threadNodes, [0, 0, 0, 0, 0, 0, 1, 1])
        XCTAssertEqual(plan.threadCPUs, Array(0..<8))
        XCTAssertEqual(plan.nodeWorkers, [0..<6, 6..<8])
        XCTAssertEqual(steps(plan.reduction()), [["0←1", "2←3", "4←5", "6←7"], ["0←2"], ["0←4"], ["0←6"]])
        XCTAssertEqual(plan.reduction().levels.map(\.crossesNodes), [false, false, false, true])
        XCTAssertEqual(plan.workerBufferPlacement(7, placement: .replicated), .node(1))
        XCTAssertEqual(plan.weightPlacements(.replicated), [.node(0), .node(1)])
        XCTAssertEqual(plan.weightPlacements(.interleaved), [.interleaved([0, 1])])
        XCTAssertEqual((0..<8).map { plan.weightCopy(forWorker: $0, placement: .replicated) }, [0, 0, 0, 0, 0, 0, 1, 1])
        XCTAssertEqual((0..<8).map { plan.weightCopy(forWorker: $0, placement: .interleaved) }, Array(repeating: 0, count: 8))

        // Fewer workers than CPUs: threads in proportion to the CPUs (6:2 → 3:1), first CPUs first.
        let four = try PlacementPlan(topology: topology, workers: 4)
        XCTAssertEqual(four.workersPerNode, [3, 1])
        XCTAssertEqual(four.threadCPUs, [0, 1, 2, 6])
        // 3 workers: quotas 2.25 and 0.75; the larger remainder goes to node 1.
        let three = try PlacementPlan(topology: topology, workers: 3)
        XCTAssertEqual(three.workersPerNode, [2, 1])
        XCTAssertEqual(three.threadCPUs, [0, 1, 6])
        XCTAssertEqual(steps(three.reduction()), [["0←1"], ["0←2"]])

        // More workers than CPUs: 12 workers on 8 threads; threads 0-3 run two each.
        let twelve = try PlacementPlan(topology: topology, workers: 12)
        XCTAssertEqual(twelve.threadCount, 8)
        XCTAssertEqual(twelve.workerThreads, [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7])
        XCTAssertEqual(twelve.nodeWorkers, [0..<10, 10..<12])
        XCTAssertEqual(twelve.iterationWorkers, [0, 2, 4, 6, 8, 9, 10, 11, 1, 3, 5, 7])
        XCTAssertEqual(steps(twelve.reduction()),
                       [["0←1", "2←3", "4←5", "6←7", "8←9", "10←11"], ["0←2", "4←6"], ["0←4"], ["0←8"], ["0←10"]])
        // A batch smaller than the workers: only the first 7 have rows; all on node 0.
        XCTAssertEqual(steps(twelve.reduction(activeWorkers: 7)), [["0←1", "2←3", "4←5"], ["0←2", "4←6"], ["0←4"]])
        XCTAssertEqual(steps(twelve.reduction(activeWorkers: 11)).last, ["0←10"])
    }

    func testFourNodesOnTwoSockets() throws {
        let topology = try NUMATopology(
            nodes: [Node(id: 0, cpus: [0, 1, 2, 3]), Node(id: 1, cpus: [4, 5, 6]), Node(id: 2, cpus: [7, 8, 9, 10, 11]),
                    Node(id: 3, cpus: [12, 13])],
            distances: socketDistances)
        let plan = try PlacementPlan(topology: topology, workers: 14)
        XCTAssertEqual(plan.nodeWorkers, [0..<4, 4..<7, 7..<12, 12..<14])
        XCTAssertEqual(steps(plan.reduction()), [
            ["0←1", "2←3", "4←5", "7←8", "9←10", "12←13"],  // within nodes, side by side
            ["0←2", "4←6", "7←9"],
            ["7←11"],
            ["0←4", "7←12"],  // across nodes, within each socket first
            ["0←7"],          // across the sockets
        ])
        XCTAssertEqual(plan.reduction().levels.map(\.crossesNodes), [false, false, false, true, true])

        // Threads steal from their own node first, then the nearest node.
        XCTAssertEqual(plan.stealOrder(thread: 5), [5, 6, 4, 0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13])
        XCTAssertEqual(plan.stealOrder(thread: 12), [12, 13, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6])

        // Socket pairs numbered 0,2 and 1,3: the nearest pairing follows the distances, not the ids.
        let interleavedSockets = try NUMATopology(
            nodes: (0..<4).map { Node(id: $0, cpus: [2 * $0, 2 * $0 + 1]) },
            distances: [[10, 21, 11, 21], [21, 10, 21, 11], [11, 21, 10, 21], [21, 11, 21, 10]])
        let paired = try PlacementPlan(topology: interleavedSockets, workers: 8)
        XCTAssertEqual(steps(paired.reduction()), [["0←1", "2←3", "4←5", "6←7"], ["0←4", "2←6"], ["0←2"]])
    }

    func testEightNodes() throws {
        let counts = [3, 1, 4, 1, 5, 9, 2, 6]
        var cpu = 0
        var nodes: [Node] = []
        for (id, count) in counts.enumerated() {
            nodes.append(Node(id: id, cpus: Array(cpu..<(cpu + count))))
            cpu += count
        }
        let topology = try NUMATopology(nodes: nodes)
        let all = try PlacementPlan(topology: topology, workers: 31)
        XCTAssertEqual(all.workersPerNode, counts)
        let cross = all.reduction().levels.filter(\.crossesNodes).map { $0.steps.map { "\($0.target)←\($0.source)" } }
        // Leaders are the first workers of the nodes: 0, 3, 4, 8, 9, 14, 23, 25.
        XCTAssertEqual(cross, [["0←3", "4←8", "9←14", "23←25"], ["0←4", "9←23"], ["0←9"]])

        // 8 workers on 31 CPUs: quotas 8·cₖ/31 → 0.77 0.26 1.03 0.26 1.29 2.32 0.52 1.55.
        let eight = try PlacementPlan(topology: topology, workers: 8)
        XCTAssertEqual(eight.workersPerNode, [1, 0, 1, 0, 1, 2, 1, 2])
        XCTAssertEqual(eight.activeNodes, [0, 2, 4, 5, 6, 7])
        XCTAssertEqual(eight.weightPlacements(.replicated), [.node(0), .node(2), .node(4), .node(5), .node(6), .node(7)])
        XCTAssertEqual(eight.weightCopy(forWorker: 4, placement: .replicated), 3)
        XCTAssertEqual(eight.threadCPUs, [0, 4, 9, 14, 15, 23, 25, 26])
        XCTAssertEqual(steps(eight.reduction()), [["3←4", "6←7"], ["0←1", "2←3", "5←6"], ["0←2"], ["0←5"]])
    }

    /// Properties every plan must have, over many uneven topologies and worker counts.
    func testInvariants() throws {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let nodeCount = 1 + Int(generator.next() % 8)
            var nodes: [Node] = []
            var cpu = 0
            for id in 0..<nodeCount {
                let count = 1 + Int(generator.next() % 6)
                nodes.append(Node(id: 2 * id, cpus: Array(cpu..<(cpu + count))))
                cpu += count
            }
            let distances = (0..<nodeCount).map { i in
                (0..<nodeCount).map { j in i == j ? 10 : 11 + (i / 2 == j / 2 ? 0 : 10) + (i + j) % 3 }
            }
            let topology = try NUMATopology(nodes: nodes, distances: distances)
            let workers = 1 + Int(generator.next() % UInt64(2 * cpu + 2))
            let plan = try PlacementPlan(topology: topology, workers: workers)
            let context = "\(topology), \(workers) workers"
            XCTAssertEqual(plan.threadCount, min(workers, cpu), context)
            XCTAssertEqual(plan.threadNodes, plan.threadNodes.sorted(), context)
            XCTAssertEqual(Set(plan.threadCPUs).count, plan.threadCount, "one CPU per thread: \(context)")
            for t in 0..<plan.threadCount {
                XCTAssertTrue(topology.nodes[plan.threadNodes[t]].cpus.contains(plan.threadCPUs[t]), context)
            }
            for k in topology.nodes.indices {
                // At most one thread per CPU, and within one of the node's exact share.
                let share = Double(plan.threadCount * topology.nodes[k].cpus.count) / Double(cpu)
                XCTAssertLessThanOrEqual(plan.nodeThreads[k].count, topology.nodes[k].cpus.count, context)
                XCTAssertLessThan(abs(Double(plan.nodeThreads[k].count) - share), 1, context)
            }
            XCTAssertEqual(plan.iterationWorkers.sorted(), Array(0..<workers), context)
            for i in 0..<workers {
                XCTAssertEqual(plan.workerThreads[plan.iterationWorkers[i]], i % plan.threadCount, context)
            }
            for t in 0..<plan.threadCount {
                let order = plan.stealOrder(thread: t)
                XCTAssertEqual(order.first, t, context)
                XCTAssertEqual(order.sorted(), Array(0..<plan.threadCount), context)
                let home = plan.nodeThreads[plan.threadNodes[t]]
                XCTAssertEqual(Set(order.prefix(home.count)), Set(home), "own node first: \(context)")
            }
            XCTAssertEqual(plan.nodeWorkers.map(\.count).reduce(0, +), workers, context)
            for (k, range) in plan.nodeWorkers.enumerated() {
                for p in range { XCTAssertEqual(plan.workerNodes[p], k, context) }
            }
            for active in Set([workers, 1 + Int(generator.next() % UInt64(workers))]) {
                try checkReduction(plan.reduction(activeWorkers: active), plan: plan, active: active, context: context)
            }
        }
    }

    /// The reduction sums every active buffer exactly once into buffer 0, never reads a buffer
    /// already consumed, keeps a level's buffers distinct, and crosses nodes only after every
    /// node has summed its own buffers.
    func checkReduction(_ reduction: ReductionPlan, plan: PlacementPlan, active: Int, context: String) throws {
        var contents = (0..<active).map { Set([$0]) }
        var consumed = Set<Int>()
        var crossed = false
        for level in reduction.levels {
            var used = Set<Int>()
            for step in level.steps {
                XCTAssertTrue(used.insert(step.target).inserted && used.insert(step.source).inserted, context)
                XCTAssertFalse(consumed.contains(step.target) || consumed.contains(step.source), context)
                let sameNode = plan.workerNodes[step.target] == plan.workerNodes[step.source]
                XCTAssertEqual(sameNode, !level.crossesNodes, context)
                XCTAssertLessThan(step.target, step.source, context)
                contents[step.target].formUnion(contents[step.source])
                consumed.insert(step.source)
            }
            if level.crossesNodes { crossed = true } else { XCTAssertFalse(crossed, "node levels come first: \(context)") }
        }
        XCTAssertEqual(contents[0], Set(0..<active), context)
    }

    func testInvalidCounts() throws {
        let topology = try NUMATopology(nodes: [Node(id: 0, cpus: [0, 1])])
        XCTAssertThrowsError(try PlacementPlan(topology: topology, workers: 0)) { error in
            XCTAssertEqual(error as? BackpropError, .invalidThreadCount(0))
        }
        XCTAssertThrowsError(try PlacementPlan(topology: topology, workers: 4, threads: 3)) { error in
            XCTAssertEqual(error as? BackpropError, .invalidThreadCount(3))
        }
        XCTAssertEqual(try PlacementPlan(topology: topology, workers: 4, threads: 1).iterationWorkers, [0, 1, 2, 3])
    }
}
