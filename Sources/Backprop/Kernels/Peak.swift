import BackpropKernelsAVX2
import BackpropKernelsAVX512
import BackpropKernelsPortable
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Kernels {
    /// Floating-point operations in one iteration of `peakLoop` for `isa`.
    public static func peakFlopsPerIteration(isa: InstructionSet = .active) -> Int {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.peakFlopsPerIteration
        case .avx2: return BackpropKernelsAVX2.peakFlopsPerIteration
        case .portable: return BackpropKernelsPortable.peakFlopsPerIteration
        }
    }

    /// The fp32 peak calibration loop compiled for `isa`: `iterations` iterations of
    /// independent SIMD multiply-add chains with no memory traffic, `peakFlopsPerIteration`
    /// flops each. Returns a value that depends on every chain so the work is not removed.
    public static func peakLoop(iterations: Int, seed: Float = 1e-6, isa: InstructionSet = .active) -> Float {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.peakLoop(iterations: iterations, seed: seed)
        case .avx2: return BackpropKernelsAVX2.peakLoop(iterations: iterations, seed: seed)
        case .portable: return BackpropKernelsPortable.peakLoop(iterations: iterations, seed: seed)
        }
    }
}

/// The machine's fp32 peak, measured: the flop rate of `Kernels.peakLoop` running on
/// `threads` threads at once.
///
/// This is the denominator of "fraction of peak" in mlp-bench. Measured rather than taken
/// from a datasheet, it already includes the clock the CPU runs at right now, the vector
/// width of the active instruction set and how many of the threads really run in parallel
/// (two vCPUs that share one core give about one core's peak), which makes the fraction
/// comparable between machines and between runs on a noisy one.
public struct PeakFLOPS: Sendable, Equatable {
    /// Threads that ran the loop at once.
    public var threads: Int
    /// Flops per second over all threads.
    public var flopsPerSecond: Double
    /// Instruction set of the loop.
    public var isa: InstructionSet

    public init(threads: Int, flopsPerSecond: Double, isa: InstructionSet) {
        self.threads = threads
        self.flopsPerSecond = flopsPerSecond
        self.isa = isa
    }

    /// `flopsPerSecond` in GFLOP/s.
    public var gflops: Double { flopsPerSecond / 1e9 }

    /// Runs `Kernels.peakLoop` for `iterations` iterations on each of `threads` threads
    /// (through `DispatchQueue.concurrentPerform`) and returns the total flop rate, timed
    /// from the first thread's start to the last thread's end.
    ///
    /// `threads` below 1 is treated as 1; `iterations` below 1 as 1.
    public static func measure(threads: Int, iterations: Int, isa: InstructionSet = .active) -> PeakFLOPS {
        let p = max(threads, 1), n = max(iterations, 1)
        let sink = PeakSink(count: p)
        let start = monotonicNanoseconds()
        if p == 1 {
            sink.set(0, Kernels.peakLoop(iterations: n, isa: isa))
        } else {
            DispatchQueue.concurrentPerform(iterations: p) { t in
                sink.set(t, Kernels.peakLoop(iterations: n, seed: 1e-6 * Float(t + 1), isa: isa))
            }
        }
        let seconds = Double(monotonicNanoseconds() - start) * 1e-9
        sink.consume()
        let flops = Double(p) * Double(n) * Double(Kernels.peakFlopsPerIteration(isa: isa))
        return PeakFLOPS(threads: p, flopsPerSecond: flops / max(seconds, 1e-9), isa: isa)
    }

    /// Iterations of `Kernels.peakLoop` that take about `seconds` on one thread, from a short
    /// trial run (at least 1000).
    public static func iterations(forSeconds seconds: Double, isa: InstructionSet = .active) -> Int {
        var n = 1 << 12
        while true {
            let start = monotonicNanoseconds()
            let v = Kernels.peakLoop(iterations: n, isa: isa)
            let elapsed = Double(monotonicNanoseconds() - start) * 1e-9
            blackHole(v)
            if elapsed > 2e-3 || n >= 1 << 30 {
                return max(1000, Int(Double(n) * seconds / max(elapsed, 1e-9)))
            }
            n *= 4
        }
    }

    /// The best of `trials` measurements of `iterations` iterations each: the peak is an
    /// upper bound, so an interrupted trial (another process took a core) is discarded.
    public static func calibrate(threads: Int, iterations: Int, trials: Int = 5,
                                 isa: InstructionSet = .active) -> PeakFLOPS {
        var best = measure(threads: threads, iterations: iterations, isa: isa)
        for _ in 1..<max(trials, 1) {
            let m = measure(threads: threads, iterations: iterations, isa: isa)
            if m.flopsPerSecond > best.flopsPerSecond { best = m }
        }
        return best
    }
}

/// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`).
@inline(__always)
private func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Per-thread results of the peak loop, written by one thread each, then read once.
private final class PeakSink: @unchecked Sendable {
    /// Floats between two threads' slots: one cache line, so the writes do not share one.
    static let stride = 16
    let count: Int
    private let storage: UnsafeMutablePointer<Float>

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: count * PeakSink.stride)
        storage.initialize(repeating: 0, count: count * PeakSink.stride)
    }

    deinit { storage.deallocate() }

    func set(_ t: Int, _ value: Float) { storage[t * PeakSink.stride] = value }

    /// Feeds every result to `blackHole`.
    func consume() {
        var s: Float = 0
        for t in 0..<count { s += storage[t * PeakSink.stride] }
        blackHole(s)
    }
}

/// Keeps `x` alive: the optimiser cannot see through an unoptimised function.
@_optimize(none)
func blackHole(_ x: Float) {}
