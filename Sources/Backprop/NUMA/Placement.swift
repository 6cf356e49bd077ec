/// Where a `Trainer` puts its buffers on a machine with several NUMA nodes.
///
/// Reading memory of another node costs about half the bandwidth of local memory, so with
/// every placement but `.none` each worker thread is pinned to a CPU of its node and its
/// shard of the input, its activations `a`, `h`, its `delta`s and its partial gradients live
/// on that node. The weights, read by every worker, are either replicated per node or
/// interleaved over the nodes.
///
/// On a machine with one node, where `numa_available()` < 0, or where libnuma is not
/// installed, every placement is uniform (the same as `.none`: no pinning, no memory policy,
/// no extra copies; it costs nothing), and `NUMATopology.note` says why in one line.
///
/// The placement never changes results: the order of every floating-point operation depends
/// only on the topology and the worker count (see `PlacementPlan`), so training is bitwise
/// the same with each placement.
public enum Placement: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The better of `.replicated` and `.interleaved` (currently `.replicated`).
    case automatic
    /// The weights interleaved page by page over the nodes that run workers
    /// (`MPOL_INTERLEAVE`): one copy, every worker reads `(N−1)/N` of it remotely.
    case interleaved
    /// One copy of the weights per node that runs workers, refreshed from the updated master
    /// after each step by that node's workers; every worker reads its own node's copy.
    case replicated
    /// No pinning and no memory policy: the operating system places threads and pages.
    case none

    public var description: String { rawValue }

    /// What `.automatic` stands for.
    public static let automaticChoice: Placement = .replicated

    /// The placement actually used on `topology`: `.none` when the topology cannot place
    /// memory (`!topology.placesMemory`), `automaticChoice` for `.automatic`, else `self`.
    public func resolved(for topology: NUMATopology) -> Placement {
        guard topology.placesMemory else { return .none }
        return self == .automatic ? Self.automaticChoice : self
    }
}

/// Where one buffer's pages are asked to live.
public enum MemoryPlacement: Sendable, Hashable, CustomStringConvertible {
    /// No policy: pages land where they are first touched.
    case uniform
    /// On the node numbered `id` (preferred: another node only when it is full).
    case node(Int)
    /// Interleaved page by page over the nodes numbered `ids`.
    case interleaved([Int])

    public var description: String {
        switch self {
        case .uniform: return "uniform"
        case .node(let id): return "node \(id)"
        case .interleaved(let ids): return "interleaved over nodes \(ids.map(String.init).joined(separator: ","))"
        }
    }
}
