/// How a trainer's threads and workers map onto the NUMA nodes of a topology: a pure
/// function of the topology and the counts, computed once per trainer.
///
/// ## Threads
/// `threadCount` threads (`T`, by default `min(workers, topology.cpuCount)`: one per core) are
/// shared among the nodes in proportion to their CPU counts (largest remainder; ties go to the
/// lower node), in blocks: node 0 gets threads `0..<t₁`, node 1 `t₁..<t₂`, … Thread `t` is pinned
/// to its own CPU, the `j`-th thread of a node to the node's `j`-th CPU (so the first physical
/// cores are used before their hyper-thread siblings under Linux's usual numbering).
///
/// ## Workers
/// A worker is one shard of the batch with its own buffers (`S = workers`). Iteration `i` of a
/// parallel loop of `S` iterations runs on thread `i mod T` (static scheduling); thread `t`
/// runs `cₜ = ⌈(S − t)/T⌉` of them. Workers are numbered in thread order: thread 0 runs workers
/// `0..<c₀`, thread 1 the next `c₁`, … so the workers of a node, and their shards of the
/// batch, are adjacent. `iterationWorkers[i]` is the worker iteration `i` must compute.
/// With `S ≤ T` it is the identity.
///
/// ## Buffers
/// A worker's buffers (its input shard, `a`, `h`, `delta`, partial gradients) live on its
/// thread's node; the weights are replicated per node with workers or interleaved over those
/// nodes (see `Placement`).
///
/// ## Reduction
/// `reduction(activeWorkers:)` sums the workers' partial gradients within each node first,
/// then across nodes, nearest nodes first (see `ReductionPlan`).
public struct PlacementPlan: Sendable, Hashable {
    /// The topology planned for.
    public let topology: NUMATopology
    /// `S`: workers (shards with their own buffers).
    public let workerCount: Int
    /// `T`: threads, each pinned to its own CPU.
    public let threadCount: Int
    /// The node (index into `topology.nodes`) of each thread; non-decreasing.
    public let threadNodes: [Int]
    /// The CPU each thread is pinned to.
    public let threadCPUs: [Int]
    /// The thread that runs each worker; non-decreasing.
    public let workerThreads: [Int]
    /// The node (index into `topology.nodes`) of each worker; non-decreasing.
    public let workerNodes: [Int]
    /// For each node (by index), its threads: adjacent, empty for a node without any.
    public let nodeThreads: [Range<Int>]
    /// For each node (by index), its workers: adjacent, empty for a node without any.
    public let nodeWorkers: [Range<Int>]
    /// For a loop of `workerCount` iterations, iteration `i` running on thread `i mod T`:
    /// the worker it computes (a permutation of `0..<workerCount`).
    public let iterationWorkers: [Int]

    /// The plan for `workers` workers on `topology`.
    /// - Parameters:
    ///   - workers: `S ≥ 1`.
    ///   - threads: `T`, from 1 to `min(workers, topology.cpuCount)`; nil for that maximum.
    /// - Throws: `BackpropError.invalidThreadCount` when `workers < 1` or `threads` is outside
    ///   that range.
    public init(topology: NUMATopology, workers: Int, threads: Int? = nil) throws {
        guard workers >= 1 else { throw BackpropError.invalidThreadCount(workers) }
        let maximum = min(workers, topology.cpuCount)
        let t = threads ?? maximum
        guard t >= 1 && t <= maximum else { throw BackpropError.invalidThreadCount(t) }
        self.topology = topology
        workerCount = workers
        threadCount = t

        // Threads per node: largest remainder of T·cₖ/C.
        let cpuCounts = topology.nodes.map(\.cpus.count)
        let total = topology.cpuCount
        var perNode = cpuCounts.map { t * $0 / total }
        let remainders = cpuCounts.map { t * $0 % total }
        var left = t - perNode.reduce(0, +)
        let order = remainders.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        for k in order where left > 0 {
            perNode[k] += 1
            left -= 1
        }

        var threadNodes: [Int] = [], threadCPUs: [Int] = [], nodeThreads: [Range<Int>] = []
        for (k, count) in perNode.enumerated() {
            nodeThreads.append(threadNodes.count..<(threadNodes.count + count))
            for j in 0..<count {
                threadNodes.append(k)
                threadCPUs.append(topology.nodes[k].cpus[j])
            }
        }

        // Workers per thread under static scheduling, numbered in thread order.
        var firstWorker: [Int] = [], workerThreads: [Int] = []
        for thread in 0..<t {
            firstWorker.append(workerThreads.count)
            let runs = (workers - thread + t - 1) / t
            workerThreads.append(contentsOf: repeatElement(thread, count: runs))
        }
        self.threadNodes = threadNodes
        self.threadCPUs = threadCPUs
        self.nodeThreads = nodeThreads
        self.workerThreads = workerThreads
        workerNodes = workerThreads.map { threadNodes[$0] }
        firstWorker.append(workers)
        nodeWorkers = nodeThreads.map { firstWorker[$0.lowerBound]..<firstWorker[$0.upperBound] }
        iterationWorkers = (0..<workers).map { i in firstWorker[i % t] + i / t }
    }

