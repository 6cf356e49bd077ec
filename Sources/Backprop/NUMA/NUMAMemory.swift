import CBackpropSupport

/// Floats in whole pages of anonymous memory (mmap), with a NUMA memory policy.
///
/// The pages are faulted in (written with zeros) when the memory is made, so that they are
/// placed by the policy now rather than wherever a later first touch happens, and no page
/// fault is left for the training step. With `.uniform` nothing is written: the pages go
/// where they are first touched (which the trainer does from the worker that uses them).
///
/// Placement is best effort: when the kernel refuses the policy (a node without memory, a
/// node that is not online, memory-policy calls blocked), the memory stays usable with the
/// default policy and `bindingFailed` is true.
final class NUMAMemory: @unchecked Sendable {
    /// The first float, page aligned.
    let base: UnsafeMutablePointer<Float>
    /// Floats.
    let count: Int
    /// Bytes mapped (whole pages).
    let byteCount: Int
    /// The policy asked for.
    let placement: MemoryPlacement
    /// Whether the kernel refused the policy.
    private(set) var bindingFailed = false

    /// `count` zeroed floats (at least one page) placed by `placement`.
    /// Traps when the address space is exhausted, as `Array` does.
    init(count: Int, placement: MemoryPlacement) {
        let page = NUMAMemory.pageSize
        self.count = count
        byteCount = max(1, (max(count, 1) * MemoryLayout<Float>.stride + page - 1) / page) * page
        guard let raw = bp_numa_map(byteCount) else {
            fatalError("mmap of \(byteCount) bytes failed: out of address space")
        }
        base = raw.bindMemory(to: Float.self, capacity: byteCount / MemoryLayout<Float>.stride)
        self.placement = placement
        if placement != .uniform {
            bindingFailed = !NUMAMemory.bind(raw, bytes: byteCount, placement)
            NUMAMemory.touchPages(raw, bytes: byteCount)
        }
    }

    deinit { bp_numa_unmap(base, byteCount) }

    /// Applies `placement` to the whole pages inside `floats` (a range of this memory) that
    /// have not been touched yet, then faults them in. Returns false when the kernel refused.
    @discardableResult
    func place(_ floats: Range<Int>, _ placement: MemoryPlacement) -> Bool {
        guard placement != .uniform, !floats.isEmpty else { return true }
        let page = NUMAMemory.pageSize
        let start = (floats.lowerBound * MemoryLayout<Float>.stride + page - 1) / page * page
        let end = floats.upperBound * MemoryLayout<Float>.stride / page * page
        guard end > start else { return true }
        let raw = UnsafeMutableRawPointer(base) + start
        let ok = NUMAMemory.bind(raw, bytes: end - start, placement)
        NUMAMemory.touchPages(raw, bytes: end - start)
        return ok
    }

    /// mbind(2) with `placement`'s policy: preferred node, or interleave. True on success.
    static func bind(_ address: UnsafeMutableRawPointer, bytes: Int, _ placement: MemoryPlacement) -> Bool {
        switch placement {
        case .uniform:
            return true
        case .node(let id):
            var node = Int32(id)
            return bp_numa_bind(address, bytes, Int32(BP_NUMA_POLICY_PREFERRED), &node, 1) == 0
        case .interleaved(let ids):
            let nodes = ids.map(Int32.init)
            return bp_numa_bind(address, bytes, Int32(BP_NUMA_POLICY_INTERLEAVE), nodes, Int32(nodes.count)) == 0
        }
    }

    /// The memory policy governing `address` and its nodes (get_mempolicy with MPOL_F_ADDR), or
    /// nil when the kernel refuses the query.
    static func policy(at address: UnsafeRawPointer) -> (placement: MemoryPlacement, mode: KernelPolicy)? {
        var mask = [UInt](repeating: 0, count: 16)
        let mode = bp_numa_policy_of_address(address, &mask, mask.count)
        guard mode >= 0 else { return nil }
        var nodes: [Int] = []
        for (word, bits) in mask.enumerated() {
            for bit in 0..<UInt.bitWidth where bits & (1 << UInt(bit)) != 0 { nodes.append(word * UInt.bitWidth + bit) }
        }
        switch mode {
        case Int32(BP_NUMA_POLICY_DEFAULT): return (.uniform, .default)
        case Int32(BP_NUMA_POLICY_PREFERRED) where nodes.count == 1: return (.node(nodes[0]), .preferred)
        case Int32(BP_NUMA_POLICY_BIND): return (nodes.count == 1 ? .node(nodes[0]) : .interleaved(nodes), .bind)
        case Int32(BP_NUMA_POLICY_INTERLEAVE): return (.interleaved(nodes), .interleave)
        default: return (.uniform, .other(mode))
        }
    }

    /// The kernel's memory-policy modes (mbind(2), get_mempolicy(2)).
    enum KernelPolicy: Equatable {
        case `default`, preferred, bind, interleave
        case other(Int32)
    }

    /// Bytes in a page.
    static let pageSize = Int(bp_page_size())

    /// The node of the page holding `address` (get_mempolicy with MPOL_F_NODE | MPOL_F_ADDR),
    /// or nil when the page is not faulted in or the kernel refuses the query.
    static func node(of address: UnsafeRawPointer) -> Int? {
        let node = bp_numa_node_of_address(address)
        return node >= 0 ? Int(node) : nil
    }

    /// Writes a zero into each page so that the kernel allocates it (under the policy in force).
    static func touchPages(_ address: UnsafeMutableRawPointer, bytes: Int) {
        let page = NUMAMemory.pageSize
        var offset = 0
        while offset < bytes {
            address.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            offset += page
        }
    }
}

/// Where the pages of a range of memory are: pages per node, and pages not placed yet.
public struct PageCensus: Sendable, Hashable, CustomStringConvertible {
    /// Pages on each node id.
    public var pagesByNode: [Int: Int]
    /// Pages not yet faulted in (never touched).
    public var untouched: Int
    /// Pages whose node could not be read (an error other than "not present").
    public var unknown: Int

    public init(pagesByNode: [Int: Int] = [:], untouched: Int = 0, unknown: Int = 0) {
        self.pagesByNode = pagesByNode
        self.untouched = untouched
        self.unknown = unknown
    }

    /// All pages counted.
    public var total: Int { pagesByNode.values.reduce(0, +) + untouched + unknown }

    /// Counts the pages of `bytes` bytes at `address` with move_pages(2) (`nodes` = NULL, which
    /// moves nothing); nil when the kernel refuses the query (no NUMA support, or blocked).
    public static func of(_ address: UnsafeRawPointer, bytes: Int) -> PageCensus? {
        let page = NUMAMemory.pageSize
        let capacity = (bytes + 2 * page - 1) / page + 1
        var status = [Int32](repeating: 0, count: capacity)
        let pages = Int(bp_numa_page_nodes(address, bytes, &status, capacity))
        guard pages >= 0 else { return nil }
        var census = PageCensus()
        for i in 0..<pages {
            let s = Int(status[i])
            if s >= 0 {
                census.pagesByNode[s, default: 0] += 1
            } else if s == -2 /* ENOENT */ {
                census.untouched += 1
            } else {
                census.unknown += 1
            }
        }
        return census
    }

    public var description: String {
        var parts = pagesByNode.keys.sorted().map { "node \($0): \(pagesByNode[$0]!)" }
        if untouched > 0 { parts.append("untouched: \(untouched)") }
        if unknown > 0 { parts.append("unknown: \(unknown)") }
        return parts.isEmpty ? "no pages" : parts.joined(separator: ", ")
    }
}
