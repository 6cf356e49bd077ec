import Foundation

/// One participant's measurement of one configuration at one thread count in one round of
/// `mlp-bench --peers`: the samples/s of its timed windows.
public struct PeerSample: Codable, Equatable, Sendable {
    /// `ours`, or a peer's name (`torch`, `torch-compile`, `jax`).
    public var participant: String
    public var configuration: String
    public var threads: Int
    /// 0-based round.
    public var round: Int
    /// Samples/s of each timed window: `batch · steps / seconds`.
    public var windowRates: [Double]
    /// Per window, the share of the participant's CPUs that other processes used.
    public var otherCPUShare: [Double]
    /// The round's figure: the median over the windows.
    public var samplesPerSecond: Double

    public init(participant: String, configuration: String, threads: Int, round: Int, windowRates: [Double],
                otherCPUShare: [Double]) {
        self.participant = participant
        self.configuration = configuration
        self.threads = threads
        self.round = round
        self.windowRates = windowRates
        self.otherCPUShare = otherCPUShare
        samplesPerSecond = BenchSummary(windowRates)?.median ?? .nan
    }
}

/// How a figure stands against its goal over the rounds.
public enum PeerVerdict: String, Codable, Sendable {
    /// At or above the goal in every round.
    case met
    /// The median at or above the goal, some round below.
    case medianMet = "median met"
    /// The median below the goal.
    case notMet = "not met"

    /// The verdict on per-round values summarised by `s` against `goal`.
    public init(_ s: BenchSummary, goal: Double) {
        self = s.min >= goal ? .met : s.median >= goal ? .medianMet : .notMet
    }
}

/// A participant's summary in one row.
public struct PeerCell: Codable, Equatable, Sendable {
    public var participant: String
    /// Over the rounds: samples/s (comparison rows) or `P`-thread ÷ 1-thread rate (scaling rows).
    public var summary: BenchSummary
}

/// One configuration at one thread count: everybody's samples/s and ours over the best peer.
public struct PeerComparisonRow: Codable, Equatable, Sendable {
    public var configuration: String
    public var threads: Int
    /// Per participant (ours first), its round figures' median [min, max].
    public var cells: [PeerCell]
    /// Per round, ours ÷ the fastest peer of that round; nil when no round had both.
    public var ratioToBestPeer: BenchSummary?
    /// The peer that was fastest in most rounds (ties: the higher median).
    public var bestPeer: String?
    /// `ratioToBestPeer` against `PeerComparison.goal`.
    public var verdict: PeerVerdict?
    /// Median and maximum over every window of the row (all participants) of the share of the
    /// CPUs other processes used; nil where `/proc/stat` was not readable.
    public var otherCPUShareMedian: Double?
    public var otherCPUShareMax: Double?
}

/// One configuration at `threads` > 1: each participant's rate over its 1-thread rate, paired
/// round by round.
public struct PeerScalingRow: Codable, Equatable, Sendable {
    public var configuration: String
    public var threads: Int
    public var cells: [PeerCell]
    /// The goal for ours (`PeerComparison.scalingGoal` on C and D at 2 threads), else nil.
    public var goal: Double?
    public var verdict: PeerVerdict?
}

/// The tables of `mlp-bench --peers`, from its samples.
public struct PeerComparison: Codable, Equatable, Sendable {
    /// Ours ÷ the best peer the project aims for at every configuration and thread count.
    public static let goal = 1.1
    /// 2-thread ÷ 1-thread samples/s the project aims for on the large configurations.
    public static let scalingGoal = 1.9
    public static let scalingGoalConfigurations: Set<String> = ["C", "D"]

    public var participants: [String]
    public var rows: [PeerComparisonRow]
    public var scaling: [PeerScalingRow]

