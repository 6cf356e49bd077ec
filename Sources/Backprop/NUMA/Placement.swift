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
    /// in the update phase (each task copies the chunk it updated into every copy); every
    /// worker reads its own node's copy.
    case replicated
    /// No pinning and no memory policy: the operating system places threads and pages.
    case none

    public var description: String { rawValue }

    /// What `.automatic` stands for: `.replicated`.
    ///
    /// Why: in a step every worker reads all the weights twice (`A = H·Wᵀ` forward and
    /// `G = delta·W` backward), so with `.interleaved` each worker of an `N`-node machine reads
    /// `2(N−1)/N` of the weights remotely per step, while `.replicated` reads them locally and
    /// pays one refresh per step: each update task writes its freshly updated chunk into every
    /// node's copy, so `(N−1)/N` of the weights cross to each node once, whatever its number of
    /// workers. Measured where
    /// the mechanisms can run without a real second node (16 cores split into two injected
    /// nodes, H200 host; see `PlacementBenchmarkTests`), both cost the same, within 1–3% of
    /// `.none`, so the traffic argument decides. Measure on a real multi-node machine with
    /// that benchmark before changing this.
    public static let automaticChoice: Placement = .replicated

    /// Parses a command-line value (`automatic`, `interleaved`, `replicated`, `none`).
    /// - Throws: `BackpropError.invalidConfiguration` naming `flag` and the accepted values.
    public static func parse(_ text: String, flag: String = "--numa") throws -> Placement {
        guard let placement = Placement(rawValue: text.lowercased()) else {
            throw BackpropError.invalidConfiguration(
                "\(flag): unknown placement '\(text)'; expected one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return placement
    }

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
