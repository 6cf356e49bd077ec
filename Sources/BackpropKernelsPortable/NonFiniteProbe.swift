// The finiteness probe of a gradient. Compiled once per instruction set, like GEMM.swift.

/// `Σ x[i]·0` over `count` floats: `0` (or `−0`) when every `x[i]` is finite, NaN when any is
/// NaN or ±∞ (`±∞·0` is NaN). The trainer runs it over every finished gradient before the
/// update, so it reads with four independent vector sums: one sum's add latency had bound it
/// to two floats a cycle (2% of config A's step). The order of the sums does not matter:
/// every term is ±0 or NaN. `count == 0` gives 0.
public func nonFiniteProbe(_ x: UnsafePointer<Float>, count: Int) -> Float {
    let w = Vector.scalarCount
    var s0 = Vector(), s1 = Vector(), s2 = Vector(), s3 = Vector()
    var i = 0
    while i &+ 4 &* w <= count {
        s0 += loadVector(x + i) * 0
        s1 += loadVector(x + (i &+ w)) * 0
        s2 += loadVector(x + (i &+ 2 &* w)) * 0
        s3 += loadVector(x + (i &+ 3 &* w)) * 0
        i &+= 4 &* w
    }
    while i &+ w <= count {
        s0 += loadVector(x + i) * 0
        i &+= w
    }
    var probe = ((s0 + s1) + (s2 + s3)).sum()
    while i < count {
        probe += x[i] * 0
        i &+= 1
    }
    return probe
}
