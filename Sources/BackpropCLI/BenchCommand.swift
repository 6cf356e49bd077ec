import Backprop
import Foundation

/// The mlp-bench tool: `mlp-bench [run]`, `mlp-bench --peers`, `mlp-bench gemm` and `mlp-bench gate` (see
/// `BenchCommandLine.usage`). `Benchmarks/mlp-bench/main.swift` only passes the allocation
/// counter it links.
public enum BenchCommand {
    /// Runs the command line `arguments` (without the program name); returns the exit status:
    /// 0 success (gate: pass), 2 bad flags or unreadable files, 3 gate regression,
    /// 4 gate unusable (too noisy), 1 a failure while measuring.
    /// `makeStepper` (default: `BenchTrainerStepper` over the library's `Trainer`) builds what
    /// the training benchmark steps; tests pass fakes.
    public static func main(_ arguments: [String], allocationProbe: AllocationProbe?,
                            makeStepper: BenchStepperFactory? = nil) -> Int32 {
        let command: BenchCommandLine
        do {
            command = try BenchCommandLine.parse(arguments, processors: ProcessInfo.processInfo.activeProcessorCount)
        } catch let error as BenchFlagError {
            printError(error.description)
            return 2
        } catch {
            printError("mlp-bench: \(error)")
            return 2
        }
        let progress = BenchProgress()
        defer { progress.finish() }
        do {
            switch command {
            case .help:
                print(BenchCommandLine.usage)
                return 0
            case .train(let o):
                var report = calibrate(threadCounts: o.threadCounts, progress: progress)
                report.training = try TrainingBenchmark(configurations: o.configurations, threadCounts: o.threadCounts,
                                                        repeats: o.repeats, allocationProbe: allocationProbe)
                    .run(makeStepper: makeStepper ?? { c, p in
                        try BenchTrainerStepper(configuration: c, threads: p, reduction: o.reduction,
                                                placement: o.placement, optimizer: o.optimizer, packing: o.packing)
                    }, progress: progress.show)
                report.reduction = o.reduction.rawValue
                report.packing = o.packing.rawValue
                progress.finish()
                print(o.json ? report.json() : report.text(), terminator: "")
                if !o.json, makeStepper == nil, let first = o.configurations.first, let threads = o.threadCounts.max() {
                    // The placement used and the pages per node of the main buffers, for the largest thread count.
                    let probe = try BenchTrainerStepper(configuration: first, threads: threads, reduction: o.reduction,
                                                        placement: o.placement, optimizer: o.optimizer,
                                                        packing: o.packing)
                    try probe.step()
                    print("\n\(first.name) at \(threads) threads, " + probe.placementReport.description)
                }
                return 0
            case .peers(let o):
                return try peers(o, makeStepper: makeStepper, progress: progress)
            case .gemm(let o):
                var report = calibrate(threadCounts: [1], progress: progress)
                let blas = o.openBLAS ? OpenBLAS.load() : nil
                report.setOpenBLAS(blas)
                report.gemm = GEMMBenchmark(shapes: GEMMShape.shapes(for: o.configurations), repeats: o.repeats,
                                            openBLAS: blas).run(progress: progress.show)
                progress.finish()
                print(o.json ? report.json() : report.text(), terminator: "")
                return 0
            case .gate(let o):
                return try gate(o, allocationProbe: allocationProbe, makeStepper: makeStepper ?? BenchTrainerStepper.make,
                                progress: progress)
            }
        } catch {
            progress.finish()
            printError("mlp-bench: \(error)")
            return 1
        }
    }

