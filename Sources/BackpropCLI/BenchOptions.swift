import Backprop

/// A bad command line: names the flag at fault. mlp-bench prints it as one line and exits 2.
public struct BenchFlagError: Error, Equatable, CustomStringConvertible {
    /// The flag (or subcommand) at fault, e.g. `--batch`.
    public var flag: String
    public var message: String

    public init(_ flag: String, _ message: String) {
        self.flag = flag
        self.message = message
    }

    public var description: String { "mlp-bench: \(flag): \(message)" }
}

/// Options of `mlp-bench` (training steps).
public struct TrainBenchOptions: Equatable, Sendable {
    public var configurations: [BenchConfiguration]
    public var threadCounts: [Int]
    /// How the trainer forms the batch sums of the gradients (`--reduction invariant|tree`).
    public var reduction: TrainerOptions.Reduction
    public var repeats: Int
    public var json: Bool
    /// Where the trainer places its buffers (`--numa automatic|interleaved|replicated|none`).
    public var placement: Placement = .automatic
    /// The optimizer flags (`--optimizer`, `--momentum`, …); `nil`: plain SGD at η = 0.01.
    public var optimizer: OptimizerConfiguration? = nil
    /// Who packs the shared GEMM operands (`--packing automatic|shared|per-worker`).
    public var packing: TrainerOptions.Packing = .automatic
}

/// Options of `mlp-bench gemm`.
public struct GEMMBenchOptions: Equatable, Sendable {
    public var configurations: [BenchConfiguration]
    public var repeats: Int
    public var json: Bool
    /// Compare with OpenBLAS when it can be loaded (`--no-openblas` turns it off).
    public var openBLAS: Bool
}

/// Options of `mlp-bench gate`.
public struct GateOptions: Equatable, Sendable {
    public var baselinePath: String
    /// Whole suite instead of the quick subset.
    public var full: Bool
    public var policy: GatePolicy
    public var repeats: Int
    public var threadCounts: [Int]
    /// Write this run's figures to `baselinePath` instead of comparing.
    public var updateBaseline: Bool
    public var json: Bool
}

/// Options of `mlp-bench --peers`: ours against PyTorch and JAX, interleaved.
public struct PeerBenchOptions: Equatable, Sendable {
    /// Suite configurations (A–D): the peers know only those.
    public var configurations: [BenchConfiguration]
    public var threadCounts: [Int]
    /// The peers to run beside ours (`--peers torch,jax`).
    public var peers: [PeerFramework]
    /// Rounds (`--repeat`); each measures every configuration, thread count and participant once.
    public var rounds: Int
    /// Timed windows of `steps` steps per measurement (`--windows`).
    public var windows: Int
    /// Scheduling priority for ours and the peers (`--nice`, as `bench.py --nice`); 0: unchanged.
    public var nice: Int
    public var json: Bool
    public var reduction: TrainerOptions.Reduction = .threadCountInvariant
    public var placement: Placement = .automatic
}

/// A parsed mlp-bench command line.
public enum BenchCommandLine: Equatable, Sendable {
    case train(TrainBenchOptions)
    case peers(PeerBenchOptions)
    case gemm(GEMMBenchOptions)
    case gate(GateOptions)
    case help
}

