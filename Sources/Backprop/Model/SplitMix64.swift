/// A small, fast, seedable pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014)
/// whose output is the same on every platform, so a seed gives the same weights everywhere.
///
/// Each call adds the golden-ratio increment `0x9E3779B97F4A7C15` to `state` (wrapping) and
/// returns a mix of the new state; seed 1234567 gives `0x599ED017FB08FC85`,
/// `0x2C73F08458540FA5`, … as in the reference implementation. Any seed, 0 included, is fine.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The whole state: save it to resume the sequence exactly.
    public var state: UInt64

    /// A generator whose sequence is determined by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A `Float` uniform in `[-1, 1)`: with `t` the top 24 bits of `next()`, `(t − 2²³)·2⁻²³`.
    /// Every step is exact (no rounding), so the value is bitwise the same on every platform.
    /// `-1` is possible, `1` is not; the 2²⁴ values are equally likely.
    public mutating func nextSignedUnitFloat() -> Float {
        Float(Int32(truncatingIfNeeded: next() >> 40) - (1 << 23)) * 0x1p-23
    }

    /// A `Float` uniform in `[0, 1)`: the top 24 bits of `next()` times 2⁻²⁴, exact, so bitwise
    /// the same on every platform. `0` is possible, `1` is not.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }
}
