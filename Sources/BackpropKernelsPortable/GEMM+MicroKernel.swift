// The GEMM micro-kernel: the only code that does the multiply-adds. It sees packed panels
// only (see GEMM+Packing.swift), never the operands' layouts.

/// `C[mr×nr] = (loadC ? C : 0) + Ã·B̃`: `kc` rank-1 updates of an `mr × nr` tile of `C` (row
/// stride `ldc`) from packed panels, `a` holding `mr` floats and `b` holding `nr` floats per step.
///
/// Each `C[i,j]` is one multiply-add chain over the steps in order, starting from the old
/// `C[i,j]` or zero, independently of every other element: this is what makes results
/// independent of blocking and of how callers split the product (see `GEMMProblem`).
/// Rows beyond `Blocking.mr` compile away: `mr` is a constant of the instruction set.
@inline(never)
func microKernel(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                 c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    let mr = Blocking.mr, nr = Blocking.nr, w = Vector.scalarCount
    precondition(mr <= 14, "the micro-kernel has registers for at most 14 rows")
    // Accumulators: row r of the tile is (cRa, cRb), two vectors.
    var c0a = Vector(), c0b = Vector()
    var c1a = Vector(), c1b = Vector()
    var c2a = Vector(), c2b = Vector()
    var c3a = Vector(), c3b = Vector()
    var c4a = Vector(), c4b = Vector()
    var c5a = Vector(), c5b = Vector()
    var c6a = Vector(), c6b = Vector()
    var c7a = Vector(), c7b = Vector()
    var c8a = Vector(), c8b = Vector()
    var c9a = Vector(), c9b = Vector()
    var c10a = Vector(), c10b = Vector()
    var c11a = Vector(), c11b = Vector()
    var c12a = Vector(), c12b = Vector()
    var c13a = Vector(), c13b = Vector()
    if loadC {
        if mr > 0 { c0a = loadVector(c + 0 &* ldc); c0b = loadVector(c + (0 &* ldc &+ w)) }
        if mr > 1 { c1a = loadVector(c + 1 &* ldc); c1b = loadVector(c + (1 &* ldc &+ w)) }
        if mr > 2 { c2a = loadVector(c + 2 &* ldc); c2b = loadVector(c + (2 &* ldc &+ w)) }
        if mr > 3 { c3a = loadVector(c + 3 &* ldc); c3b = loadVector(c + (3 &* ldc &+ w)) }
        if mr > 4 { c4a = loadVector(c + 4 &* ldc); c4b = loadVector(c + (4 &* ldc &+ w)) }
        if mr > 5 { c5a = loadVector(c + 5 &* ldc); c5b = loadVector(c + (5 &* ldc &+ w)) }
        if mr > 6 { c6a = loadVector(c + 6 &* ldc); c6b = loadVector(c + (6 &* ldc &+ w)) }
        if mr > 7 { c7a = loadVector(c + 7 &* ldc); c7b = loadVector(c + (7 &* ldc &+ w)) }
        if mr > 8 { c8a = loadVector(c + 8 &* ldc); c8b = loadVector(c + (8 &* ldc &+ w)) }
        if mr > 9 { c9a = loadVector(c + 9 &* ldc); c9b = loadVector(c + (9 &* ldc &+ w)) }
        if mr > 10 { c10a = loadVector(c + 10 &* ldc); c10b = loadVector(c + (10 &* ldc &+ w)) }
        if mr > 11 { c11a = loadVector(c + 11 &* ldc); c11b = loadVector(c + (11 &* ldc &+ w)) }
        if mr > 12 { c12a = loadVector(c + 12 &* ldc); c12b = loadVector(c + (12 &* ldc &+ w)) }
        if mr > 13 { c13a = loadVector(c + 13 &* ldc); c13b = loadVector(c + (13 &* ldc &+ w)) }
    }
    var pa = a, pb = b
    for _ in 0..<kc {
        let b0 = loadVector(pb), b1 = loadVector(pb + w)
        if mr > 0 { rowUpdate(&c0a, &c0b, pa[0], b0, b1) }
        if mr > 1 { rowUpdate(&c1a, &c1b, pa[1], b0, b1) }
        if mr > 2 { rowUpdate(&c2a, &c2b, pa[2], b0, b1) }
        if mr > 3 { rowUpdate(&c3a, &c3b, pa[3], b0, b1) }
        if mr > 4 { rowUpdate(&c4a, &c4b, pa[4], b0, b1) }
        if mr > 5 { rowUpdate(&c5a, &c5b, pa[5], b0, b1) }
        if mr > 6 { rowUpdate(&c6a, &c6b, pa[6], b0, b1) }
        if mr > 7 { rowUpdate(&c7a, &c7b, pa[7], b0, b1) }
        if mr > 8 { rowUpdate(&c8a, &c8b, pa[8], b0, b1) }
        if mr > 9 { rowUpdate(&c9a, &c9b, pa[9], b0, b1) }
        if mr > 10 { rowUpdate(&c10a, &c10b, pa[10], b0, b1) }
        if mr > 11 { rowUpdate(&c11a, &c11b, pa[11], b0, b1) }
        if mr > 12 { rowUpdate(&c12a, &c12b, pa[12], b0, b1) }
        if mr > 13 { rowUpdate(&c13a, &c13b, pa[13], b0, b1) }
        pa += mr
        pb += nr
    }
    if mr > 0 { storeVector(c0a, c + 0 &* ldc); storeVector(c0b, c + (0 &* ldc &+ w)) }
    if mr > 1 { storeVector(c1a, c + 1 &* ldc); storeVector(c1b, c + (1 &* ldc &+ w)) }
    if mr > 2 { storeVector(c2a, c + 2 &* ldc); storeVector(c2b, c + (2 &* ldc &+ w)) }
    if mr > 3 { storeVector(c3a, c + 3 &* ldc); storeVector(c3b, c + (3 &* ldc &+ w)) }
    if mr > 4 { storeVector(c4a, c + 4 &* ldc); storeVector(c4b, c + (4 &* ldc &+ w)) }
    if mr > 5 { storeVector(c5a, c + 5 &* ldc); storeVector(c5b, c + (5 &* ldc &+ w)) }
    if mr > 6 { storeVector(c6a, c + 6 &* ldc); storeVector(c6b, c + (6 &* ldc &+ w)) }
    if mr > 7 { storeVector(c7a, c + 7 &* ldc); storeVector(c7b, c + (7 &* ldc &+ w)) }
    if mr > 8 { storeVector(c8a, c + 8 &* ldc); storeVector(c8b, c + (8 &* ldc &+ w)) }
    if mr > 9 { storeVector(c9a, c + 9 &* ldc); storeVector(c9b, c + (9 &* ldc &+ w)) }
    if mr > 10 { storeVector(c10a, c + 10 &* ldc); storeVector(c10b, c + (10 &* ldc &+ w)) }
    if mr > 11 { storeVector(c11a, c + 11 &* ldc); storeVector(c11b, c + (11 &* ldc &+ w)) }
    if mr > 12 { storeVector(c12a, c + 12 &* ldc); storeVector(c12b, c + (12 &* ldc &+ w)) }
    if mr > 13 { storeVector(c13a, c + 13 &* ldc); storeVector(c13b, c + (13 &* ldc &+ w)) }
}

/// `(x, y) += a·(b0, b1)`: one row of the tile takes one step.
@inline(__always)
private func rowUpdate(_ x: inout Vector, _ y: inout Vector, _ a: Float, _ b0: Vector, _ b1: Vector) {
    let broadcast = Vector(repeating: a)
    x = multiplyAdd(x, broadcast, b0)
    y = multiplyAdd(y, broadcast, b1)
}
