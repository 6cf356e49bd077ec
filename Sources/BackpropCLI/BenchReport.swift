import Backprop
import Foundation

/// The machine a run measured, in words.
public struct BenchMachine: Codable, Equatable, Sendable {
    /// CPU model name (`/proc/cpuinfo`), or `unknown CPU`.
    public var cpu: String
    public var logicalProcessors: Int
    /// Instruction set of the kernels and the peak loop.
    public var isa: String

    public static func current(isa: InstructionSet = .active) -> BenchMachine {
        BenchMachine(cpu: cpuModelName() ?? "unknown CPU",
                     logicalProcessors: ProcessInfo.processInfo.activeProcessorCount, isa: isa.rawValue)
    }

    /// `AMD EPYC 9R45, 2 logical CPUs, avx512`.
    public var description: String { "\(cpu), \(logicalProcessors) logical CPUs, \(isa)" }

    /// `model name` of `/proc/cpuinfo`, with the x86 family and model numbers when given
    /// (a virtual machine often reports a generic name: family 25 is Zen 3/4, 26 is Zen 5).
    static func cpuModelName() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }  // first processor only
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            fields[key] = String(line[line.index(after: colon)...]).trimmingSpaces
        }
        guard var name = fields["model name"] else { return nil }
        if let family = fields["cpu family"], let model = fields["model"] {
            name += " (family \(family), model \(model))"
        }
        return name
    }
}

/// The fp32 peak calibrated at start-up for one thread count.
public struct BenchPeak: Codable, Equatable, Sendable {
    public var threads: Int
    /// Best of the calibration trials, GFLOP/s.
    public var gflops: Double
}

/// Everything one mlp-bench run measured (`--json` prints it).
public struct BenchReport: Codable, Equatable, Sendable {
    public var machine: BenchMachine
    /// Calibrated at start-up, before anything else ran.
    public var peaks: [BenchPeak]
    public var training: [TrainingMeasurement]?
    /// The trainer's `TrainerOptions.Reduction` in the training measurements.
    public var reduction: String?
    /// `TrainerOptions.Packing` of the training steps.
    public var packing: String?
    public var gemm: [GEMMMeasurement]?
    /// The CBLAS library compared against, when one was loaded.
    public var openBLASLibrary: String?
    /// `openblas_get_corename()` of that library.
    public var openBLASCore: String?
    /// `OPENBLAS_CORETYPE` at load time, if set.
    public var openBLASCoreTypeEnvironment: String?

    public init(machine: BenchMachine, peaks: [BenchPeak]) {
        self.machine = machine
        self.peaks = peaks
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The human report: a header with the machine and its peak, then one table per part.
    public func text() -> String {
        var out = "machine: \(machine.description)\n"
        out += "fp32 peak (FMA loop, best of 5 at start): "
            + peaks.map { "\($0.threads) thread\($0.threads == 1 ? "" : "s") \(fixed($0.gflops, 1)) GFLOP/s" }
                .joined(separator: ", ") + "\n"
        if let training {
            out += "\ntraining steps (softmax cross-entropy, SGD, random data, reduction \(reduction ?? "default"), packing \(packing ?? "automatic"));"
                + " median [min–max] over repeats\n"
            var t = TextTable(header: ["cfg", "layers", "batch", "P", "samples/s", "GFLOP/s", "of peak",
                                       "fwd/bwd/red/upd", "scaling", "cores free", "allocs/step", "peak RSS"],
                              rightAligned: [2, 3, 4, 5, 6, 8, 9, 10, 11])
            for m in training {
                let s = m.phaseShare
                t.add([m.configuration, m.sizes.map(String.init).joined(separator: "-"), String(m.batch),
                       String(m.threads),
                       "\(grouped(m.samplesPerSecond.median)) [\(grouped(m.samplesPerSecond.min))–\(grouped(m.samplesPerSecond.max))]",
                       "\(fixed(m.gflops.median, 1)) [\(fixed(m.gflops.min, 1))–\(fixed(m.gflops.max, 1))]",
                       "\(percent(m.fractionOfPeak.median)) [\(fixed(m.fractionOfPeak.min * 100, 1))–\(fixed(m.fractionOfPeak.max * 100, 1))]",
                       [s.forward, s.backward, s.reduction, s.update].map { fixed($0 * 100, 0) }.joined(separator: "/") + " %",
                       m.scalingEfficiency.map { fixed($0.median, 2) } ?? "—",
                       m.threads == 1 ? "—" : (m.coreAvailability.map { fixed($0.median, 2) } ?? "—"),
                       m.allocationsPerStep.map { $0 == 0 ? "0" : fixed($0, 2) } ?? "—",
                       "\(m.peakResidentBytes >> 20) MiB"])
            }
            out += t.render()
            out += "GFLOP/s counts 6·Σ in·out·batch per step. of peak: the flops a step executes (that count less the\n"
                + "first layer's propagation, which backpropagation skips) per second, over the FMA-loop peak sampled\n"
                + "on the same threads between the same steps (P=1: both by the thread's CPU clock).\n"
            out += "scaling: samples/s at P ÷ (P × samples/s at 1), paired repeat by repeat. cores free: P-thread peak ÷\n"
                + "(P × 1-thread peak), below 1 when other processes held cores. fwd/bwd/red/upd: median share of step time.\n"
        }
        if let gemm {
            out += "\nGEMM, one thread, timed by its CPU clock; median [min–max] over repeats"
            if let lib = openBLASLibrary {
                out += "; OpenBLAS: \(lib), core \(openBLASCore ?? "unknown")"
                if let env = openBLASCoreTypeEnvironment { out += " (OPENBLAS_CORETYPE=\(env))" }
                out += ", interleaved with ours"
            } else {
                out += "; OpenBLAS: not found (tried \(OpenBLAS.candidates.joined(separator: ", ")))"
            }
            out += "\n"
            var t = TextTable(header: ["form", "m x n x k", "GFLOP/s", "of peak", "OpenBLAS GFLOP/s", "ours÷OpenBLAS", "max rel diff"],
                              rightAligned: [2, 3, 4, 5, 6])
            for g in gemm {
                t.add([g.shape.form.rawValue, "\(g.shape.m)x\(g.shape.n)x\(g.shape.k)",
                       "\(fixed(g.gflops.median, 1)) [\(fixed(g.gflops.min, 1))–\(fixed(g.gflops.max, 1))]",
                       percent(g.fractionOfPeak.median),
                       g.openBLASGFLOPS.map { fixed($0.median, 1) } ?? "—",
                       g.ratioToOpenBLAS.map { "\(fixed($0.median, 2)) [\(fixed($0.min, 2))–\(fixed($0.max, 2))]" } ?? "—",
                       g.relativeDifference.map { String(format: "%.1e", $0) } ?? "—"])
            }
            out += t.render()
        }
        return out
    }
}
