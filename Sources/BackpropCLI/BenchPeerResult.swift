import Foundation

/// A peer framework `mlp-bench --peers` runs through `Benchmarks/peers/run.sh`.
public enum PeerFramework: String, Codable, CaseIterable, Sendable {
    /// PyTorch, eager mode (`nn.Sequential`, `F.cross_entropy`, `torch.optim.SGD`).
    case torch
    /// PyTorch with model, loss and optimizer step wrapped in `torch.compile` (inductor).
    case torchCompile = "torch-compile"
    /// JAX: the step under `jax.jit` with the parameters donated.
    case jax

    /// What `bench.py` reports for this framework: its `framework` and `mode` fields.
    var expectedFields: (framework: String, mode: String) {
        switch self {
        case .torch: ("torch", "eager")
        case .torchCompile: ("torch", "compile")
        case .jax: ("jax", "jit")
        }
    }

    /// Parses `torch,jax[,torch-compile]` (the value of `--peers`).
    /// - Throws: `BenchFlagError` for `--peers` naming an unknown or repeated framework.
    static func parseList(_ text: String) throws -> [PeerFramework] {
        var out: [PeerFramework] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let framework = PeerFramework(rawValue: part.lowercased()) else {
                throw BenchFlagError("--peers", "unknown framework '\(part)' (expected torch, torch-compile or jax)")
            }
            guard !out.contains(framework) else { throw BenchFlagError("--peers", "lists \(framework.rawValue) twice") }
            out.append(framework)
        }
        return out
    }
}

/// Why a peer measurement could not be had. `mlp-bench` prints the description as one message
/// and exits 1.
public enum PeerError: Error, Equatable, CustomStringConvertible {
    /// No `Benchmarks/peers/run.sh` in any of the directories searched.
    case runnerMissing(searched: [String])
    /// `directory/.venv` is missing or was never completed by `setup.sh`.
    case venvMissing(directory: String)
    /// `run.sh` could not be started.
    case launchFailed(path: String, reason: String)
    /// The peer exited with `status` (its stderr's last lines in `stderrTail`).
    case failed(peer: String, configuration: String, threads: Int, status: Int32, stderrTail: String)
    /// The peer exited 0 but its JSON line is missing, unreadable or describes another run.
    case malformed(peer: String, configuration: String, threads: Int, reason: String)
    /// Ours would not run on the thread count asked for (the trainer found fewer CPUs).
    case ownThreadCount(configuration: String, threads: Int, running: Int, topologyCPUs: Int)

    public var description: String {
        switch self {
        case .runnerMissing(let searched):
            return "--peers: Benchmarks/peers/run.sh not found (looked in \(searched.joined(separator: ", "))); "
                + "run mlp-bench from the repository root or set BACKPROP_PEERS_DIR"
        case .venvMissing(let directory):
            return "--peers: the peers' Python environment \(directory)/.venv is not set up; "
                + "run Benchmarks/peers/setup.sh first (once, ~1.5 GB)"
        case .launchFailed(let path, let reason):
            return "--peers: cannot start \(path): \(reason)"
        case .failed(let peer, let configuration, let threads, let status, let tail):
            let hint = status == 3 ? " (its venv is missing: run Benchmarks/peers/setup.sh)"
                : " (check the venv with Benchmarks/peers/setup.sh)"
            return "--peers: \(peer) on \(configuration) with \(threads) thread(s) failed with exit status \(status)\(hint)"
                + (tail.isEmpty ? "" : ":\n" + tail)
        case .malformed(let peer, let configuration, let threads, let reason):
            return "--peers: \(peer) on \(configuration) with \(threads) thread(s): \(reason)"
        case .ownThreadCount(let configuration, let threads, let running, let cpus):
            return "--peers: ours on \(configuration) would run \(running) thread(s) instead of \(threads): "
                + "the library's topology lists \(cpus) CPU(s)"
        }
    }
}

/// One measurement of a peer: the JSON line `bench.py --json` prints (see
/// `Benchmarks/peers/README.md`), the fields `mlp-bench --peers` uses.
public struct PeerResult: Codable, Equatable, Sendable {
    /// `torch` or `jax`.
    public var framework: String
    /// `eager`, `compile` or `jit`.
    public var mode: String
    /// The framework's version, e.g. `2.13.0+cpu`.
    public var version: String
    /// `A`…`D`, or nil for another shape.
    public var config: String?
    public var layers: [Int]
    public var batch: Int
    public var threads: Int
    /// Timed steps per window.
    public var steps: Int
    /// Untimed steps after the first (compiling) one.
    public var warmup: Int
    /// Timed windows (`repeat` in the JSON).
    public var windows: Int
    /// Median samples/s over the windows.
    public var samplesPerSecondMedian: Double
    /// Seconds per step of each window.
    public var stepSeconds: [Double]
    /// The CPUs the worker ran on.
    public var affinity: [Int]
    /// The worker's nice value and its autogroup's (nil where there are no autogroups).
    public var nice: Int
    public var autogroupNice: Int?
    /// Per window, the share of the worker's CPUs other processes used.
    public var otherCPUShare: [Double]

