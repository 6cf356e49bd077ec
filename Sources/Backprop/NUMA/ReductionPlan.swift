/// The order in which per-worker gradient buffers are summed into buffer 0, following the
/// NUMA topology: within each node first, then across nodes.
///
/// - Within node `k` (workers `w₀..<w₁`): a pairwise tree; level `s` adds buffer `w₀ + j + 2ˢ`
///   into buffer `w₀ + j` for each `j` that is a multiple of `2ˢ⁺¹` with `j + 2ˢ < w₁ − w₀`.
///   Every node's level `s` is part of the plan's level `s`, so nodes reduce side by side.
/// - Across nodes: each node's sum sits in its first worker's buffer (its "leader"). At each
///   cross-node level, the lowest unpaired node takes the nearest other unpaired node
///   (smallest `d(a,b) + d(b,a)`, ties to the lower node) and adds that node's leader buffer
///   into its own; a node left over waits for the next level. On equidistant nodes this is
///   the pairwise tree (0←1, 2←3, then 0←2, …); on two sockets of two nodes each it pairs the
///   nodes of a socket before crossing the socket link.
///
/// Each buffer appears at most once in a level, so a level's steps are independent and can
/// run in parallel, split over elements in any way, with bitwise the same result: the order
/// of every addition depends only on the plan.
public struct ReductionPlan: Sendable, Hashable, CustomStringConvertible {
    /// `buffers[target] += buffers[source]`.
    public struct Step: Sendable, Hashable {
        public var target: Int
        public var source: Int

        public init(target: Int, source: Int) {
            self.target = target
            self.source = source
        }
    }

    /// Steps that can run at the same time.
    public struct Level: Sendable, Hashable {
        /// The additions of this level; no buffer appears twice.
        public var steps: [Step]
        /// Whether this level adds buffers of different nodes.
        public var crossesNodes: Bool

        public init(steps: [Step], crossesNodes: Bool) {
            self.steps = steps
            self.crossesNodes = crossesNodes
        }
    }

    /// The levels, in order; empty for one buffer.
    public let levels: [Level]
    /// Buffers summed (`0..<bufferCount`).
    public let bufferCount: Int

    /// The plan for buffers grouped by node: `groups[k]` holds node `k`'s buffers (adjacent,
    /// possibly empty; together covering `0..<bufferCount` in order), `distances[k][m]` as in
    /// `NUMATopology.distances`.
    init(groups: [Range<Int>], distances: [[Int]], bufferCount: Int) {
        self.bufferCount = bufferCount
        var levels: [Level] = []
        // Within nodes.
        var span = 1
        while groups.contains(where: { $0.count > span }) {
            var steps: [Step] = []
            for group in groups {
                var j = 0
                while j + span < group.count {
                    steps.append(Step(target: group.lowerBound + j, source: group.lowerBound + j + span))
                    j += 2 * span
                }
            }
            levels.append(Level(steps: steps, crossesNodes: false))
            span *= 2
        }
        // Across nodes, nearest first.
        var remaining = groups.indices.filter { !groups[$0].isEmpty }
        while remaining.count > 1 {
            var steps: [Step] = []
            var survivors: [Int] = []
            var paired = Set<Int>()
            for a in remaining where !paired.contains(a) {
                var best: Int?
                for b in remaining where b != a && !paired.contains(b) {
                    if let current = best {
                        let db = distances[a][b] + distances[b][a]
                        let dc = distances[a][current] + distances[current][a]
                        if db < dc { best = b }
                    } else {
                        best = b
                    }
                }
                paired.insert(a)
                survivors.append(a)
                if let b = best {
                    paired.insert(b)
                    steps.append(Step(target: groups[a].lowerBound, source: groups[b].lowerBound))
                }
            }
            levels.append(Level(steps: steps, crossesNodes: true))
            remaining = survivors
        }
        self.levels = levels
    }

    /// The plain pairwise tree over `bufferCount` buffers of one node.
    public init(bufferCount: Int) {
        self.init(groups: [0..<max(bufferCount, 1)], distances: [[10]], bufferCount: max(bufferCount, 1))
    }

    /// One line per level, such as `level 0: 0←1 2←3`.
    public var description: String {
        levels.enumerated().map { s, level in
            "level \(s)\(level.crossesNodes ? " (across nodes)" : ""): "
                + level.steps.map { "\($0.target)←\($0.source)" }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
