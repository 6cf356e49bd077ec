/// What a gate figure measures. Both kinds are machine-independent and higher is better.
public enum GateFigureKind: String, Codable, Sendable {
    /// A training configuration's GFLOP/s over the fp32 peak measured in the same run.
    case fractionOfPeak
    /// Our GEMM's GFLOP/s over OpenBLAS's `cblas_sgemm` on the same shape, in the same run.
    case ratioToOpenBLAS
}

/// One figure the regression gate compares, with its spread over the run's repeats.
public struct GateFigure: Codable, Equatable, Sendable {
    /// Stable key, e.g. `train B P=2` or `gemm forward 1024x1024x784`.
    public var name: String
    public var kind: GateFigureKind
    public var summary: BenchSummary
    /// For multi-thread training figures: the median share of the cores the run had
    /// (`TrainingMeasurement.coreAvailability`); nil otherwise.
    public var coreAvailability: Double?

    public init(name: String, kind: GateFigureKind, summary: BenchSummary, coreAvailability: Double? = nil) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.coreAvailability = coreAvailability
    }
}

/// The figures of one gate run, as `Benchmarks/baseline.json` stores them.
public struct GateMeasurement: Codable, Equatable, Sendable {
    /// Format version of the file.
    public var schema: Int
    /// The machine the figures came from, in words (informational only).
    public var machine: String
    /// Instruction set of the kernels and the peak loop; figures of different ISAs are not compared.
    public var isa: String
    /// `openblas_get_corename()` of the OpenBLAS the ratios were measured against (nil without OpenBLAS);
    /// ratios against a different core are not compared.
    public var openBLASCore: String?
    public var figures: [GateFigure]

    public static let currentSchema = 1

    public init(machine: String, isa: String, openBLASCore: String?, figures: [GateFigure]) {
        schema = GateMeasurement.currentSchema
        self.machine = machine
        self.isa = isa
        self.openBLASCore = openBLASCore
        self.figures = figures
    }

    /// The figure called `name`, if measured.
    public func figure(named name: String) -> GateFigure? { figures.first { $0.name == name } }
}

/// The gate's tolerances.
public struct GatePolicy: Equatable, Sendable {
    /// A figure regresses when its median falls below `baseline · (1 − threshold)` (0.07 = 7%).
    public var threshold: Double
    /// A figure whose relative interquartile range `(q3 − q1) / median` exceeds this is too noisy
    /// to judge, and the run is unusable.
    public var maxRelativeSpread: Double
    /// Fewest repeats a figure needs to be judged.
    public var minimumRepeats: Int
    /// A multi-thread figure measured while the run had less than this share of its cores
    /// (other processes held them) cannot be judged: the run is unusable.
    public var minimumCoreAvailability: Double

    public static let defaultThreshold = 0.07
    public static let defaultMaxRelativeSpread = 0.10
    public static let defaultMinimumRepeats = 5
    public static let defaultMinimumCoreAvailability = 0.85

    public init(threshold: Double = GatePolicy.defaultThreshold,
                maxRelativeSpread: Double = GatePolicy.defaultMaxRelativeSpread,
                minimumRepeats: Int = GatePolicy.defaultMinimumRepeats,
                minimumCoreAvailability: Double = GatePolicy.defaultMinimumCoreAvailability) {
        self.threshold = threshold
        self.maxRelativeSpread = maxRelativeSpread
        self.minimumRepeats = minimumRepeats
        self.minimumCoreAvailability = minimumCoreAvailability
    }
}

/// The gate's judgement of one figure.
public enum GateVerdict: String, Codable, Sendable {
    /// At least `threshold` above the baseline.
    case better
    /// Within `threshold` of the baseline either way.
    case within
    /// More than `threshold` below the baseline: the gate fails.
    case regressed
    /// Too noisy (spread above the bound) or too few repeats: the run is unusable.
    case noisy
    /// Measured under conditions the baseline cannot be compared with (another ISA or OpenBLAS core).
    case incomparable
    /// Not in the baseline; reported, never judged.
    case new
    /// Could not be measured in this run (e.g. no OpenBLAS); reported, never judged.
    case unavailable
}

