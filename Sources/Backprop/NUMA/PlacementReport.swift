/// What a `Trainer`'s NUMA placement did: the placement used, the nodes and their workers, and
/// on which nodes the pages of the main buffers are, counted with move_pages(2) when the
/// report is made (`Trainer.placementReport`).
///
/// `description` is a few lines for a tool to print, for example:
/// ```
/// NUMA placement: replicated (asked: automatic); 2 nodes (libnuma)
///   node 0: CPUs 0-7, 8 threads, 8 workers; node 1: CPUs 8-15, 8 threads, 8 workers
///   weights           7.1 MiB  node 0: 1817
///   weight replicas  14.2 MiB  node 0: 1817, node 1: 1817
///   …
/// ```
public struct PlacementReport: Sendable, Hashable, CustomStringConvertible {
    /// What a buffer holds.
    public enum BufferKind: String, Sendable, Hashable, CaseIterable {
        /// The parameters the optimizer updates (the master copy).
        case weights
        /// Per-node copies of the weights (`.replicated`).
        case weightReplicas = "weight replicas"
        /// Gradients (per worker, or shared).
        case gradients
        /// `a`, `h` and `delta` of every layer.
        case activations
        /// The workers' copies of their shards of the input.
        case input
        /// The optimizer's per-parameter state.
        case optimizerState = "optimizer state"
        /// GEMM scratch space.
        case workspace
        /// Operands packed once into the GEMM's panel order and shared by the workers.
        case packedOperands = "packed operands"
    }

    /// One tracked buffer.
    public struct Buffer: Sendable, Hashable {
        public var kind: BufferKind
        /// Such as `gradients (worker 3)`.
        public var name: String
        public var bytes: Int
        /// The policy asked for (`.uniform` when the placement used is `.none`).
        public var placement: MemoryPlacement
        /// Its pages per node when the report was made; nil when the kernel refused the query.
        public var pages: PageCensus?
    }

    /// The placement asked for.
    public var requested: Placement
    /// The placement in force (`.none` when the machine cannot place memory).
    public var used: Placement
    /// The threads, workers and reduction order.
    public var plan: PlacementPlan
    /// Every buffer, in allocation order.
    public var buffers: [Buffer]
    /// Threads whose pinning the kernel refused (a CPU outside the process's cpuset, say).
    public var pinFailures: Int
    /// Buffers whose memory policy the kernel refused (they use the default policy).
    public var bindingFailures: Int

    /// The topology.
    public var topology: NUMATopology { plan.topology }
    /// The one informational line when placement is uniform (see `NUMATopology.note`).
    public var note: String? { used == .none ? topology.note ?? "NUMA: placement none: uniform placement" : nil }

    /// The pages of all buffers of `kind` together (nil when some census failed).
    public func pages(of kind: BufferKind) -> PageCensus? {
        var total = PageCensus()
        for buffer in buffers where buffer.kind == kind {
            guard let pages = buffer.pages else { return nil }
            for (node, count) in pages.pagesByNode { total.pagesByNode[node, default: 0] += count }
            total.untouched += pages.untouched
            total.unknown += pages.unknown
        }
        return total
    }

    /// Bytes of all buffers of `kind`.
    public func bytes(of kind: BufferKind) -> Int {
        buffers.filter { $0.kind == kind }.reduce(0) { $0 + $1.bytes }
    }

    public var description: String {
        var lines = ["NUMA placement: \(used) (asked: \(requested)); \(topology.nodes.count) node\(topology.nodes.count == 1 ? "" : "s") (\(topology.source.rawValue))"]
        lines.append("  " + topology.nodes.indices.map { k in
            "node \(topology.nodes[k].id): CPUs \(NUMATopology.cpuList(topology.nodes[k].cpus)), "
                + "\(plan.nodeThreads[k].count) threads, \(plan.nodeWorkers[k].count) workers"
        }.joined(separator: "; "))
        for kind in BufferKind.allCases where bytes(of: kind) > 0 {
            let tenths = Int((Double(bytes(of: kind)) / 1_048_576 * 10).rounded())
            let label = kind.rawValue + String(repeating: " ", count: max(0, 16 - kind.rawValue.count))
            let size = "\(tenths / 10).\(tenths % 10)"
            lines.append("  \(label) \(size) MiB  \(pages(of: kind).map(\.description) ?? "pages unknown")")
        }
        if pinFailures > 0 { lines.append("  \(pinFailures) thread pinning(s) refused") }
        if bindingFailures > 0 { lines.append("  \(bindingFailures) buffer(s) kept the default memory policy (policy refused)") }
        if let note { lines.append("  \(note)") }
        return lines.joined(separator: "\n")
    }
}
