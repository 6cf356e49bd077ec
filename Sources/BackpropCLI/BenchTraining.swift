import Backprop

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PhaseTimings {
    static func + (l: PhaseTimings, r: PhaseTimings) -> PhaseTimings {
        PhaseTimings(forward: l.forward + r.forward, backward: l.backward + r.backward,
                     reduction: l.reduction + r.reduction, update: l.update + r.update)
    }

    /// Each phase as a fraction of `total` (zeros when `total` is 0).
    var fractions: PhaseTimings {
        let t = total
        guard t > 0 else { return PhaseTimings() }
        return PhaseTimings(forward: forward / t, backward: backward / t, reduction: reduction / t, update: update / t)
    }
}

/// A training setup the benchmark steps: a model, its trainer and one batch, ready to go.
public protocol BenchStepper: AnyObject {
    /// One full training step (forward, backward, reduction, update) on the batch.
    func step() throws
    /// The phase split of the last step.
    var lastPhaseTimings: PhaseTimings { get }
}

/// Builds the stepper of a configuration for a thread count.
public typealias BenchStepperFactory = (BenchConfiguration, _ threads: Int) throws -> any BenchStepper

/// Counts the process's heap allocations (mlp-bench passes `CAllocationCounter`'s; the
/// library never links it).
public struct AllocationProbe: Sendable {
    public var count: @Sendable () -> UInt64
    public var setCounting: @Sendable (Bool) -> Void

    public init(count: @escaping @Sendable () -> UInt64, setCounting: @escaping @Sendable (Bool) -> Void) {
        self.count = count
        self.setCounting = setCounting
    }
}

/// What the benchmark measured for one configuration at one thread count.
public struct TrainingMeasurement: Codable, Equatable, Sendable {
    public var configuration: String
    public var sizes: [Int]
    public var batch: Int
    public var threads: Int
    /// Timed steps per repeat.
    public var steps: Int
    public var samplesPerSecond: BenchSummary
    /// `6 · Σ in·out · batch` per step, in GFLOP/s.
    public var gflops: BenchSummary
    /// Executed flops per second (`BenchConfiguration.executedFlopsPerStep`, which leaves out
    /// the first layer's propagation that `gflops` counts by convention) over the fp32 peak
    /// sampled on the same threads beside the same repeat. With one thread both are timed by
    /// the thread's CPU clock (lost time slices do not count), with several by the wall clock.
    public var fractionOfPeak: BenchSummary
    /// The peak sampled beside the steps, GFLOP/s.
    public var peakGFLOPS: BenchSummary
    /// Median share of step time by phase (from the trainer's own timings).
    public var phaseShare: PhaseTimings
    /// Median milliseconds per step by phase.
    public var phaseMilliseconds: PhaseTimings
    /// Samples/s at this thread count over `threads ×` samples/s at one thread, paired repeat by
    /// repeat; nil when one thread was not measured.
    public var scalingEfficiency: BenchSummary?
    /// How much of `threads` cores the run had: the peak sampled on `threads` threads (wall clock)
    /// over `threads ×` the one-thread peak by its CPU clock, paired repeat by repeat. About 1 on
    /// an idle machine; well below when other processes held cores, which makes the multi-thread
    /// figures unreliable (the gate then calls them unusable). Nil when one thread was not measured.
    public var coreAvailability: BenchSummary?
    /// Heap allocations per steady-state step, whole process (must be 0), counted over `steps`
    /// steps after the timed repeats; nil without a probe.
    public var allocationsPerStep: Double?
    /// Peak resident memory of the process while this configuration ran, bytes (`getrusage`).
    public var peakResidentBytes: Int
}

/// Runs training steps of each configuration at each thread count and summarises them.
public struct TrainingBenchmark {
    public var configurations: [BenchConfiguration]
    public var threadCounts: [Int]
    public var repeats: Int
    public var allocationProbe: AllocationProbe?
    public var isa: InstructionSet = .active

    public init(configurations: [BenchConfiguration], threadCounts: [Int], repeats: Int,
                allocationProbe: AllocationProbe?) {
        self.configurations = configurations
        self.threadCounts = threadCounts
        self.repeats = repeats
        self.allocationProbe = allocationProbe
    }