/// One row of the gate's table.
public struct GateRow: Codable, Equatable, Sendable {
    public var name: String
    public var kind: GateFigureKind
    /// Baseline median, when the baseline has the figure.
    public var baseline: Double?
    /// This run's median, when measured.
    public var now: Double?
    /// `now / baseline − 1`, when both exist.
    public var change: Double?
    /// This run's relative interquartile range.
    public var spread: Double?
    public var verdict: GateVerdict
    /// Why, for verdicts that need a reason.
    public var note: String?
}

/// The gate's overall outcome, with the process exit code of each.
public enum GateOutcome: String, Codable, Sendable {
    /// No figure regressed beyond the threshold (exit 0).
    case pass
    /// At least one judged figure regressed beyond the threshold (exit 3).
    case regression
    /// No regression seen, but some figure could not be judged: too noisy, too few repeats or
    /// incomparable conditions (exit 4).
    case unusable

    public var exitCode: Int32 {
        switch self {
        case .pass: return 0
        case .regression: return 3
        case .unusable: return 4
        }
    }
}

/// The comparison of a run with a baseline.
public struct GateResult: Codable, Equatable, Sendable {
    public var rows: [GateRow]
    public var outcome: GateOutcome
    public var threshold: Double
    public var maxRelativeSpread: Double
}

/// The regression gate's comparison logic (the measuring is elsewhere).
public enum Gate {
    /// Compares `now` with `baseline` figure by figure, in `now`'s order.
    ///
    /// Every figure of `now` gets a row. A figure the baseline lacks is `new`; one `now` could
    /// not measure is listed in `unavailable` names. A figure with fewer than
    /// `policy.minimumRepeats` repeats, a relative spread above `policy.maxRelativeSpread`, or
    /// (multi-thread figures) a core availability below `policy.minimumCoreAvailability` is `noisy`; a figure measured on another ISA, or a ratio against another OpenBLAS core,
    /// is `incomparable`. Otherwise the change `now/baseline − 1` decides: below `−threshold`
    /// is `regressed` when this run's upper quartile is below the bar `baseline·(1 − threshold)`
    /// too, and `noisy` (inconclusive) when it is not; above `+threshold` is `better`, else
    /// `within` (exactly `−threshold` passes).
    ///
    /// Outcome: `regression` when any figure regressed (a regression of a figure whose own
    /// spread is small is real even if another figure was noisy), else `unusable` when any
    /// figure was noisy or incomparable, else `pass`. Baseline figures this run did not measure
    /// (a quick run against a full baseline) are ignored.
    public static func compare(baseline: GateMeasurement, now: GateMeasurement, policy: GatePolicy,
                               unavailable: [(name: String, kind: GateFigureKind, reason: String)] = [])
        -> GateResult {
        var rows: [GateRow] = []
        for f in now.figures {
            var row = GateRow(name: f.name, kind: f.kind, baseline: nil, now: f.summary.median, change: nil,
                              spread: f.summary.relativeSpread, verdict: .new, note: nil)
            guard let b = baseline.figure(named: f.name), b.kind == f.kind else {
                row.note = "not in the baseline"
                rows.append(row)
                continue
            }
            row.baseline = b.summary.median
            if b.summary.median > 0 { row.change = f.summary.median / b.summary.median - 1 }
            if baseline.isa != now.isa {
                row.verdict = .incomparable
                row.note = "baseline ISA \(baseline.isa), now \(now.isa)"
            } else if f.kind == .ratioToOpenBLAS && baseline.openBLASCore != now.openBLASCore {
                row.verdict = .incomparable
                row.note = "baseline OpenBLAS core \(baseline.openBLASCore ?? "none"), now \(now.openBLASCore ?? "none")"
            } else if f.summary.count < policy.minimumRepeats {
                row.verdict = .noisy
                row.note = "\(f.summary.count) repeats, needs \(policy.minimumRepeats)"
            } else if !(f.summary.relativeSpread <= policy.maxRelativeSpread) {
                row.verdict = .noisy
                row.note = "spread \(percent(f.summary.relativeSpread)) > \(percent(policy.maxRelativeSpread))"
            } else if let available = f.coreAvailability, !(available >= policy.minimumCoreAvailability) {
                row.verdict = .noisy
                row.note = "cores busy: \(percent(available)) free < \(percent(policy.minimumCoreAvailability))"
            } else if let change = row.change {
                let bar = b.summary.median * (1 - policy.threshold)
                if change < -policy.threshold && f.summary.q3 < bar {
                    row.verdict = .regressed
                } else if change < -policy.threshold {
                    row.verdict = .noisy
                    row.note = "median below the bar, upper quartile \(signedPercent(f.summary.q3 / b.summary.median - 1))"
                        + " not: inconclusive"
                } else if change > policy.threshold {
                    row.verdict = .better
                } else {
                    row.verdict = .within
                }
            } else {
                row.verdict = .incomparable
                row.note = "baseline median is not positive"
            }
            rows.append(row)
        }
        for u in unavailable {
            rows.append(GateRow(name: u.name, kind: u.kind, baseline: baseline.figure(named: u.name)?.summary.median,
                                now: nil, change: nil, spread: nil, verdict: .unavailable, note: u.reason))
        }
        let outcome: GateOutcome
        if rows.contains(where: { $0.verdict == .regressed }) {
            outcome = .regression
        } else if rows.contains(where: { $0.verdict == .noisy || $0.verdict == .incomparable }) {
            outcome = .unusable
        } else {
            outcome = .pass
        }
        return GateResult(rows: rows, outcome: outcome, threshold: policy.threshold,
                          maxRelativeSpread: policy.maxRelativeSpread)
    }