    /// Workers on each node (by index).
    public var workersPerNode: [Int] { nodeWorkers.map(\.count) }

    /// The order in which thread `thread` looks for iterations to run in a work-stealing loop
    /// (iteration lists belong to threads): its own first, then the other threads of its node
    /// (circularly, from the next one), then the other nodes' threads, nearest node first
    /// (`d(a,b) + d(b,a)`, ties to the lower node), each node's circularly from its first thread.
    /// A stolen iteration then runs on the thread's own node whenever one there is left.
    public func stealOrder(thread: Int) -> [Int] {
        let home = threadNodes[thread]
        let own = nodeThreads[home]
        var order = (0..<own.count).map { own.lowerBound + (thread - own.lowerBound + $0) % own.count }
        let distances = topology.distances
        let others = activeNodes.filter { $0 != home }.sorted { a, b in
            let da = distances[home][a] + distances[a][home], db = distances[home][b] + distances[b][home]
            return da != db ? da < db : a < b
        }
        for k in others { order.append(contentsOf: nodeThreads[k]) }
        return order
    }

    /// Indices of the nodes that run at least one thread.
    public var activeNodes: [Int] { nodeThreads.indices.filter { !nodeThreads[$0].isEmpty } }

    /// Where worker `worker`'s own buffers go under `placement` (already resolved: `.none`
    /// gives `.uniform`).
    public func workerBufferPlacement(_ worker: Int, placement: Placement) -> MemoryPlacement {
        placement == .none ? .uniform : .node(topology.nodes[workerNodes[worker]].id)
    }

    /// Where thread `thread`'s buffers go (its share of the shared buffers) under `placement`.
    public func threadBufferPlacement(_ thread: Int, placement: Placement) -> MemoryPlacement {
        placement == .none ? .uniform : .node(topology.nodes[threadNodes[thread]].id)
    }

    /// The copies of the weights under `placement` (resolved): one per active node for
    /// `.replicated` (in `activeNodes` order), one interleaved copy for `.interleaved`, one
    /// uniform copy for `.none`.
    public func weightPlacements(_ placement: Placement) -> [MemoryPlacement] {
        switch placement {
        case .replicated: return activeNodes.map { .node(topology.nodes[$0].id) }
        case .interleaved: return [.interleaved(activeNodes.map { topology.nodes[$0].id })]
        case .none, .automatic: return [.uniform]
        }
    }

    /// Which copy of `weightPlacements(placement)` worker `worker` reads.
    public func weightCopy(forWorker worker: Int, placement: Placement) -> Int {
        placement == .replicated ? activeNodes.firstIndex(of: workerNodes[worker])! : 0
    }

    /// The order in which the partial gradients of workers `0..<activeWorkers` are summed
    /// into worker 0's buffer: within each node first, then across nodes.
    public func reduction(activeWorkers: Int? = nil) -> ReductionPlan {
        let active = min(max(activeWorkers ?? workerCount, 1), workerCount)
        let groups = nodeWorkers.map { $0.clamped(to: 0..<active) }
        return ReductionPlan(groups: groups, distances: topology.distances, bufferCount: active)
    }
}
