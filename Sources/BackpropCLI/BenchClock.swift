import Backprop

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic seconds (`CLOCK_MONOTONIC`), for timing.
@inline(__always)
func benchSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// CPU seconds the calling thread has run (`CLOCK_THREAD_CPUTIME_ID`): unlike wall time, it
/// does not advance while another process has the core, so single-threaded work timed by it is
/// immune to lost time slices (a shared machine's main source of noise).
@inline(__always)
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Samples the fp32 peak in short chunks of `Kernels.peakLoop` on `threads` threads,
/// interleaved with the work being measured.
///
/// The loop touches no memory, so running it between two training steps or two GEMM calls
/// leaves their caches as they were. Sampling the peak in the same window as the work makes
/// their ratio insensitive to what the machine was doing meanwhile (another process on a
/// core, two vCPUs sharing one core, a clock change), which a single calibration at start-up
/// would not be. The rate used is the median over chunks, as the work's is the median over
/// its steps or calls: a chunk or step that lost its core for a time slice is an outlier on
/// both sides and drops out of both.
final class PeakSampler {
    let threads: Int
    let isa: InstructionSet
    /// Iterations per thread in one chunk.
    let iterations: Int
    /// Flop rates of the chunks since the last `reset`, by the wall clock.
    private(set) var rates: [Double] = []
    /// The same by the thread's CPU clock; one-thread samplers only (the loop runs on the caller).
    private(set) var cpuRates: [Double] = []

    /// A sampler whose chunks take about `chunkSeconds` each; `iterationsPerSecond` is the
    /// single-thread speed of the loop (from `PeakFLOPS.iterations(forSeconds: 1)`).
    init(threads: Int, chunkSeconds: Double, iterationsPerSecond: Int, isa: InstructionSet = .active) {
        self.threads = threads
        self.isa = isa
        iterations = max(1000, Int(Double(iterationsPerSecond) * chunkSeconds))
    }

    /// Runs one chunk.
    func sample() {
        if threads == 1 {
            let wall = benchSeconds(), cpu = threadCPUSeconds()
            let result = Kernels.peakLoop(iterations: iterations, isa: isa)
            let cpuSeconds = threadCPUSeconds() - cpu, wallSeconds = benchSeconds() - wall
            keep(result)
            let flops = Double(iterations) * Double(Kernels.peakFlopsPerIteration(isa: isa))
            rates.append(flops / max(wallSeconds, 1e-9))
            cpuRates.append(flops / max(cpuSeconds, 1e-9))
        } else {
            rates.append(PeakFLOPS.measure(threads: threads, iterations: iterations, isa: isa).flopsPerSecond)
        }
    }

    /// Median flop rate over the chunks since the last `reset`, by the wall clock (0 before any).
    var flopsPerSecond: Double { BenchSummary(rates)?.median ?? 0 }

    /// Median flop rate by the thread's CPU clock (one-thread samplers; 0 otherwise).
    var cpuFlopsPerSecond: Double { BenchSummary(cpuRates)?.median ?? 0 }

    func reset() {
        rates.removeAll(keepingCapacity: true)
        cpuRates.removeAll(keepingCapacity: true)
    }
}

/// Keeps `x` alive: the optimiser cannot see through an unoptimised function.
@_optimize(none)
func keep(_ x: Float) {}