    /// Summarises `samples` for the configurations and thread counts given, in that order
    /// (`participants` is `ours` followed by the peers). A row lists the participants measured
    /// in it; a round missing ours or every peer contributes no ratio; scaling rows exist for
    /// each thread count above 1 when 1 was measured, pairing the rounds that have both.
    public init(samples: [PeerSample], participants: [String], configurations: [String], threadCounts: [Int]) {
        self.participants = participants
        let peers = participants.filter { $0 != "ours" }
        func rates(_ who: String, _ c: String, _ p: Int) -> [Int: Double] {
            var out: [Int: Double] = [:]
            for s in samples where s.participant == who && s.configuration == c && s.threads == p
                && s.samplesPerSecond.isFinite {
                out[s.round] = s.samplesPerSecond
            }
            return out
        }
        var rows: [PeerComparisonRow] = [], scaling: [PeerScalingRow] = []
        for c in configurations {
            for p in threadCounts {
                let byParticipant = participants.map { ($0, rates($0, c, p)) }
                let cells = byParticipant.compactMap { who, r in
                    BenchSummary(r.keys.sorted().map { r[$0]! }).map { PeerCell(participant: who, summary: $0) }
                }
                guard !cells.isEmpty else { continue }
                let ours = rates("ours", c, p)
                var ratios: [Double] = [], wins: [String: Int] = [:]
                for round in ours.keys.sorted() {
                    let contenders = peers.compactMap { who in rates(who, c, p)[round].map { (who, $0) } }
                    guard let best = contenders.max(by: { $0.1 < $1.1 }) else { continue }
                    ratios.append(ours[round]! / best.1)
                    wins[best.0, default: 0] += 1
                }
                let medians = Dictionary(uniqueKeysWithValues: cells.map { ($0.participant, $0.summary.median) })
                let bestPeer = wins.max { a, b in
                    a.value != b.value ? a.value < b.value : (medians[a.key] ?? 0) < (medians[b.key] ?? 0)
                }?.key
                let ratio = BenchSummary(ratios)
                let shares = samples.filter { $0.configuration == c && $0.threads == p && participants.contains($0.participant) }
                    .flatMap(\.otherCPUShare)
                let shareSummary = BenchSummary(shares)
                rows.append(PeerComparisonRow(configuration: c, threads: p, cells: cells, ratioToBestPeer: ratio,
                                              bestPeer: bestPeer, verdict: ratio.map { PeerVerdict($0, goal: Self.goal) },
                                              otherCPUShareMedian: shareSummary?.median,
                                              otherCPUShareMax: shareSummary?.max))
            }
            guard threadCounts.contains(1) else { continue }
            for p in threadCounts where p > 1 {
                let cells = participants.compactMap { who -> PeerCell? in
                    let one = rates(who, c, 1), many = rates(who, c, p)
                    let paired = many.keys.sorted().compactMap { r in one[r].map { many[r]! / $0 } }
                    return BenchSummary(paired).map { PeerCell(participant: who, summary: $0) }
                }
                guard !cells.isEmpty else { continue }
                let goal = p == 2 && Self.scalingGoalConfigurations.contains(c) ? Self.scalingGoal : nil
                let ours = cells.first { $0.participant == "ours" }
                let verdict = goal.flatMap { g in ours.map { PeerVerdict($0.summary, goal: g) } }
                scaling.append(PeerScalingRow(configuration: c, threads: p, cells: cells, goal: goal, verdict: verdict))
            }
        }
        self.rows = rows
        self.scaling = scaling
    }

    /// The samples/s table and the scaling table, as text.
    public func text() -> String {
        var t = TextTable(header: ["cfg", "P"] + participants + ["ours ÷ best peer", "≥ \(fixed(Self.goal, 1))×?", "others"],
                          rightAligned: [1])
        for row in rows {
            var line = [row.configuration, String(row.threads)]
            for who in participants {
                line.append(row.cells.first { $0.participant == who }.map { Self.rateRange($0.summary) } ?? "-")
            }
            if let r = row.ratioToBestPeer {
                line.append(Self.ratioRange(r) + (row.bestPeer.map { " vs \($0)" } ?? ""))
            } else {
                line.append("-")
            }
            line.append(row.verdict?.rawValue ?? "-")
            line.append(row.otherCPUShareMedian.map { percent0($0) + " (max " + percent0(row.otherCPUShareMax ?? $0) + ")" } ?? "?")
            t.add(line)
        }
        var out = "samples/s: median [min–max] over rounds; ours ÷ best peer: median [min–max] of the per-round ratios"
            + " to that round's fastest peer; others: share of the CPUs other processes used during the windows\n"
            + t.render()
        if !scaling.isEmpty {
            var s = TextTable(header: ["cfg", "P"] + participants + ["goal (ours)"], rightAligned: [1])
            for row in scaling {
                var line = [row.configuration, "\(row.threads)t/1t"]
                for who in participants {
                    line.append(row.cells.first { $0.participant == who }.map { Self.ratioRange($0.summary) } ?? "-")
                }
                line.append(row.goal.map { "≥ \(fixed($0, 1))×: " + (row.verdict?.rawValue ?? "-") } ?? "-")
                s.add(line)
            }
            out += "\nthread scaling: P-thread ÷ 1-thread samples/s, median [min–max] of the per-round ratios\n" + s.render()
        }
        return out
    }

    /// `165.9k [157.8k–168.0k]`.
    static func rateRange(_ s: BenchSummary) -> String {
        "\(rate(s.median)) [\(rate(s.min))–\(rate(s.max))]"
    }

    /// `1.27× [1.20–1.31]`.
    static func ratioRange(_ s: BenchSummary) -> String {
        "\(fixed(s.median, 2))× [\(fixed(s.min, 2))–\(fixed(s.max, 2))]"
    }

    /// Three significant digits, as the peers' README writes rates: `165.9k`, `1.14k`, `595`.
    static func rate(_ x: Double) -> String {
        if x >= 1e4 { return fixed(x / 1e3, 1) + "k" }
        if x >= 1e3 { return fixed(x / 1e3, 2) + "k" }
        return fixed(x, 0)
    }
}

/// `0.034` → `3%`.
private func percent0(_ x: Double) -> String { fixed(x * 100, 0) + "%" }
