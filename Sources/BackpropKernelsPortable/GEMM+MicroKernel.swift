// The GEMM micro-kernel: the only code that does the multiply-adds. It sees packed panels
// only (see GEMM+Packing.swift), never the operands' layouts.

/// `C[mr×nr] = (loadC ? C : 0) + Ã·B̃`: the full register tile (see `tileKernel`).
@inline(never)
func microKernel(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                 c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    tileKernel(rows: Blocking.mr, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
}

/// `C[rows×columns] = (loadC ? C : 0) + Ã·B̃` for an edge tile: `rows` ≤ `mr` and `columns` of
/// one vector (`nr/2`, when the tile's width is at most that) or two (`nr`). Costs what the rows
/// and vectors computed cost, not a full tile's: for `m = 10` the second 8-row tile computes two
/// rows, not eight. Same multiply-add chain per element as the full tile.
@inline(never)
func microKernel(rows: Int, wide: Bool, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                 c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    precondition(rows >= 1 && rows <= Blocking.mr, "edge tile rows out of range")
    if wide {
        switch rows {
        case 1: tileKernel(rows: 1, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 2: tileKernel(rows: 2, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 3: tileKernel(rows: 3, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 4: tileKernel(rows: 4, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 5: tileKernel(rows: 5, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 6: tileKernel(rows: 6, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 7: tileKernel(rows: 7, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        default: tileKernel(rows: Blocking.mr, wide: true, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        }
    } else {
        switch rows {
        case 1: tileKernel(rows: 1, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 2: tileKernel(rows: 2, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 3: tileKernel(rows: 3, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 4: tileKernel(rows: 4, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 5: tileKernel(rows: 5, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 6: tileKernel(rows: 6, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        case 7: tileKernel(rows: 7, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        default: tileKernel(rows: Blocking.mr, wide: false, kc: kc, a: a, b: b, c: c, ldc: ldc, loadC: loadC)
        }
    }
}

/// `C[rows×(wide ? nr : nr/2)] = (loadC ? C : 0) + Ã·B̃`: `kc` rank-1 updates of the top-left
/// `rows` rows (≤ `mr`, a literal at every call, so unused rows compile away) and one or two
/// vectors of columns of a tile of `C` (row stride `ldc`), from packed panels holding `mr` floats
/// of `op(A)` and `nr` floats of `op(B)` per step.
///
/// Each `C[i,j]` is one multiply-add chain over the steps in order, starting from the old
/// `C[i,j]` or zero, independently of every other element: this is what makes results
/// independent of blocking and of how callers split the product (see `GEMMProblem`).
@inline(__always)
private func tileKernel(rows: Int, wide: Bool, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    let mr = Blocking.mr, nr = Blocking.nr, w = Vector.scalarCount
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
    if loadC {
        if rows > 0 { c0a = loadVector(c + 0 &* ldc); if wide { c0b = loadVector(c + (0 &* ldc &+ w)) } }
        if rows > 1 { c1a = loadVector(c + 1 &* ldc); if wide { c1b = loadVector(c + (1 &* ldc &+ w)) } }
        if rows > 2 { c2a = loadVector(c + 2 &* ldc); if wide { c2b = loadVector(c + (2 &* ldc &+ w)) } }
        if rows > 3 { c3a = loadVector(c + 3 &* ldc); if wide { c3b = loadVector(c + (3 &* ldc &+ w)) } }
        if rows > 4 { c4a = loadVector(c + 4 &* ldc); if wide { c4b = loadVector(c + (4 &* ldc &+ w)) } }
        if rows > 5 { c5a = loadVector(c + 5 &* ldc); if wide { c5b = loadVector(c + (5 &* ldc &+ w)) } }
        if rows > 6 { c6a = loadVector(c + 6 &* ldc); if wide { c6b = loadVector(c + (6 &* ldc &+ w)) } }
        if rows > 7 { c7a = loadVector(c + 7 &* ldc); if wide { c7b = loadVector(c + (7 &* ldc &+ w)) } }
        if rows > 8 { c8a = loadVector(c + 8 &* ldc); if wide { c8b = loadVector(c + (8 &* ldc &+ w)) } }
        if rows > 9 { c9a = loadVector(c + 9 &* ldc); if wide { c9b = loadVector(c + (9 &* ldc &+ w)) } }
        if rows > 10 { c10a = loadVector(c + 10 &* ldc); if wide { c10b = loadVector(c + (10 &* ldc &+ w)) } }
        if rows > 11 { c11a = loadVector(c + 11 &* ldc); if wide { c11b = loadVector(c + (11 &* ldc &+ w)) } }
    }
    var pa = a, pb = b
    for _ in 0..<kc {
        let b0 = loadVector(pb), b1 = wide ? loadVector(pb + w) : b0
        if rows > 0 { rowUpdate(wide, &c0a, &c0b, pa[0], b0, b1) }
        if rows > 1 { rowUpdate(wide, &c1a, &c1b, pa[1], b0, b1) }
        if rows > 2 { rowUpdate(wide, &c2a, &c2b, pa[2], b0, b1) }
        if rows > 3 { rowUpdate(wide, &c3a, &c3b, pa[3], b0, b1) }
        if rows > 4 { rowUpdate(wide, &c4a, &c4b, pa[4], b0, b1) }
        if rows > 5 { rowUpdate(wide, &c5a, &c5b, pa[5], b0, b1) }
        if rows > 6 { rowUpdate(wide, &c6a, &c6b, pa[6], b0, b1) }
        if rows > 7 { rowUpdate(wide, &c7a, &c7b, pa[7], b0, b1) }
        if rows > 8 { rowUpdate(wide, &c8a, &c8b, pa[8], b0, b1) }
        if rows > 9 { rowUpdate(wide, &c9a, &c9b, pa[9], b0, b1) }
        if rows > 10 { rowUpdate(wide, &c10a, &c10b, pa[10], b0, b1) }
        if rows > 11 { rowUpdate(wide, &c11a, &c11b, pa[11], b0, b1) }
        pa += mr
        pb += nr
    }
    if rows > 0 { storeVector(c0a, c + 0 &* ldc); if wide { storeVector(c0b, c + (0 &* ldc &+ w)) } }
    if rows > 1 { storeVector(c1a, c + 1 &* ldc); if wide { storeVector(c1b, c + (1 &* ldc &+ w)) } }
    if rows > 2 { storeVector(c2a, c + 2 &* ldc); if wide { storeVector(c2b, c + (2 &* ldc &+ w)) } }
    if rows > 3 { storeVector(c3a, c + 3 &* ldc); if wide { storeVector(c3b, c + (3 &* ldc &+ w)) } }
    if rows > 4 { storeVector(c4a, c + 4 &* ldc); if wide { storeVector(c4b, c + (4 &* ldc &+ w)) } }
    if rows > 5 { storeVector(c5a, c + 5 &* ldc); if wide { storeVector(c5b, c + (5 &* ldc &+ w)) } }
    if rows > 6 { storeVector(c6a, c + 6 &* ldc); if wide { storeVector(c6b, c + (6 &* ldc &+ w)) } }
    if rows > 7 { storeVector(c7a, c + 7 &* ldc); if wide { storeVector(c7b, c + (7 &* ldc &+ w)) } }
    if rows > 8 { storeVector(c8a, c + 8 &* ldc); if wide { storeVector(c8b, c + (8 &* ldc &+ w)) } }
    if rows > 9 { storeVector(c9a, c + 9 &* ldc); if wide { storeVector(c9b, c + (9 &* ldc &+ w)) } }
    if rows > 10 { storeVector(c10a, c + 10 &* ldc); if wide { storeVector(c10b, c + (10 &* ldc &+ w)) } }
    if rows > 11 { storeVector(c11a, c + 11 &* ldc); if wide { storeVector(c11b, c + (11 &* ldc &+ w)) } }
}

/// `(x, y) += a·(b0, b1)` (`y` only when `wide`): one row of the tile takes one step.
@inline(__always)
private func rowUpdate(_ wide: Bool, _ x: inout Vector, _ y: inout Vector, _ a: Float, _ b0: Vector, _ b1: Vector) {
    let broadcast = Vector(repeating: a)
    x = multiplyAdd(x, broadcast, b0)
    if wide { y = multiplyAdd(y, broadcast, b1) }
}
