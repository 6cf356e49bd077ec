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
/// interleaved with the work being measured, and keeps the time-weighted average.
///
/// The loop touches no memory, so running it between two training steps or two GEMM calls
/// leaves their caches as they were. Sampling the peak in the same window as the work makes
/// their ratio insensitive to what the machine was doing meanwhile (another process on a
/// core, two vCPUs sharing one core, a clock change), which a single calibration at start-up
/// would not be.
final class PeakSampler {
    let threads: Int
    let isa: InstructionSet
    /// Iterations per thread in one chunk.
    let iterations: Int
    private(set) var flops = 0.0
    private(set) var seconds = 0.0

    /// A sampler whose chunks take about `chunkSeconds` each; `iterationsPerSecond` is the
    /// single-thread speed of the loop (from `PeakFLOPS.iterations(forSeconds: 1)`).
    init(threads: Int, chunkSeconds: Double, iterationsPerSecond: Int, isa: InstructionSet = .active) {
        self.threads = threads
        self.isa = isa
        iterations = max(1000, Int(Double(iterationsPerSecond) * chunkSeconds))
    }

    /// Runs one chunk.
    func sample() {
        let m = PeakFLOPS.measure(threads: threads, iterations: iterations, isa: isa)
        let f = Double(threads) * Double(iterations) * Double(Kernels.peakFlopsPerIteration(isa: isa))
        flops += f
        seconds += f / m.flopsPerSecond
    }

    /// Average flop rate over all chunks since the last `reset` (0 before any).
    var flopsPerSecond: Double { seconds > 0 ? flops / seconds : 0 }

    func reset() {
        flops = 0
        seconds = 0
    }
}