    /// Measures every configuration in turn. Per configuration: one stepper per thread count,
    /// `warmup` untimed steps on each, then `repeats` rounds; each round visits every thread
    /// count (in alternating order), running one untimed step, then `steps` timed steps back to
    /// back between two sets of `⌈steps/2⌉` peak-loop chunks each as long as a step, so that
    /// steps and peak share the same conditions. A repeat's rate is its median step time; its fraction of peak is
    /// that rate over the median chunk's (on one thread, both by the thread's CPU clock, which
    /// does not count time slices lost to other processes; on several, by the wall clock). Then, per thread count, one untimed step and `steps`
    /// more steps with allocation counting on and nothing else running.
    public func run(makeStepper: BenchStepperFactory, progress: (String) -> Void) throws -> [TrainingMeasurement] {
        let loopSpeed = PeakFLOPS.iterations(forSeconds: 1, isa: isa)
        var results: [TrainingMeasurement] = []
        for c in configurations {
            resetPeakResident()
            progress("\(c.name) \(c.sizesDescription) batch \(c.batch): setting up")
            var steppers: [any BenchStepper] = []
            for p in threadCounts { steppers.append(try makeStepper(c, p)) }
            for (i, p) in threadCounts.enumerated() {
                progress("\(c.name) P=\(p): \(c.warmup) warm-up steps")
                for _ in 0..<c.warmup { try steppers[i].step() }
            }
            // Peak chunks as long as a step (between 1 and 100 ms): a chunk and a step then stand
            // the same chance of losing a time slice to another process.
            let samplers = try threadCounts.enumerated().map { i, p -> PeakSampler in
                let t0 = benchSeconds()
                try steppers[i].step()
                let stepSeconds = benchSeconds() - t0
                return PeakSampler(threads: p, chunkSeconds: min(max(stepSeconds, 0.001), 0.1),
                                   iterationsPerSecond: loopSpeed, isa: isa)
            }
            var sps = Array(repeating: [Double](), count: threadCounts.count)
            var fractions = sps, peaks = sps, cpuPeaks = sps
            var phases = Array(repeating: [PhaseTimings](), count: threadCounts.count)
            for r in 0..<repeats {
                let order = r % 2 == 0 ? Array(threadCounts.indices) : threadCounts.indices.reversed()
                for i in order {
                    progress("\(c.name) \(c.sizesDescription) batch \(c.batch): repeat \(r + 1)/\(repeats), P=\(threadCounts[i])")
                    let stepper = steppers[i], sampler = samplers[i]
                    try stepper.step()
                    sampler.reset()
                    var stepSeconds: [Double] = [], stepCPUSeconds: [Double] = [], phase = PhaseTimings()
                    stepSeconds.reserveCapacity(c.steps)
                    stepCPUSeconds.reserveCapacity(c.steps)
                    // Peak chunks around the steps, not between them: back to back, the steps
                    // run as in training (the trainer's helpers stay awake and on their cores).
                    let chunksPerSide = (c.steps + 1) / 2
                    for _ in 0..<chunksPerSide { sampler.sample() }
                    for _ in 0..<c.steps {
                        let t0 = benchSeconds(), cpu0 = threadCPUSeconds()
                        try stepper.step()
                        let cpu1 = threadCPUSeconds(), t1 = benchSeconds()
                        stepSeconds.append(t1 - t0)
                        stepCPUSeconds.append(cpu1 - cpu0)
                        phase = phase + stepper.lastPhaseTimings
                    }
                    for _ in 0..<chunksPerSide { sampler.sample() }
                    let seconds = BenchSummary(stepSeconds)!.median
                    sps[i].append(Double(c.batch) / seconds)
                    if threadCounts[i] == 1 {
                        // One thread: the whole step runs on this thread (the trainer's worker 0 is
                        // the caller), so its CPU clock times both step and peak, immune to lost slices.
                        let cpuSeconds = BenchSummary(stepCPUSeconds)!.median
                        fractions[i].append(c.executedFlopsPerStep / cpuSeconds / sampler.cpuFlopsPerSecond)
                    } else {
                        fractions[i].append(c.executedFlopsPerStep / seconds / sampler.flopsPerSecond)
                    }
                    peaks[i].append(sampler.flopsPerSecond / 1e9)
                    cpuPeaks[i].append(sampler.cpuFlopsPerSecond / 1e9)
                    let n = Double(c.steps)
                    phases[i].append(PhaseTimings(forward: phase.forward / n, backward: phase.backward / n,
                                                reduction: phase.reduction / n, update: phase.update / n))
                }
            }
            // Allocations: `steps` more steps per thread count with nothing else in between (the
            // peak loop's concurrentPerform allocates in libdispatch's worker threads, which may
            // still be winding down when it returns; one untimed step lets them settle).
            var allocations = Array(repeating: UInt64(0), count: threadCounts.count)
            if let probe = allocationProbe {
                for (i, p) in threadCounts.enumerated() {
                    progress("\(c.name) P=\(p): counting allocations over \(c.steps) steps")
                    try steppers[i].step()
                    let before = probe.count()
                    probe.setCounting(true)
                    defer { probe.setCounting(false) }
                    for _ in 0..<c.steps { try steppers[i].step() }
                    probe.setCounting(false)
                    allocations[i] = probe.count() - before
                }
            }
            let peakResident = peakResidentBytes()
            let one = threadCounts.firstIndex(of: 1)
            for (i, p) in threadCounts.enumerated() {
                let gflops = sps[i].map { $0 / Double(c.batch) * c.flopsPerStep / 1e9 }
                var scaling: BenchSummary?, availability: BenchSummary?
                if let one {
                    scaling = BenchSummary(zip(sps[i], sps[one]).map { $0 / (Double(p) * $1) })
                    availability = BenchSummary(zip(peaks[i], cpuPeaks[one]).map { $0 / (Double(p) * $1) })
                }
                let ms = TrainingBenchmark.medianPhases(phases[i])
                let countedSteps = Double(c.steps)
                results.append(TrainingMeasurement(
                    configuration: c.name, sizes: c.sizes, batch: c.batch, threads: p, steps: c.steps,
                    samplesPerSecond: BenchSummary(sps[i])!, gflops: BenchSummary(gflops)!,
                    fractionOfPeak: BenchSummary(fractions[i])!, peakGFLOPS: BenchSummary(peaks[i])!,
                    phaseShare: ms.fractions,
                    phaseMilliseconds: PhaseTimings(forward: ms.forward * 1e3, backward: ms.backward * 1e3,
                                                  reduction: ms.reduction * 1e3, update: ms.update * 1e3),
                    scalingEfficiency: scaling, coreAvailability: availability,
                    allocationsPerStep: allocationProbe.map { _ in Double(allocations[i]) / countedSteps },
                    peakResidentBytes: peakResident))
            }
        }
        return results
    }

    /// Phase by phase, the median over repeats.
    static func medianPhases(_ p: [PhaseTimings]) -> PhaseTimings {
        func median(_ k: KeyPath<PhaseTimings, Double>) -> Double { BenchSummary(p.map { $0[keyPath: k] })?.median ?? 0 }
        return PhaseTimings(forward: median(\.forward), backward: median(\.backward),
                          reduction: median(\.reduction), update: median(\.update))
    }
}

#if canImport(Glibc)
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// Peak resident set size of the process, bytes (`getrusage`; Linux reports KiB).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF_WHO, &usage)
    #if os(Linux)
    return Int(usage.ru_maxrss) * 1024
    #else
    return Int(usage.ru_maxrss)
    #endif
}

/// Resets the peak resident set size to the current one (Linux: `/proc/self/clear_refs` ← 5),
/// so that `peakResidentBytes` covers what runs next. Returns whether the reset worked.
@discardableResult
func resetPeakResident() -> Bool {
    #if os(Linux)
    guard let f = fopen("/proc/self/clear_refs", "w") else { return false }
    let ok = fputs("5", f) >= 0
    return fclose(f) == 0 && ok
    #else
    return false
    #endif
}