extension BenchCommandLine {
    public static let usage = """
    usage: mlp-bench [--layers 784,1024,1024,10 --batch 1024] [--config A,B,C,D] [--threads 1,2]
                     [--steps N] [--warmup N] [--repeat N] [--reduction invariant|tree] [--json]
                 [--packing automatic|shared|per-worker]
                     [--numa automatic|interleaved|replicated|none] [--optimizer NAME …] [--lr-warmup N]
           mlp-bench --peers [torch,jax[,torch-compile]] [--config A,B,C,D] [--threads 1,2] [--repeat 3]
                     [--windows 3] [--steps N] [--warmup N] [--nice -20] [--json]
           mlp-bench gemm [--config A,B,C,D] [--repeat N] [--no-openblas] [--json]
           mlp-bench gate [--baseline Benchmarks/baseline.json] [--full] [--threshold 7] [--max-spread 10]
                          [--min-cores-free 85] [--repeat 5] [--threads 1,2] [--update-baseline] [--json]

    Training steps (forward, backward, reduction, update; softmax cross-entropy, SGD, random data):
    samples/s, GFLOP/s (6·Σ in·out·batch per step), fraction of the fp32 peak measured in the same
    run, phase split, thread scaling, heap allocations per step and peak resident memory; medians
    and min–max over the repeats, thread counts interleaved. Default: the suite
      A 784-256-256-10 batch 256   B 784-1024-1024-10 batch 1024
      C 784-1024-1024-10 batch 8192   D 4096-4096-4096-10 batch 1024
    --peers: the same step in PyTorch and JAX (Benchmarks/peers/run.sh; Benchmarks/peers/setup.sh
    installs them), interleaved with ours, each pinned to CPUs 0..P-1 at the same --nice; --repeat
    rounds of --windows timed windows each; prints samples/s, ours ÷ the best peer against the 1.1×
    goal, and P-thread ÷ 1-thread scaling (with --json: the JSON on stdout, the tables on stderr).
    gemm: the forward (H·Wᵀ), propagation (delta·W) and weight-gradient (deltaᵀ·H) products of the
    suite's layers on one thread, beside OpenBLAS's cblas_sgemm when it is installed.
    gate: the regression gate; compares fraction of peak and GEMM/OpenBLAS ratios with the
    baseline. Exit 0 pass, 3 regression beyond the threshold, 4 unusable (a figure's relative IQR above
    --max-spread, or a multi-thread figure measured with fewer than --min-cores-free of the cores
    free), 2 bad flags.
    """