    enum CodingKeys: String, CodingKey {
        case framework, mode, version, config, layers, batch, threads, steps, warmup, affinity, nice
        case windows = "repeat"
        case samplesPerSecondMedian = "samples_per_second_median"
        case stepSeconds = "step_seconds"
        case autogroupNice = "autogroup_nice"
        case otherCPUShare = "other_cpu_share"
    }

    public init(framework: String, mode: String, version: String, config: String?, layers: [Int], batch: Int,
                threads: Int, steps: Int, warmup: Int, windows: Int, samplesPerSecondMedian: Double,
                stepSeconds: [Double], affinity: [Int], nice: Int, autogroupNice: Int?, otherCPUShare: [Double]) {
        self.framework = framework; self.mode = mode; self.version = version; self.config = config
        self.layers = layers; self.batch = batch; self.threads = threads; self.steps = steps; self.warmup = warmup
        self.windows = windows; self.samplesPerSecondMedian = samplesPerSecondMedian; self.stepSeconds = stepSeconds
        self.affinity = affinity; self.nice = nice; self.autogroupNice = autogroupNice; self.otherCPUShare = otherCPUShare
    }

    /// Samples/s of each window: `batch / seconds per step`.
    public var windowRates: [Double] { stepSeconds.map { Double(batch) / $0 } }

    /// The result in a peer's standard output: its last line that starts with `{`, decoded and
    /// checked against the run asked for (framework and mode of `peer`, the configuration's
    /// layers and batch, `threads`, `steps` and `windows`, one positive finite time per window).
    /// Other lines (warnings a framework prints) are ignored.
    /// - Throws: `PeerError.malformed` saying what is wrong.
    public static func parse(output: String, peer: PeerFramework, configuration: BenchConfiguration, threads: Int,
                             steps: Int, windows: Int) throws -> PeerResult {
        func malformed(_ reason: String) -> PeerError {
            .malformed(peer: peer.rawValue, configuration: configuration.name, threads: threads, reason: reason)
        }
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let line = lines.last(where: { $0.hasPrefix("{") }) else {
            throw malformed("no JSON line in its output" + (output.isEmpty ? " (it printed nothing)" : ""))
        }
        let result: PeerResult
        do {
            result = try JSONDecoder().decode(PeerResult.self, from: Data(line.utf8))
        } catch let error as DecodingError {
            throw malformed("unreadable JSON line (\(describe(error))): \(line.prefix(160))")
        } catch {
            throw malformed("unreadable JSON line (\(error)): \(line.prefix(160))")
        }
        let expected = peer.expectedFields
        var problems: [String] = []
        if result.framework != expected.framework || result.mode != expected.mode {
            problems.append("reports \(result.framework) (\(result.mode)), expected \(expected.framework) (\(expected.mode))")
        }
        if result.layers != configuration.sizes || result.batch != configuration.batch {
            problems.append("reports layers \(result.layers.map(String.init).joined(separator: "-")) batch \(result.batch), "
                            + "expected \(configuration.sizesDescription) batch \(configuration.batch)")
        }
        if result.threads != threads { problems.append("reports \(result.threads) threads, expected \(threads)") }
        if result.steps != steps { problems.append("reports \(result.steps) steps per window, expected \(steps)") }
        if result.windows != windows || result.stepSeconds.count != windows {
            problems.append("reports \(result.stepSeconds.count) window times (repeat \(result.windows)), expected \(windows)")
        }
        if result.stepSeconds.contains(where: { !($0.isFinite && $0 > 0) }) {
            problems.append("has a step time that is not a positive number: \(result.stepSeconds)")
        }
        if !(result.samplesPerSecondMedian.isFinite && result.samplesPerSecondMedian > 0) {
            problems.append("reports \(result.samplesPerSecondMedian) samples/s")
        }
        guard problems.isEmpty else { throw malformed(problems.joined(separator: "; ")) }
        return result
    }

    /// A decoding error in a few words: the field at fault and what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}
