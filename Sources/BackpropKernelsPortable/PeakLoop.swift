// This file is compiled three times, once per instruction set (see Package.swift):
// BackpropKernelsAVX512, BackpropKernelsAVX2 and BackpropKernelsPortable hold symbolic
// links to it, as they do for GEMM.swift. It is the fp32 peak calibration loop that
// mlp-bench divides its GFLOP/s by: the most multiply-adds per second this instruction set
// can retire on one thread, with no memory traffic at all.
//
// Throughput of fused multiply-add is latency × ports deep: Zen 4/5 and Skylake-SP run two
// 512-bit FMA pipes with a 4-cycle latency, so at least 8 independent chains keep both busy;
// Haswell-class AVX2 has 5 cycles × 2 ports = 10. The loop keeps `peakAccumulatorCount`
// independent SIMD accumulators (16 with 32 AVX-512 registers, 12 with 16 AVX2 / SSE / NEON
// registers, always leaving room for the two loop constants), so it is bound by the FMA ports,
// never by a dependency chain.

#if BACKPROP_AVX512
/// The SIMD vector of the loop: one AVX-512 register.
public typealias PeakVector = SIMD16<Float>
/// Independent accumulators in `peakLoop`.
public let peakAccumulatorCount = 16
#elseif BACKPROP_AVX2
/// The SIMD vector of the loop: one AVX register.
public typealias PeakVector = SIMD8<Float>
/// Independent accumulators in `peakLoop`.
public let peakAccumulatorCount = 12
#else
/// The SIMD vector of the loop: one SSE or NEON register.
public typealias PeakVector = SIMD4<Float>
/// Independent accumulators in `peakLoop`.
public let peakAccumulatorCount = 12
#endif

/// Floating-point operations one iteration of `peakLoop` performs: a multiply and an add
/// (fused where the instruction set has FMA) per lane per accumulator.
public let peakFlopsPerIteration: Int = 2 * peakAccumulatorCount * PeakVector.scalarCount

/// One step of an accumulator chain: `acc·m + c`, a fused multiply-add where the
/// instruction set has one. (Swift does not contract `a*b + c`, and `addingProduct` on a CPU
/// compiled without FMA becomes a call to `fmaf`: the SSE2 baseline gets a multiply and an add.)
@inline(__always)
func peakStep(_ acc: PeakVector, _ m: PeakVector, _ c: PeakVector) -> PeakVector {
#if BACKPROP_PORTABLE && arch(x86_64)
    return acc * m + c
#else
    return c.addingProduct(acc, m)
#endif
}

/// Runs `iterations` iterations of `peakAccumulatorCount` independent multiply-add chains
/// `acc ← acc·m + c` (`peakFlopsPerIteration` flops each) and returns the sum of the
/// accumulators, so that the work cannot be optimised away.
///
/// Every chain converges to a fixed point near `seed`·10⁶ and stays a normal float, so no
/// denormal or infinity slows it down. `iterations ≤ 0` does no work and returns the sum of
/// the initial values.
public func peakLoop(iterations: Int, seed: Float) -> Float {
    let m = PeakVector(repeating: 0.999_999)
    let c = PeakVector(repeating: seed)
    var a0 = c, a1 = c + 1, a2 = c + 2, a3 = c + 3, a4 = c + 4, a5 = c + 5
    var a6 = c + 6, a7 = c + 7, a8 = c + 8, a9 = c + 9, a10 = c + 10, a11 = c + 11
#if BACKPROP_AVX512
    var a12 = c + 12, a13 = c + 13, a14 = c + 14, a15 = c + 15
#endif
    var i = 0
    while i < iterations {
        a0 = peakStep(a0, m, c); a1 = peakStep(a1, m, c); a2 = peakStep(a2, m, c)
        a3 = peakStep(a3, m, c); a4 = peakStep(a4, m, c); a5 = peakStep(a5, m, c)
        a6 = peakStep(a6, m, c); a7 = peakStep(a7, m, c); a8 = peakStep(a8, m, c)
        a9 = peakStep(a9, m, c); a10 = peakStep(a10, m, c); a11 = peakStep(a11, m, c)
#if BACKPROP_AVX512
        a12 = peakStep(a12, m, c); a13 = peakStep(a13, m, c)
        a14 = peakStep(a14, m, c); a15 = peakStep(a15, m, c)
#endif
        i += 1
    }
    var s = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7) + (a8 + a9) + (a10 + a11)
#if BACKPROP_AVX512
    s += (a12 + a13) + (a14 + a15)
#endif
    return s.sum()
}
