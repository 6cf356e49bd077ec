@testable import Backprop
import XCTest

/// Pages really land where they are asked to: checked with move_pages(2) (nodes = NULL) and
/// get_mempolicy(MPOL_F_NODE | MPOL_F_ADDR), on every node of this machine.
final class NUMAMemoryTests: XCTestCase {
    func requireMemoryPolicies() throws {
        guard NUMATopology.current.support.isAvailable else {
            throw XCTSkip("memory policies unavailable: \(NUMATopology.current.support)")
        }
    }

    func testNodeLocalPagesOnEveryNode() throws {
        try requireMemoryPolicies()
        for node in NUMATopology.current.nodes {
            let memory = NUMAMemory(count: 300_000, placement: .node(node.id))
            XCTAssertFalse(memory.bindingFailed)
            let census = try XCTUnwrap(PageCensus.of(memory.base, bytes: memory.byteCount))
            XCTAssertEqual(census.pagesByNode, [node.id: memory.byteCount / NUMAMemory.pageSize], "\(census)")
            XCTAssertEqual(census.untouched, 0)
            // The second query route agrees, page by page.
            let page = NUMAMemory.pageSize / MemoryLayout<Float>.stride
            for offset in stride(from: 0, to: memory.count, by: 37 * page) {
                XCTAssertEqual(NUMAMemory.node(of: memory.base + offset), node.id)
            }
            // And the kernel holds the policy asked for (not merely a lucky first touch).
            let policy = try XCTUnwrap(NUMAMemory.policy(at: memory.base))
            XCTAssertEqual(policy.placement, .node(node.id))
            XCTAssertEqual(policy.mode, .preferred)
        }
    }

    func testInterleavedPages() throws {
        try requireMemoryPolicies()
        let ids = NUMATopology.current.nodes.map(\.id)
        let memory = NUMAMemory(count: 1 << 20, placement: .interleaved(ids))
        XCTAssertFalse(memory.bindingFailed)
        let census = try XCTUnwrap(PageCensus.of(memory.base, bytes: memory.byteCount))
        XCTAssertEqual(Set(census.pagesByNode.keys), Set(ids))
        let pages = memory.byteCount / NUMAMemory.pageSize
        for id in ids {
            // Interleaving is page-round-robin: each node holds its share, within one page.
            XCTAssertLessThanOrEqual(abs(census.pagesByNode[id]! * ids.count - pages), ids.count, "\(census)")
        }
        XCTAssertEqual(try XCTUnwrap(NUMAMemory.policy(at: memory.base)).placement, .interleaved(ids))
    }

    func testUniformMemoryIsPlacedByFirstTouch() throws {
        try requireMemoryPolicies()
        let memory = NUMAMemory(count: 100_000, placement: .uniform)
        let before = try XCTUnwrap(PageCensus.of(memory.base, bytes: memory.byteCount))
        XCTAssertEqual(before.untouched, memory.byteCount / NUMAMemory.pageSize, "no page is faulted in: \(before)")
        XCTAssertEqual(try XCTUnwrap(NUMAMemory.policy(at: memory.base)).mode, .default)
        memory.base.initialize(repeating: 1, count: memory.count)
        let after = try XCTUnwrap(PageCensus.of(memory.base, bytes: memory.byteCount))
        XCTAssertEqual(after.untouched, 0)
        XCTAssertEqual(after.pagesByNode.values.reduce(0, +), memory.byteCount / NUMAMemory.pageSize)
    }

    /// Sub-ranges of one buffer go to different nodes (the trainer's shared batch buffers);
    /// pages shared by two ranges are left to first touch.
    func testPlacingRanges() throws {
        try requireMemoryPolicies()
        let nodes = NUMATopology.current.nodes.map(\.id)
        let memory = NUMAMemory(count: 400_000, placement: .uniform)
        let quarter = memory.count / 4
        for q in 0..<4 {
            XCTAssertTrue(memory.place((q * quarter)..<((q + 1) * quarter), .node(nodes[q % nodes.count])))
        }
        for q in 0..<4 {
            let range = (q * quarter + 2048)..<((q + 1) * quarter - 2048)  // whole pages inside the quarter
            let census = try XCTUnwrap(PageCensus.of(memory.base + range.lowerBound,
                                                     bytes: range.count * MemoryLayout<Float>.stride))
            XCTAssertEqual(Array(census.pagesByNode.keys), [nodes[q % nodes.count]], "quarter \(q): \(census)")
        }
    }

    /// A node that does not exist: the kernel refuses, the memory still works (best effort).
    func testRefusedPolicyFallsBack() throws {
        try requireMemoryPolicies()
        let missing = (NUMATopology.current.nodes.map(\.id).max() ?? 0) + 200
        let memory = NUMAMemory(count: 10_000, placement: .node(missing))
        XCTAssertTrue(memory.bindingFailed)
        memory.base[9_999] = 3
        XCTAssertEqual(memory.base[9_999], 3)
        let census = try XCTUnwrap(PageCensus.of(memory.base, bytes: memory.byteCount))
        XCTAssertNil(census.pagesByNode[missing])
        XCTAssertEqual(census.untouched, 0)
    }

    func testCensusDescription() {
        let census = PageCensus(pagesByNode: [1: 3, 0: 5], untouched: 2)
        XCTAssertEqual(census.description, "node 0: 5, node 1: 3, untouched: 2")
        XCTAssertEqual(census.total, 10)
    }
}