    /// Whether `measurement` may become a baseline: every figure has enough repeats, a spread
    /// within the bound and (multi-thread) enough free cores. Returns the names of the figures at fault.
    public static func unfitForBaseline(_ measurement: GateMeasurement, policy: GatePolicy) -> [String] {
        measurement.figures.filter {
            $0.summary.count < policy.minimumRepeats || !($0.summary.relativeSpread <= policy.maxRelativeSpread)
                || !(($0.coreAvailability ?? 1) >= policy.minimumCoreAvailability)
        }.map(\.name)
    }

    /// The gate's table: figure, baseline, now, change, spread, verdict.
    public static func table(_ result: GateResult) -> String {
        var t = TextTable(header: ["figure", "kind", "baseline", "now", "change", "spread", "verdict"],
                          rightAligned: [2, 3, 4, 5])
        for r in result.rows {
            let format: (Double) -> String = r.kind == .fractionOfPeak ? { percent($0) } : { fixed($0, 3) }
            var verdict = r.verdict == .regressed ? "REGRESSED" : r.verdict.rawValue
            if let note = r.note { verdict += " (\(note))" }
            t.add([r.name, r.kind == .fractionOfPeak ? "of peak" : "÷ OpenBLAS",
                   r.baseline.map(format) ?? "—", r.now.map(format) ?? "—",
                   r.change.map(signedPercent) ?? "—", r.spread.map { percent($0) } ?? "—", verdict])
        }
        var out = t.render()
        let explanation: String
        switch result.outcome {
        case .pass: explanation = "no figure fell more than \(percent(result.threshold)) below the baseline"
        case .regression: explanation = "a figure fell more than \(percent(result.threshold)) below the baseline"
        case .unusable:
            explanation = "some figure could not be judged (relative IQR above \(percent(result.maxRelativeSpread)),"
                + " cores held by other processes, too few repeats, or conditions unlike the baseline's)"
        }
        out += "gate: \(result.outcome.rawValue.uppercased()) (exit \(result.outcome.exitCode)): \(explanation)\n"
        return out
    }
}
