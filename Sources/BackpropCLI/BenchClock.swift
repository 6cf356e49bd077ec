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
    /// Flop rates of the chunks since the last `reset`.
    private(set) var rates: [Double] = []

    /// A sampler whose chunks take about `chunkSeconds` each; `iterationsPerSecond` is the
    /// single-thread speed of the loop (from `PeakFLOPS.iterations(forSeconds: 1)`).
    init(threads: Int, chunkSeconds: Double, iterationsPerSecond: Int, isa: InstructionSet = .active) {
        self.threads = threads
        self.isa = isa
        iterations = max(1000, Int(Double(iterationsPerSecond) * chunkSeconds))
    }

    /// Runs one chunk.
    func sample() {
        rates.append(PeakFLOPS.measure(threads: threads, iterations: iterations, isa: isa).flopsPerSecond)
    }

    /// Median flop rate over the chunks since the last `reset` (0 before any).
    var flopsPerSecond: Double { BenchSummary(rates)?.median ?? 0 }

    func reset() {
        rates.removeAll(keepingCapacity: true)
    }
}