    /// Parses `arguments` (without the program name).
    /// - Throws: `BenchFlagError` naming the flag at fault.
    public static func parse(_ arguments: [String], processors: Int) throws -> BenchCommandLine {
        var args = arguments[...]
        var sub = "run"
        if let first = args.first, !first.hasPrefix("-") {
            guard ["run", "gemm", "gate"].contains(first) else {
                throw BenchFlagError(first, "unknown subcommand (expected run, gemm or gate)")
            }
            sub = first
            args = args.dropFirst()
        }
        var p = FlagReader(args)
        var layers: [Int]?, batch: Int?, configNames: [String]?, threads: [Int]?
        var steps: Int?, warmup: Int?, repeats: Int?, json = false, openBLAS = true
        var peers: [PeerFramework]?, nice: Int?, windows: Int?
        var reduction = TrainerOptions.Reduction.threadCountInvariant
        var packing: TrainerOptions.Packing?
        var placement = Placement.automatic
        var optimizer: OptimizerConfiguration?
        var baseline = "Benchmarks/baseline.json", full = false, update = false
        var threshold = GatePolicy.defaultThreshold, maxSpread = GatePolicy.defaultMaxRelativeSpread
        var minCoresFree = GatePolicy.defaultMinimumCoreAvailability
        let allowed: Set<String> = switch sub {
        case "gemm": ["--config", "--repeat", "--json", "--no-openblas"]
        case "gate": ["--baseline", "--full", "--threshold", "--max-spread", "--min-cores-free", "--repeat", "--threads",
                      "--update-baseline", "--json"]
        default: ["--layers", "--batch", "--config", "--threads", "--steps", "--warmup", "--repeat", "--json",
                  "--reduction", "--numa", "--peers", "--nice", "--windows", "--packing"]
        }
        while let flag = try p.nextFlag() {
            if flag == "--help" || flag == "-h" { return .help }
            // Optimizer flags, as mlp-train takes them; the optimizer's warm-up is `--lr-warmup` here,
            // since `--warmup` counts the benchmark's untimed steps.
            let optimizerFlag = flag == "--lr-warmup" ? "--warmup" : flag
            if sub == "run", optimizerFlag != "--warmup" || flag == "--lr-warmup",
               let takesValue = OptimizerConfiguration.takesValue(optimizerFlag) {
                var configuration = optimizer ?? OptimizerConfiguration()
                do {
                    try configuration.apply(flag: optimizerFlag, value: takesValue ? p.value(flag) : nil)
                } catch let error as OptimizerConfigurationError {
                    throw BenchFlagError(flag, "\(error)")
                }
                optimizer = configuration
                continue
            }
            guard allowed.contains(flag) else {
                throw BenchFlagError(flag, sub == "run" ? "unknown flag" : "unknown flag for mlp-bench \(sub)")
            }
            switch flag {
            case "--layers":
                let list = try p.intList(flag, minimum: 1)
                guard list.count >= 2 else { throw BenchFlagError(flag, "needs at least two sizes (input and output), got \(list.count)") }
                layers = list
            case "--batch": batch = try p.int(flag, minimum: 1)
            case "--config":
                let value = try p.value(flag)
                configNames = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                for name in configNames! where BenchSuite.configuration(named: name) == nil {
                    throw BenchFlagError(flag, "unknown configuration '\(name)' (expected A, B, C or D)")
                }
            case "--threads":
                let list = try p.intList(flag, minimum: 1, maximum: 4096)
                if let twice = list.first(where: { n in list.filter { $0 == n }.count > 1 }) {
                    throw BenchFlagError(flag, "lists \(twice) twice")
                }
                threads = list
            case "--steps": steps = try p.int(flag, minimum: 1)
            case "--warmup": warmup = try p.int(flag, minimum: 0)
            case "--repeat": repeats = try p.int(flag, minimum: sub == "gate" ? GatePolicy.defaultMinimumRepeats : 1)
            case "--json": json = true
            case "--reduction":
                let v = try p.value(flag)
                switch v {
                case "invariant", "threadCountInvariant": reduction = .threadCountInvariant
                case "tree", "perWorkerTree": reduction = .perWorkerTree
                default: throw BenchFlagError(flag, "expected invariant or tree, got '\(v)'")
                }
            case "--packing":
                let v = try p.value(flag)
                switch v {
                case "automatic": packing = .automatic
                case "shared": packing = .shared
                case "per-worker", "perWorker": packing = .perWorker
                default: throw BenchFlagError(flag, "expected automatic, shared or per-worker, got '\(v)'")
                }
            case "--numa":
                let v = try p.value(flag)
                guard let parsed = Placement(rawValue: v) else {
                    throw BenchFlagError(flag, "expected automatic, interleaved, replicated or none, got '\(v)'")
                }
                placement = parsed
            case "--peers":
                peers = try p.optionalValue().map(PeerFramework.parseList) ?? [.torch, .jax]
            case "--nice": nice = try p.int(flag, minimum: -20, maximum: 19)
            case "--windows": windows = try p.int(flag, minimum: 1)
            case "--no-openblas": openBLAS = false
            case "--baseline": baseline = try p.value(flag)
            case "--full": full = true
            case "--update-baseline": update = true
            case "--threshold": threshold = try p.percentage(flag)
            case "--max-spread": maxSpread = try p.percentage(flag)
            case "--min-cores-free": minCoresFree = try p.percentage(flag, allowHundred: true)
            default: throw BenchFlagError(flag, "unknown flag")
            }
        }
        if layers != nil && configNames != nil {
            throw BenchFlagError("--config", "cannot be combined with --layers")
        }
        if batch != nil && layers == nil { throw BenchFlagError("--batch", "needs --layers") }
        let threadCounts = threads ?? BenchSuite.defaultThreadCounts(processors: processors)
        var configurations: [BenchConfiguration]
        if let layers {
            configurations = [BenchConfiguration(name: "custom", sizes: layers, batch: batch ?? 256, steps: 10, warmup: 2)]
        } else if let configNames {
            configurations = configNames.compactMap(BenchSuite.configuration(named:))
        } else {
            configurations = BenchSuite.all
        }
        for i in configurations.indices {
            if let steps { configurations[i].steps = steps }
            if let warmup { configurations[i].warmup = warmup }
        }
        if let peers {
            if layers != nil { throw BenchFlagError("--layers", "cannot be combined with --peers (the peers run the suite A–D)") }
            if optimizer != nil {
                throw BenchFlagError("--peers", "compares plain SGD (η = 0.01) with the peers; drop the optimizer flags")
            }
            if let tooMany = threadCounts.first(where: { $0 > processors }) {
                throw BenchFlagError("--threads", "\(tooMany) threads, but --peers pins to CPUs 0..P-1 and this machine has \(processors)")
            }
            return .peers(PeerBenchOptions(configurations: configurations, threadCounts: threadCounts, peers: peers,
                                           rounds: repeats ?? 3, windows: windows ?? 3, nice: nice ?? 0, json: json,
                                           reduction: reduction, placement: placement))
        }
        if packing != nil && (peers != nil || sub == "gemm" || sub == "gate") {
            throw BenchFlagError("--packing", "applies to training steps only (not --peers, gemm or gate)")
        }
        if nice != nil { throw BenchFlagError("--nice", "needs --peers") }
        if windows != nil { throw BenchFlagError("--windows", "needs --peers") }
        switch sub {
        case "gemm":
            return .gemm(GEMMBenchOptions(configurations: configurations, repeats: repeats ?? 5, json: json,
                                          openBLAS: openBLAS))
        case "gate":
            return .gate(GateOptions(baselinePath: baseline, full: full,
                                     policy: GatePolicy(threshold: threshold, maxRelativeSpread: maxSpread,
                                                        minimumCoreAvailability: minCoresFree),
                                     repeats: repeats ?? GatePolicy.defaultMinimumRepeats, threadCounts: threadCounts,
                                     updateBaseline: update, json: json))
        default:
            return .train(TrainBenchOptions(configurations: configurations, threadCounts: threadCounts,
                                            reduction: reduction, repeats: repeats ?? 5, json: json,
                                            placement: placement, optimizer: optimizer, packing: packing ?? .automatic))
        }
    }
}

