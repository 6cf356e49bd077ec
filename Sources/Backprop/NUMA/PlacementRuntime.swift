import Synchronization

/// A trainer's NUMA placement while it runs: the plan, the pinning of threads, node-placed
/// allocations (tracked for `PlacementReport`) and the topology-ordered reduction.
///
/// When the placement used is `.none` (always on a one-node machine) the runtime pins
/// nothing, allocates as the trainer would without it (64-byte-aligned heap memory, placed by
/// first touch) and only keeps the list of buffers for the report: it costs nothing per step.
/// The reduction order is the plan's whatever the placement, so results never depend on it.
final class PlacementRuntime: @unchecked Sendable {
    /// The placement asked for.
    let requested: Placement
    /// The placement in force (`requested.resolved(for: topology)`).
    let used: Placement
    /// Threads, workers and reduction order.
    let plan: PlacementPlan
    /// Whether threads are pinned and memory placed (`used != .none`).
    let isActive: Bool

    /// The node (index), rank among the node's iterations, and that count, of each iteration
    /// of a loop of `plan.workerCount` iterations (iteration `i` runs on thread `i mod T`).
    let iterationNodes: [Int]
    let iterationRanks: [Int]
    let nodeIterationCounts: [Int]
    /// `reductions[s]`: the reduction of the first `s` workers' buffers (`s` in 1...workers).
    private let reductions: [ReductionPlan]
    /// Whether `iterationWorkers` is the identity (at most one worker per thread).
    let mapsIterationsToWorkers: Bool

    private let callerPin: ThreadPin?
    private let iterationPins: [ThreadPin?]
    private let pinFailures = Atomic<Int>(0)
    private let buffers = Mutex<[UInt: TrackedBuffer]>([:])

    struct TrackedBuffer: @unchecked Sendable {
        var kind: PlacementReport.BufferKind
        var name: String
        var count: Int
        var placement: MemoryPlacement
        /// Page-backed memory when the placement is active; nil for heap memory.
        var memory: NUMAMemory?
        var base: UnsafeMutablePointer<Float>
        var order: Int
    }
    private let allocationCounter = Atomic<Int>(0)

    /// The runtime for `workers` workers on `threads` threads (at most `topology.cpuCount`).
    init(topology: NUMATopology, requested: Placement, workers: Int, threads: Int) throws {
        self.requested = requested
        used = requested.resolved(for: topology)
        isActive = used != .none
        let plan = try PlacementPlan(topology: topology, workers: workers, threads: threads)
        self.plan = plan
        var nodes: [Int] = [], ranks: [Int] = []
        var counts = [Int](repeating: 0, count: topology.nodes.count)
        for i in 0..<workers {
            let k = plan.threadNodes[i % plan.threadCount]
            nodes.append(k)
            ranks.append(counts[k])
            counts[k] += 1
        }
        iterationNodes = nodes
        iterationRanks = ranks
        nodeIterationCounts = counts
        reductions = (0...workers).map { plan.reduction(activeWorkers: max($0, 1)) }
        mapsIterationsToWorkers = plan.iterationWorkers != Array(0..<workers)
        callerPin = isActive ? ThreadPin() : nil
        iterationPins = isActive ? (0..<workers).map { _ in ThreadPin() } : []
    }

    // MARK: - Threads

    /// The CPU each pool thread is pinned to for its whole life (nil when inactive).
    var poolThreadCPUs: [Int]? { isActive ? plan.threadCPUs : nil }

    /// Pins the calling thread (pool thread `thread`, started by the trainer) for good.
    func pinOwnThread(_ thread: Int) {
        guard isActive, let pin = ThreadPin() else { return }
        if !pin.pin(to: plan.threadCPUs[thread]) { pinFailures.add(1, ordering: .relaxed) }
    }

    /// Pins the caller's thread (thread 0 of the pool) until `endCallerRegion`.
    func beginCallerRegion() {
        guard let callerPin else { return }
        if !callerPin.pin(to: plan.threadCPUs[0]) { pinFailures.add(1, ordering: .relaxed) }
    }

    /// Gives the caller's thread its own affinity back.
    func endCallerRegion() { callerPin?.restore() }

    /// Pins the thread that runs iteration `i` of a Dispatch loop, until `endIteration(i)`.
    @inline(__always)
    func beginIteration(_ i: Int) {
        guard isActive, let pin = iterationPins[i] else { return }
        if !pin.pin(to: plan.threadCPUs[i % plan.threadCount]) { pinFailures.add(1, ordering: .relaxed) }
    }