    /// The gate: measure, then compare with (or rewrite) the baseline.
    static func gate(_ o: GateOptions, allocationProbe: AllocationProbe?, makeStepper: BenchStepperFactory,
                     progress: BenchProgress) throws -> Int32 {
        var baseline: GateMeasurement?
        if !o.updateBaseline {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: o.baselinePath))
                baseline = try JSONDecoder().decode(GateMeasurement.self, from: data)
            } catch {
                printError("mlp-bench: --baseline: cannot read \(o.baselinePath): \(error.localizedDescription)"
                           + " (run with --update-baseline to create it)")
                return 2
            }
            if baseline?.schema != GateMeasurement.currentSchema {
                printError("mlp-bench: --baseline: \(o.baselinePath) has schema \(baseline?.schema ?? -1), expected \(GateMeasurement.currentSchema)")
                return 2
            }
        }
        let configurations = o.full ? BenchSuite.all : BenchSuite.all.filter { BenchSuite.quickNames.contains($0.name) }
        let gemmConfigurations = o.full ? BenchSuite.all : BenchSuite.all.filter { $0.name == "B" }
        var report = calibrate(threadCounts: o.threadCounts, progress: progress)
        report.training = try TrainingBenchmark(configurations: configurations, threadCounts: o.threadCounts,
                                                repeats: o.repeats, allocationProbe: allocationProbe)
            .run(makeStepper: makeStepper, progress: progress.show)
        report.reduction = TrainerOptions.Reduction.threadCountInvariant.rawValue
        let blas = OpenBLAS.load()
        report.setOpenBLAS(blas)
        report.gemm = GEMMBenchmark(shapes: GEMMShape.shapes(for: gemmConfigurations), repeats: o.repeats,
                                    openBLAS: blas).run(progress: progress.show)
        progress.finish()
        let (now, unavailable) = gateFigures(report)

        if o.updateBaseline {
            let unfit = Gate.unfitForBaseline(now, policy: o.policy)
            if !o.json { print(report.text()) }
            guard unfit.isEmpty else {
                printError("mlp-bench: not writing \(o.baselinePath): too noisy (relative IQR above "
                           + "\(percent(o.policy.maxRelativeSpread)), fewer than \(percent(o.policy.minimumCoreAvailability))"
                           + " of the cores free, or too few repeats): \(unfit.joined(separator: ", "))")
                return 4
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try (encoder.encode(now) + Data("\n".utf8)).write(to: URL(fileURLWithPath: o.baselinePath))
            if o.json { print(String(decoding: try encoder.encode(now), as: UTF8.self)) }
            else { print("wrote \(now.figures.count) figures to \(o.baselinePath)") }
            return 0
        }
        let result = Gate.compare(baseline: baseline!, now: now, policy: o.policy, unavailable: unavailable)
        if o.json {
            struct Output: Encodable { var result: GateResult; var measurement: GateMeasurement; var report: BenchReport }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(Output(result: result, measurement: now, report: report)), as: UTF8.self))
        } else {
            print(report.text())
            print("regression gate vs \(o.baselinePath) (baseline: \(baseline!.machine), \(baseline!.isa)"
                  + (baseline!.openBLASCore.map { ", OpenBLAS core \($0)" } ?? "") + ")")
            print("threshold \(percent(o.policy.threshold)), unusable above relative IQR \(percent(o.policy.maxRelativeSpread))"
                  + " or below \(percent(o.policy.minimumCoreAvailability)) of the cores free, \(o.repeats) interleaved repeats")
            print(Gate.table(result), terminator: "")
        }
        return result.outcome.exitCode
    }

    /// The gate's figures from a report: each training configuration's fraction of peak at each
    /// thread count, and each compute-bound GEMM's ratio to OpenBLAS (unavailable without
    /// OpenBLAS; see `GEMMShape.isComputeBound`).
    public static func gateFigures(_ report: BenchReport)
        -> (GateMeasurement, [(name: String, kind: GateFigureKind, reason: String)]) {
        var figures: [GateFigure] = []
        var unavailable: [(name: String, kind: GateFigureKind, reason: String)] = []
        for m in report.training ?? [] {
            figures.append(GateFigure(name: "train \(m.configuration) P=\(m.threads)", kind: .fractionOfPeak,
                                      summary: m.fractionOfPeak,
                                      coreAvailability: m.threads > 1 ? m.coreAvailability?.median : nil))
        }
        for g in report.gemm ?? [] where g.shape.isComputeBound {
            if let ratio = g.ratioToOpenBLAS {
                figures.append(GateFigure(name: g.name, kind: .ratioToOpenBLAS, summary: ratio))
            } else {
                unavailable.append((g.name, .ratioToOpenBLAS, "OpenBLAS not found"))
            }
        }
        var machine = report.machine.description
        if let lib = report.openBLASLibrary { machine += "; OpenBLAS \(lib)" }
        return (GateMeasurement(machine: machine, isa: report.machine.isa, openBLASCore: report.openBLASCore,
                                figures: figures), unavailable)
    }

    /// The machine and its peak at each thread count: best of 5 trials of about 50 ms each.
    static func calibrate(threadCounts: [Int], progress: BenchProgress) -> BenchReport {
        progress.show("calibrating the fp32 peak (FMA loop)")
        let iterations = PeakFLOPS.iterations(forSeconds: 0.05)
        let peaks = threadCounts.map { p in
            BenchPeak(threads: p, gflops: PeakFLOPS.calibrate(threads: p, iterations: iterations, trials: 5).gflops)
        }
        return BenchReport(machine: .current(), peaks: peaks)
    }
}

extension BenchReport {
    mutating func setOpenBLAS(_ blas: OpenBLAS?) {
        openBLASLibrary = blas?.library
        openBLASCore = blas?.core
        openBLASCoreTypeEnvironment = blas?.coreTypeEnvironment
    }
}

/// One line on stderr telling what runs now: rewritten in place on a terminal, one line per
/// update otherwise (CI logs).
final class BenchProgress {
    private let terminal = isatty(2) != 0
    private var open = false

    func show(_ line: String) {
        if terminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + "mlp-bench: " + line).utf8))
            open = true
        } else {
            FileHandle.standardError.write(Data(("mlp-bench: " + line + "\n").utf8))
        }
    }

    /// Ends the line (clearing it on a terminal).
    func finish() {
        if open {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            open = false
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