/// Reads `--flag value` and `--flag=value` pairs.
struct FlagReader {
    private var args: ArraySlice<String>
    private var pending: String?

    init(_ args: ArraySlice<String>) { self.args = args }

    /// The next flag, or nil at the end. A bare word where a flag belongs is an error.
    mutating func nextFlag() throws -> String? {
        if let pending { throw BenchFlagError(pending, "takes no value") }
        guard let next = args.popFirst() else { return nil }
        guard next.hasPrefix("--") || next == "-h" else { throw BenchFlagError(next, "unexpected argument (flags start with --)") }
        if let eq = next.firstIndex(of: "=") {
            pending = String(next[next.index(after: eq)...])
            let flag = String(next[..<eq])
            if !FlagReader.valued.contains(flag) && OptimizerConfiguration.takesValue(flag) != true {
                throw BenchFlagError(flag, "takes no value")
            }
            return flag
        }
        return next
    }

    static let valued: Set<String> = ["--layers", "--batch", "--config", "--threads", "--steps", "--warmup", "--repeat",
                                      "--reduction", "--numa", "--lr-warmup", "--peers", "--nice", "--windows", "--packing",
                                      "--baseline", "--threshold", "--max-spread", "--min-cores-free"]

    mutating func value(_ flag: String) throws -> String {
        if let v = pending {
            pending = nil
            return v
        }
        guard let v = args.popFirst(), !v.hasPrefix("--") else { throw BenchFlagError(flag, "needs a value") }
        return v
    }

    /// The value of a flag whose value is optional: `--flag=value`, or the next argument when
    /// it is not a flag; nil otherwise.
    mutating func optionalValue() -> String? {
        if let v = pending {
            pending = nil
            return v
        }
        guard let next = args.first, !next.hasPrefix("-") else { return nil }
        return args.popFirst()
    }

    mutating func int(_ flag: String, minimum: Int, maximum: Int = Int.max) throws -> Int {
        let v = try value(flag)
        guard let n = Int(v), n >= minimum, n <= maximum else {
            let range = maximum == Int.max ? "an integer ≥ \(minimum)" : "an integer in \(minimum)...\(maximum)"
            throw BenchFlagError(flag, "expected \(range), got '\(v)'")
        }
        return n
    }

    mutating func intList(_ flag: String, minimum: Int, maximum: Int = Int.max) throws -> [Int] {
        let v = try value(flag)
        let parts = v.split(separator: ",", omittingEmptySubsequences: false)
        var out: [Int] = []
        for part in parts {
            guard let n = Int(part), n >= minimum, n <= maximum else {
                throw BenchFlagError(flag, "expected a comma-separated list of integers ≥ \(minimum), got '\(v)'")
            }
            out.append(n)
        }
        return out
    }

    /// A percentage in (0, 100) (or (0, 100] with `allowHundred`), written `7` or `7%`;
    /// returned as a fraction (0.07).
    mutating func percentage(_ flag: String, allowHundred: Bool = false) throws -> Double {
        let v = try value(flag)
        let digits = v.hasSuffix("%") ? String(v.dropLast()) : v
        guard let x = Double(digits), x > 0, x < 100 || (allowHundred && x == 100) else {
            throw BenchFlagError(flag, "expected a percentage between 0 and 100 (e.g. 7 or 7%), got '\(v)'")
        }
        return x / 100
    }
}
