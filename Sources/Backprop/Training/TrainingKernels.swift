#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Small allocation-free helpers of the training step.

/// 0 when `x[0..<count]` are all finite, NaN otherwise (`x·0` is NaN exactly for NaN and ±∞).
@inline(__always)
func nonFiniteProbe(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= count {
        lanes += raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD8<Float>.self) * 0
        i += 8
    }
    var probe = lanes.sum()
    while i < count {
        probe += x[i] * 0
        i += 1
    }
    return probe
}

/// `Σ x[j]²` in `Double`, in increasing `j`.
@inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var sum = 0.0
    for j in 0..<count { sum += Double(x[j]) * Double(x[j]) }
    return sum
}

/// Seconds of a monotonic clock; allocation-free.
@inline(__always)
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
