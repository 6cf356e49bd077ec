import CBackpropSupport
import Foundation

extension NUMATopology {
    /// The topology as the calling thread sees it now: `discover()` on each call, so a thread
    /// pinned for a while (`taskset`, `ThreadAffinity.withPinned`) does not leave its one-CPU
    /// view behind for trainers made after it is unpinned. A few system calls and `/sys` reads:
    /// cheap next to making a `Trainer`, not meant for a hot loop.
    public static var current: NUMATopology { discover() }

    /// Discovers the nodes, their CPUs and distances: from libnuma when it loads and
    /// `numa_available()` ≥ 0, else from `/sys/devices/system/node`, else one node holding every
    /// CPU. Only CPUs the calling thread may run on count (a `taskset` or cgroup limit
    /// shrinks the nodes; a node left without CPUs is dropped).
    /// - Parameters:
    ///   - libraryName: the library to load (tests pass a missing name to see the fallback).
    ///   - sysfsRoot: the directory holding `online` and `node<id>/` (tests pass a copy).
    public static func discover(libraryName: String = "libnuma.so.1",
                                sysfsRoot: String = "/sys/devices/system/node") -> NUMATopology {
        let loaded = libraryName == NUMALibrary.soname ? NUMALibrary.shared : NUMALibrary.load(soname: libraryName)
        let cpus = allowedCPUs()
        if let library = loaded.library, let topology = fromLibrary(library, cpus: cpus) {
            return topology
        }
        if let topology = fromSysfs(root: sysfsRoot, cpus: cpus, support: loaded.support) {
            return topology
        }
        return NUMATopology(validNodes: [Node(id: 0, cpus: cpus)], distances: [[10]], source: .uniform,
                            support: loaded.support)
    }

    /// The CPUs the calling thread may run on (all active processors if that cannot be read).
    static func allowedCPUs() -> [Int] {
        if let mask = bp_affinity_create() {
            defer { bp_affinity_destroy(mask) }
            let count = Int(bp_affinity_cpus(mask, nil, 0))
            if count > 0 {
                var cpus = [Int32](repeating: 0, count: count)
                _ = bp_affinity_cpus(mask, &cpus, Int32(count))
                return cpus.map(Int.init)
            }
        }
        return Array(0..<max(1, ProcessInfo.processInfo.activeProcessorCount))
    }

    static func fromLibrary(_ library: NUMALibrary, cpus: [Int]) -> NUMATopology? {
        var byNode: [Int: [Int]] = [:]
        for cpu in cpus {
            guard let node = library.node(ofCPU: cpu) else { return nil }
            byNode[node, default: []].append(cpu)
        }
        let ids = byNode.keys.sorted()
        guard !ids.isEmpty else { return nil }
        let distances = ids.map { a in ids.map { b in library.distance(from: a, to: b) ?? (a == b ? 10 : 20) } }
        return NUMATopology(validNodes: ids.map { Node(id: $0, cpus: byNode[$0]!) }, distances: distances,
                            source: .libnuma, support: .available)
    }

    /// Reads `<root>/online`, `<root>/node<id>/cpulist` and `<root>/node<id>/distance` (whose
    /// columns follow the online nodes in increasing order).
    static func fromSysfs(root: String, cpus: [Int], support: NUMASupport) -> NUMATopology? {
        guard let onlineText = try? String(contentsOfFile: root + "/online", encoding: .utf8),
              let online = parseCPUList(onlineText), !online.isEmpty else { return nil }
        let allowed = Set(cpus)
        var nodes: [Node] = []
        var rows: [Int] = []
        var table: [[Int]] = []
        for (row, id) in online.enumerated() {
            guard let text = try? String(contentsOfFile: "\(root)/node\(id)/cpulist", encoding: .utf8),
                  let nodeCPUs = parseCPUList(text) else { return nil }
            let usable = nodeCPUs.filter(allowed.contains)
            let distanceText = (try? String(contentsOfFile: "\(root)/node\(id)/distance", encoding: .utf8)) ?? ""
            let distanceRow = trim(distanceText).split(separator: " ").compactMap { Int($0) }
            table.append(distanceRow.count == online.count ? distanceRow : online.map { $0 == id ? 10 : 20 })
            if !usable.isEmpty {
                nodes.append(Node(id: id, cpus: usable))
                rows.append(row)
            }
        }
        guard !nodes.isEmpty else { return nil }
        // CPUs that no node lists (should not happen) join the first node, so none is lost.
        let listed = Set(nodes.flatMap(\.cpus))
        let stray = cpus.filter { !listed.contains($0) }
        if !stray.isEmpty { nodes[0].cpus = (nodes[0].cpus + stray).sorted() }
        let distances = rows.map { i in rows.map { j in table[i][j] } }
        return NUMATopology(validNodes: nodes, distances: distances, source: .sysfs, support: support)
    }
}