    @inline(__always)
    func endIteration(_ i: Int) {
        guard isActive else { return }
        iterationPins[i]?.restore()
    }

    /// The worker iteration `i` of a `workerCount`-iteration loop computes.
    @inline(__always)
    func worker(ofIteration i: Int) -> Int { mapsIterationsToWorkers ? plan.iterationWorkers[i] : i }

    // MARK: - Memory

    /// Where worker `worker`'s own buffers go.
    func workerPlacement(_ worker: Int) -> MemoryPlacement { plan.workerBufferPlacement(worker, placement: used) }

    /// Where the share of shared buffers that iteration `i` uses goes (its thread's node).
    func iterationPlacement(_ i: Int) -> MemoryPlacement {
        isActive ? .node(plan.topology.nodes[iterationNodes[i]].id) : .uniform
    }

    /// `count` floats, zeroed, 64-byte aligned: page-backed with `placement` when active,
    /// else heap memory (not touched, so first touch places it). Tracked for the report.
    func allocate(_ count: Int, _ placement: MemoryPlacement, kind: PlacementReport.BufferKind,
                  name: String) -> UnsafeMutablePointer<Float> {
        let memory: NUMAMemory?
        let base: UnsafeMutablePointer<Float>
        if isActive {
            let m = NUMAMemory(count: count, placement: placement)
            memory = m
            base = m.base
        } else {
            memory = nil
            base = allocateFloats(count)
            base.initialize(repeating: 0, count: max(count, 1))
        }
        let order = allocationCounter.add(1, ordering: .relaxed).newValue
        let record = TrackedBuffer(kind: kind, name: name, count: count, placement: isActive ? placement : .uniform,
                                   memory: memory, base: base, order: order)
        buffers.withSanitizedLock { $0[UInt(bitPattern: base)] = record }
        return base
    }

    /// Frees what `allocate` returned (nothing for nil).
    func free(_ pointer: UnsafeMutablePointer<Float>?) {
        guard let pointer else { return }
        let record = buffers.withSanitizedLock { $0.removeValue(forKey: UInt(bitPattern: pointer)) }
        if record?.memory == nil { freeFloats(pointer) }
    }

    /// Places the whole pages inside `count` floats at `pointer` (part of an `allocate`d
    /// buffer not yet touched there) with `placement`, and faults them in. Nothing when inactive.
    func place(_ pointer: UnsafeMutablePointer<Float>, count: Int, _ placement: MemoryPlacement) {
        guard isActive, placement != .uniform, count > 0 else { return }
        let page = NUMAMemory.pageSize
        let start = (Int(bitPattern: pointer) + page - 1) / page * page
        let end = (Int(bitPattern: pointer) + count * MemoryLayout<Float>.stride) / page * page
        guard end > start, let raw = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = NUMAMemory.bind(raw, bytes: end - start, placement)
        NUMAMemory.touchPages(raw, bytes: end - start)
    }

    // MARK: - Reduction

    /// The reduction of the first `shards` workers' buffers (precomputed: no allocation).
    @inline(__always)
    func reduction(shards: Int) -> ReductionPlan { reductions[shards] }

    /// Elements `range` of the steps of level `level` of `reduction` whose target is on the
    /// node of iteration `i` (the other nodes' iterations do theirs).
    @inline(__always)
    func runLevel(_ level: Int, of reduction: ReductionPlan, buffers: UnsafePointer<UnsafeMutablePointer<Float>>,
                  iteration i: Int, range: Range<Int>) {
        let node = iterationNodes[i]
        for step in reduction.levels[level].steps where plan.workerNodes[step.target] == node {
            TreeReduction.add(buffers[step.source] + range.lowerBound, into: buffers[step.target] + range.lowerBound,
                              count: range.count)
        }
    }

    // MARK: - Report

    /// The report, with a page census of every tracked buffer taken now.
    func report() -> PlacementReport {
        let records = buffers.withSanitizedLock { Array($0.values) }.sorted { $0.order < $1.order }
        let entries = records.map { record in
            PlacementReport.Buffer(kind: record.kind, name: record.name, bytes: record.count * MemoryLayout<Float>.stride,
                                   placement: record.placement,
                                   pages: record.count > 0
                                       ? PageCensus.of(record.base, bytes: record.count * MemoryLayout<Float>.stride) : PageCensus())
        }
        return PlacementReport(requested: requested, used: used, plan: plan, buffers: entries,
                               pinFailures: pinFailures.load(ordering: .relaxed),
                               bindingFailures: records.filter { $0.memory?.bindingFailed ?? false }.count)
    }
}
