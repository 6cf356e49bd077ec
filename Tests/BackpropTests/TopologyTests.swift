@testable import Backprop
import Foundation
import XCTest

final class TopologyTests: XCTestCase {
    func testInjectedTopologyValidation() {
        XCTAssertThrowsError(try NUMATopology(nodes: [])) { error in
            XCTAssertEqual(error as? BackpropError, .invalidConfiguration("a NUMA topology needs at least one node"))
        }
        XCTAssertThrowsError(try NUMATopology(nodes: [.init(id: 1, cpus: [0]), .init(id: 0, cpus: [1])])) { error in
            XCTAssertTrue("\(error)".contains("node 0 follows node 1"), "\(error)")
        }
        XCTAssertThrowsError(try NUMATopology(nodes: [.init(id: 0, cpus: [0, 1]), .init(id: 1, cpus: [1])])) { error in
            XCTAssertTrue("\(error)".contains("CPU 1 is listed in more than one NUMA node"), "\(error)")
        }
        XCTAssertThrowsError(try NUMATopology(nodes: [.init(id: 0, cpus: [])])) { error in
            XCTAssertTrue("\(error)".contains("node 0 has no CPUs"), "\(error)")
        }
        XCTAssertThrowsError(try NUMATopology(nodes: [.init(id: 0, cpus: [0]), .init(id: 1, cpus: [1])],
                                              distances: [[10, 20]])) { error in
            XCTAssertTrue("\(error)".contains("2×2"), "\(error)")
        }
        XCTAssertThrowsError(try NUMATopology(nodes: [.init(id: 0, cpus: [0]), .init(id: 1, cpus: [1])],
                                              distances: [[10, 0], [20, 10]])) { error in
            XCTAssertTrue("\(error)".contains("from node 0 to node 1 is 0"), "\(error)")
        }
    }

    func testDefaultDistancesAndCounts() throws {
        let topology = try NUMATopology(nodes: [.init(id: 0, cpus: [3, 1]), .init(id: 2, cpus: [4])])
        XCTAssertEqual(topology.distances, [[10, 20], [20, 10]])
        XCTAssertEqual(topology.nodes[0].cpus, [1, 3], "CPUs are sorted")
        XCTAssertEqual(topology.cpuCount, 3)
        XCTAssertEqual(topology.index(ofNode: 2), 1)
        XCTAssertNil(topology.index(ofNode: 1))
        XCTAssertTrue(topology.placesMemory)
        XCTAssertNil(topology.note)
    }

    func testCPUListFormat() {
        XCTAssertEqual(NUMATopology.parseCPUList("0-3,8-11\n"), [0, 1, 2, 3, 8, 9, 10, 11])
        XCTAssertEqual(NUMATopology.parseCPUList("5"), [5])
        XCTAssertEqual(NUMATopology.parseCPUList("\n"), [])
        XCTAssertNil(NUMATopology.parseCPUList("3-1"))
        XCTAssertNil(NUMATopology.parseCPUList("a"))
        XCTAssertEqual(NUMATopology.cpuList([0, 1, 2, 3, 8, 10, 11]), "0-3,8,10-11")
    }

