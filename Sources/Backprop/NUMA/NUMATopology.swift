/// The NUMA nodes of a machine: which CPUs belong to which node, and how far apart nodes are.
///
/// `NUMATopology.current` is the calling thread's view, discovered on each call (see `discover()`); the
/// initialiser builds any other, so that a `PlacementPlan` can be computed and tested for
/// machines other than the one at hand.
public struct NUMATopology: Sendable, Hashable, CustomStringConvertible {
    /// One NUMA node and its CPUs.
    public struct Node: Sendable, Hashable {
        /// The node's number as the kernel numbers it (`/sys/devices/system/node/node<id>`).
        public var id: Int
        /// The node's CPUs that this process may run on, ascending.
        public var cpus: [Int]

        public init(id: Int, cpus: [Int]) {
            self.id = id
            self.cpus = cpus
        }
    }

    /// Where the topology came from.
    public enum Source: String, Sendable, Hashable {
        /// libnuma (`numa_node_of_cpu`, `numa_distance`).
        case libnuma
        /// `/sys/devices/system/node` (libnuma absent or unusable).
        case sysfs
        /// Neither was readable: one node holding every CPU.
        case uniform
        /// Given to the initialiser.
        case injected
    }

    /// The nodes that have at least one CPU this process may use, by increasing `id`.
    public let nodes: [Node]
    /// `distances[i][j]`: the relative cost of node `nodes[i]` reaching memory of `nodes[j]`,
    /// on ACPI's scale (10 for a node's own memory; 20 or more across sockets).
    public let distances: [[Int]]
    /// Where the topology came from.
    public let source: Source
    /// Whether memory can be placed on nodes (libnuma loaded, `numa_available()` ≥ 0).
    public let support: NUMASupport

    /// A topology of `nodes`.
    /// - Parameters:
    ///   - nodes: at least one node; ids distinct, non-negative and increasing; every node with
    ///     at least one CPU; no CPU in two nodes.
    ///   - distances: `nodes.count × nodes.count` positive values; nil gives 10 on the diagonal
    ///     and 20 elsewhere.
    ///   - support: what memory placement may assume (default `.available`).
    /// - Throws: `BackpropError.invalidConfiguration` naming the node or entry at fault.
    public init(nodes: [Node], distances: [[Int]]? = nil, support: NUMASupport = .available) throws {
        guard !nodes.isEmpty else { throw BackpropError.invalidConfiguration("a NUMA topology needs at least one node") }
        var seenCPUs = Set<Int>()
        for (i, node) in nodes.enumerated() {
            guard node.id >= 0 else { throw BackpropError.invalidConfiguration("NUMA node id \(node.id) is negative") }
            if i > 0 && node.id <= nodes[i - 1].id {
                throw BackpropError.invalidConfiguration(
                    "NUMA node ids must increase: node \(node.id) follows node \(nodes[i - 1].id)")
            }
            guard !node.cpus.isEmpty else {
                throw BackpropError.invalidConfiguration("NUMA node \(node.id) has no CPUs")
            }
            for cpu in node.cpus {
                guard cpu >= 0 else { throw BackpropError.invalidConfiguration("CPU \(cpu) of NUMA node \(node.id) is negative") }
                guard seenCPUs.insert(cpu).inserted else {
                    throw BackpropError.invalidConfiguration("CPU \(cpu) is listed in more than one NUMA node (again in node \(node.id))")
                }
            }
        }
        let n = nodes.count
        let table = distances ?? (0..<n).map { i in (0..<n).map { j in i == j ? 10 : 20 } }
        guard table.count == n, table.allSatisfy({ $0.count == n }) else {
            throw BackpropError.invalidConfiguration(
                "NUMA distances must be a \(n)×\(n) table for \(n) nodes, got \(table.count) rows of \(table.map(\.count))")
        }
        for i in 0..<n {
            for j in 0..<n where table[i][j] <= 0 {
                throw BackpropError.invalidConfiguration(
                    "NUMA distance from node \(nodes[i].id) to node \(nodes[j].id) is \(table[i][j]); it must be positive")
            }
        }
        self.init(validNodes: nodes.map { Node(id: $0.id, cpus: $0.cpus.sorted()) }, distances: table,
                  source: .injected, support: support)
    }

    init(validNodes: [Node], distances: [[Int]], source: Source, support: NUMASupport) {
        nodes = validNodes
        self.distances = distances
        self.source = source
        self.support = support
    }

    /// Number of CPUs over all nodes.
    public var cpuCount: Int { nodes.reduce(0) { $0 + $1.cpus.count } }

    /// The position in `nodes` of the node numbered `id`, or nil.
    public func index(ofNode id: Int) -> Int? { nodes.firstIndex { $0.id == id } }

    /// Whether memory placement can do anything here: more than one node, and `support` available.
    /// Otherwise every placement is uniform, and `note` says why.
    public var placesMemory: Bool { nodes.count > 1 && support.isAvailable }

    /// The one informational line explaining why placement is uniform (nil when `placesMemory`).
    public var note: String? {
        guard !placesMemory else { return nil }
        if !support.isAvailable {
            return "NUMA: \(support); uniform placement over \(cpuCount) CPUs"
        }
        return "NUMA: one node (node \(nodes[0].id), \(cpuCount) CPUs); uniform placement"
    }

    public var description: String {
        let list = nodes.map { "node \($0.id): CPUs \(Self.cpuList($0.cpus))" }.joined(separator: "; ")
        return "\(nodes.count) NUMA node\(nodes.count == 1 ? "" : "s") (\(source.rawValue)): \(list)"
    }

    /// `cpus` (ascending) in the kernel's list format, `0-3,8-11`.
    static func cpuList(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count && cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(i == j ? "\(cpus[i])" : "\(cpus[i])-\(cpus[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// Parses the kernel's list format (`0-3,8-11`, `0,2`, empty), or nil when malformed.
    static func parseCPUList(_ text: String) -> [Int]? {
        let trimmed = trim(text)
        guard !trimmed.isEmpty else { return [] }
        var result: [Int] = []
        for part in trimmed.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 1, let value = Int(bounds[0]), value >= 0 {
                result.append(value)
            } else if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low >= 0, low <= high {
                result.append(contentsOf: low...high)
            } else {
                return nil
            }
        }
        return result
    }

    /// `text` without leading and trailing spaces, tabs and newlines.
    static func trim(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
              let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }
}