    /// A fake /sys/devices/system/node with two nodes; CPU 5 is outside the allowed set and
    /// node 2 is online but has no CPUs (a memory-only node), so it is dropped.
    func testSysfsTopology() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("numa-sysfs-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let files = [
            "online": "0-2\n",
            "node0/cpulist": "0-2\n", "node0/distance": "10 21 17\n",
            "node1/cpulist": "3-5\n", "node1/distance": "21 10 28\n",
            "node2/cpulist": "\n", "node2/distance": "17 28 10\n",
        ]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let topology = try XCTUnwrap(NUMATopology.fromSysfs(root: root.path, cpus: [0, 1, 2, 3, 4],
                                                            support: .libraryMissing("test")))
        XCTAssertEqual(topology.nodes, [.init(id: 0, cpus: [0, 1, 2]), .init(id: 1, cpus: [3, 4])])
        XCTAssertEqual(topology.distances, [[10, 21], [21, 10]])
        XCTAssertEqual(topology.source, .sysfs)
        XCTAssertFalse(topology.placesMemory, "without libnuma, placement is uniform")
        XCTAssertNil(NUMATopology.fromSysfs(root: root.path + "/missing", cpus: [0], support: .available))
    }

    func testDiscoveryOnThisMachine() {
        let topology = NUMATopology.current
        let cpus = NUMATopology.allowedCPUs()
        XCTAssertEqual(topology.nodes.flatMap(\.cpus).sorted(), cpus, "every allowed CPU is in exactly one node")
        XCTAssertEqual(topology.distances.count, topology.nodes.count)
        for i in topology.nodes.indices { XCTAssertEqual(topology.distances[i][i], 10) }
        XCTAssertNotEqual(topology.source, .injected)
        if let note = topology.note {
            XCTAssertFalse(note.contains("\n"), "one line")
            XCTAssertFalse(topology.placesMemory)
        } else {
            XCTAssertTrue(topology.placesMemory)
        }
        if topology.nodes.count == 1 && topology.support.isAvailable {
            XCTAssertEqual(topology.note, "NUMA: one node (node \(topology.nodes[0].id), \(cpus.count) CPUs); uniform placement")
        }
    }

    /// With the library absent, discovery falls back to sysfs (or one node), and placement is
    /// uniform with one line saying why.
    /// `current` is the calling thread's view at each call: pinned to one CPU it holds that
    /// CPU only; unpinned again, every CPU comes back (a cached first view would keep one CPU,
    /// and every trainer made later would run one thread).
    func testCurrentFollowsTheThreadsAffinity() throws {
        let all = NUMATopology.current.cpuCount
        try XCTSkipIf(all < 2, "needs 2 CPUs to tell a pinned view from an unpinned one")
        let cpu = ThreadAffinity.current()[0]
        let pinned = ThreadAffinity.withPinned(to: [cpu]) { NUMATopology.current.cpuCount }
        XCTAssertEqual(pinned, 1)
        XCTAssertEqual(NUMATopology.current.cpuCount, all)
        let model = try MLP(sizes: [3, 4, 2], activations: [.relu, .identity], seed: 1)
        let pinnedTrainer = try ThreadAffinity.withPinned(to: [cpu]) {
            try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 2)
        }
        XCTAssertEqual(pinnedTrainer.placementReport.topology.cpuCount, 1, "made while pinned: one CPU")
        let later = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.1), threads: 2)
        XCTAssertEqual(later.placementReport.topology.cpuCount, all, "made after: every CPU again")
    }

    func testMissingLibrary() {
        let topology = NUMATopology.discover(libraryName: "libnuma-backprop-test-missing.so.1")
        guard case .libraryMissing(let message) = topology.support else {
            return XCTFail("expected .libraryMissing, got \(topology.support)")
        }
        XCTAssertTrue(message.contains("libnuma-backprop-test-missing.so.1"), message)
        XCTAssertNotEqual(topology.source, .libnuma)
        XCTAssertFalse(topology.placesMemory)
        let note = topology.note ?? "nil"
        XCTAssertTrue(note.hasPrefix("NUMA: libnuma.so.1 not loadable"), note)
        XCTAssertEqual(topology.nodes.flatMap(\.cpus).sorted(), NUMATopology.allowedCPUs())
        XCTAssertEqual(Placement.replicated.resolved(for: topology), Placement.none)

        let uniform = NUMATopology.discover(libraryName: "libnuma-backprop-test-missing.so.1",
                                            sysfsRoot: "/nonexistent-sysfs")
        XCTAssertEqual(uniform.source, .uniform)
        XCTAssertEqual(uniform.nodes.count, 1)
        XCTAssertEqual(uniform.nodes[0].cpus, NUMATopology.allowedCPUs())
    }

    func testLibnumaLoadsWhenInstalled() throws {
        let loaded = NUMALibrary.shared
        guard FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/libnuma.so.1")
            || FileManager.default.fileExists(atPath: "/usr/lib/aarch64-linux-gnu/libnuma.so.1") else {
            throw XCTSkip("libnuma1 is not installed here")
        }
        // Installed: it loads; numa_available() may still be negative in a restricted container.
        if case .libraryMissing(let message) = loaded.support { XCTFail("libnuma.so.1 is installed but: \(message)") }
        if loaded.support.isAvailable {
            let library = try XCTUnwrap(loaded.library)
            XCTAssertEqual(library.distance(from: 0, to: 0), 10)
            XCTAssertNotNil(library.node(ofCPU: NUMATopology.allowedCPUs()[0]))
            XCTAssertEqual(NUMATopology.current.source, .libnuma)
        }
    }

    func testPlacementResolution() throws {
        let two = try NUMATopology(nodes: [.init(id: 0, cpus: [0]), .init(id: 1, cpus: [1])])
        let one = try NUMATopology(nodes: [.init(id: 0, cpus: [0, 1])])
        let unavailable = try NUMATopology(nodes: [.init(id: 0, cpus: [0]), .init(id: 1, cpus: [1])], support: .unavailable)
        XCTAssertEqual(Placement.automatic.resolved(for: two), Placement.automaticChoice)
        XCTAssertEqual(Placement.interleaved.resolved(for: two), .interleaved)
        XCTAssertEqual(Placement.replicated.resolved(for: two), .replicated)
        XCTAssertEqual(Placement.none.resolved(for: two), Placement.none)
        for placement in Placement.allCases {
            XCTAssertEqual(placement.resolved(for: one), Placement.none)
            XCTAssertEqual(placement.resolved(for: unavailable), Placement.none)
        }
        XCTAssertEqual(unavailable.note, "NUMA: numa_available() < 0 (no kernel NUMA support, or memory-policy calls refused); uniform placement over 2 CPUs")
        XCTAssertEqual(Placement(rawValue: "interleaved"), .interleaved)
        XCTAssertNil(Placement(rawValue: "spread"))
        XCTAssertEqual(try Placement.parse("Replicated"), .replicated)
        XCTAssertThrowsError(try Placement.parse("spread")) { error in
            XCTAssertEqual(error as? BackpropError, .invalidConfiguration(
                "--numa: unknown placement 'spread'; expected one of automatic, interleaved, replicated, none"))
        }
    }
}
