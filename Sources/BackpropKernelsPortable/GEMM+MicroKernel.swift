// The GEMM micro-kernel: the only code that does the multiply-adds. The blocked loops hand it
// packed panels of op(B) and of an op(A) stored k × m (see GEMM+Packing.swift), and an op(A)
// stored m × k where it is; products of a few rows hand it both operands where they are
// stored. All through strides (see `tileKernel`).
import BackpropKernelTypes
import CKernelSupport

/// `C[mr×nr] = (loadC ? C : 0) + Ã·B̃`: the full register tile (see `tileKernel`).
@inline(never)
func microKernel(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                 c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    tileKernel(rows: Blocking.mr, wide: true, kc: kc, a: a, aRowStride: 1, aStepStride: Blocking.mr, b: b,
               bStepStride: Blocking.nr, c: c, ldc: ldc, loadC: loadC)
}

/// `C[mr×nr] = (loadC ? C : 0) + op(A)·B̃` with `op(A)` read where it is stored (`m × k`,
/// rows `lda` apart; see `APanels`): the full register tile.
@inline(never)
func microKernel(kc: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                 c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    tileKernel(rows: Blocking.mr, wide: true, kc: kc, a: a, aRowStride: lda, aStepStride: 1, b: b,
               bStepStride: Blocking.nr, c: c, ldc: ldc, loadC: loadC)
}

/// The bias-and-activation epilogue done in registers by `microKernel(kc:a:lda:b:c:ldc:loadC:fused:)`
/// on a forward product's last block of `k`: `C[i,j] = acc + bias[j]`, then
/// `output[i,j] = f(C[i,j])`, for the activations that take a few vector instructions.
/// Bitwise what `applyEpilogue` computes from the stored tile (the same float additions and
/// selections), without storing the tile, loading it back twice and storing it again.
struct FusedBiasActivation {
    var bias: UnsafePointer<Float>
    var output: UnsafeMutablePointer<Float>, outputLeadingDimension: Int
    enum Kind { case identity, relu, leakyReLU }
    var kind: Kind
    /// The leaky ReLU's slope for `a < 0` (unused otherwise).
    var negativeSlope: Float

    /// The register form of `.biasActivation(bias, f, output, ld)`, or nil where there is
    /// none (no bias or no output, or an activation computed by libm).
    @inline(__always)
    init?(_ epilogue: GEMMEpilogue) {
        guard case .biasActivation(let bias?, let f, let output?, let ld) = epilogue else { return nil }
        switch f {
        case .identity: kind = .identity; negativeSlope = 0
        case .relu: kind = .relu; negativeSlope = 0
        case .leakyReLU(let slope): kind = .leakyReLU; negativeSlope = slope
        case .tanh, .sigmoid, .gelu: return nil
        }
        self.bias = bias
        self.output = output
        outputLeadingDimension = ld
    }

    /// `f(x)` lane-wise, bitwise as `applyEpilogue`'s `activate`.
    @inline(__always)
    func apply(_ x: Vector) -> Vector {
        switch kind {
        case .identity: return x
        case .relu: return x.replacing(with: 0, where: x .< 0)  // as f: NaN and −0 pass
        case .leakyReLU: return x.replacing(with: negativeSlope * x, where: x .< 0)
        }
    }
}

/// `C[mr×nr] = (loadC ? C : 0) + op(A)·B̃ + bias`, `output = f(C)` (see `FusedBiasActivation`):
/// the full register tile of a forward product's last `k` block, `op(A)` read in place
/// (the one below takes it packed).
/// `bias` and `output` point at the tile's first column and first row and column.
@inline(never)
func microKernel(kc: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                 c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, fused: FusedBiasActivation) {
    tileKernel(rows: Blocking.mr, wide: true, kc: kc, a: a, aRowStride: lda, aStepStride: 1, b: b,
               bStepStride: Blocking.nr, c: c, ldc: ldc, loadC: loadC, fused: fused)
}

/// `C[mr×nr] = (loadC ? C : 0) + Ã·B̃ + bias`, `output = f(C)`: the fused full tile (as above)
/// with `op(A)` packed (see `Blocking.packsStoredA`).
@inline(never)
func microKernel(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                 c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, fused: FusedBiasActivation) {
    tileKernel(rows: Blocking.mr, wide: true, kc: kc, a: a, aRowStride: 1, aStepStride: Blocking.mr, b: b,
               bStepStride: Blocking.nr, c: c, ldc: ldc, loadC: loadC, fused: fused)
}

/// Hints the cache to fetch the full tile below the one at `c` (rows `mr..<2·mr`, row stride
/// `ldc`, both ends of each `nr`-wide row), and below the one at `output` (row stride `ldo`)
/// when the epilogue is fused: the blocked loops' next tile, fetched while this one computes
/// (see `Blocking.prefetchesNextTile`). A hint, never a load: the rows may lie past the matrix.
///
/// The blocked loops call it before the micro-kernel. (Called inside the full-tile kernels, ahead
/// of a `tileKernel` whose accumulators were locals captured by a local `step()` function, it
/// left the AVX-512 kernels' accumulators in memory behind `swift_beginAccess` calls, a load and
/// a store around every multiply-add: training steps about 2× slower on a Xeon. With
/// `TileAccumulators` that no longer happens, checked by compiling it there; and
/// `scripts/check-kernel-codegen` fails the build's check on any such call.)
@inline(__always)
func prefetchTileBelow(c: UnsafeMutablePointer<Float>, ldc: Int, output: UnsafeMutablePointer<Float>?, ldo: Int) {
    let mr = Blocking.mr, last = Blocking.nr &- 1
    for r in mr..<(2 &* mr) {
        backprop_prefetch_write(c + r &* ldc)
        backprop_prefetch_write(c + (r &* ldc &+ last))
    }
    if let output {
        for r in mr..<(2 &* mr) {
            backprop_prefetch_write(output + r &* ldo)
            backprop_prefetch_write(output + (r &* ldo &+ last))
        }
    }
}

/// `C[rows×columns] = (loadC ? C : 0) + op(A)·B̃` for an edge tile: `rows` ≤ `mr` and `columns`
/// of one vector (`nr/2`, when the tile's width is at most that) or two (`nr`); `op(A)` row `r`,
/// step `l` at `a[r·aRowStride + l·aStepStride]` (packed: `1`, `mr`). Costs what the rows and
/// vectors computed cost, not a full tile's: for `m = 10` the second 8-row tile computes two
/// rows, not eight. Same multiply-add chain per element as the full tile.
@inline(never)
func microKernel(rows: Int, wide: Bool, kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aStepStride: Int,
                 b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    precondition(rows >= 1 && rows <= Blocking.mr, "edge tile rows out of range")
    let operands = TileOperands(a: a, aRowStride: aRowStride, aStepStride: aStepStride, b: b,
                                bStepStride: Blocking.nr, bPrefetch: 0, c: c, ldc: ldc, kc: kc, loadC: loadC)
    if wide { tile(rows: rows, TwoVectors.self, operands) } else { tile(rows: rows, OneVector.self, operands) }
}

/// `C[rows×(wide ? nr : nr/2)] = (loadC ? C : 0) + op(A)·op(B)` for at most `Blocking.fewRows`
/// rows, read where they are stored (no packing): row `r`, step `l` of `op(A)` at
/// `a[r·aRowStride + l·aStepStride]`, step `l` of `op(B)` at `b[l·bStepStride]` (one or two
/// vectors). Same multiply-add chain per element as `microKernel`.
///
/// `prefetchesB`: whether each step hints the cache to fetch `op(B)`'s step
/// `Blocking.fewRowsPrefetchSteps` ahead, for an `op(B)` read where it is stored (a row of
/// `H` per step, a page apart for 1024 columns, which no hardware prefetcher follows).
@inline(never)
func fewRowsKernel(rows: Int, wide: Bool, kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aStepStride: Int,
                   b: UnsafePointer<Float>, bStepStride: Int, prefetchesB: Bool,
                   c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    precondition(rows >= 1 && rows <= Blocking.fewRows, "few-rows tile out of range")
    let operands = TileOperands(a: a, aRowStride: aRowStride, aStepStride: aStepStride, b: b, bStepStride: bStepStride,
                                bPrefetch: prefetchesB ? Blocking.fewRowsPrefetchSteps &* bStepStride : 0,
                                c: c, ldc: ldc, kc: kc, loadC: loadC)
    if wide { tile(rows: rows, TwoVectors.self, operands) } else { tile(rows: rows, OneVector.self, operands) }
}

/// Where a tile's operands are and how they step (see `tileKernel`).
struct TileOperands {
    var a: UnsafePointer<Float>, aRowStride: Int, aStepStride: Int
    var b: UnsafePointer<Float>, bStepStride: Int
    /// Floats ahead of each step of `op(B)` to prefetch; 0: none.
    var bPrefetch: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int
    var kc: Int, loadC: Bool
}

// Tile heights and widths as types, so that every edge tile is its own specialised function:
// a switch that called the inlined tile loop 24 times in one function grew past the
// inliner's size limit, and the loop stayed generic (a branch per row per step, accumulators
// spilled to the stack; the few-rows product 10×256×256 ran at 62% of peak, 90% once
// specialised).
protocol TileHeight { static var rows: Int { get } }
protocol TileWidth { static var wide: Bool { get } }
enum OneVector: TileWidth { @inline(__always) static var wide: Bool { false } }
enum TwoVectors: TileWidth { @inline(__always) static var wide: Bool { true } }
enum Rows1: TileHeight { @inline(__always) static var rows: Int { 1 } }
enum Rows2: TileHeight { @inline(__always) static var rows: Int { 2 } }
enum Rows3: TileHeight { @inline(__always) static var rows: Int { 3 } }
enum Rows4: TileHeight { @inline(__always) static var rows: Int { 4 } }
enum Rows5: TileHeight { @inline(__always) static var rows: Int { 5 } }
enum Rows6: TileHeight { @inline(__always) static var rows: Int { 6 } }
enum Rows7: TileHeight { @inline(__always) static var rows: Int { 7 } }
enum Rows8: TileHeight { @inline(__always) static var rows: Int { 8 } }
enum Rows9: TileHeight { @inline(__always) static var rows: Int { 9 } }
enum Rows10: TileHeight { @inline(__always) static var rows: Int { 10 } }
enum Rows11: TileHeight { @inline(__always) static var rows: Int { 11 } }
enum Rows12: TileHeight { @inline(__always) static var rows: Int { 12 } }

/// Runs the tile of `rows` rows (1…12) and `Width` columns.
@inline(__always)
private func tile<Width: TileWidth>(rows: Int, _ width: Width.Type, _ o: TileOperands) {
    switch rows {
    case 1: tile(Rows1.self, width, o)
    case 2: tile(Rows2.self, width, o)
    case 3: tile(Rows3.self, width, o)
    case 4: tile(Rows4.self, width, o)
    case 5: tile(Rows5.self, width, o)
    case 6: tile(Rows6.self, width, o)
    case 7: tile(Rows7.self, width, o)
    case 8: tile(Rows8.self, width, o)
    case 9: tile(Rows9.self, width, o)
    case 10: tile(Rows10.self, width, o)
    case 11: tile(Rows11.self, width, o)
    default: tile(Rows12.self, width, o)
    }
}

/// One specialised tile: `Height.rows` rows, `Width` columns.
@inline(never)
private func tile<Height: TileHeight, Width: TileWidth>(_: Height.Type, _: Width.Type, _ o: TileOperands) {
    tileKernel(rows: Height.rows, wide: Width.wide, kc: o.kc, a: o.a, aRowStride: o.aRowStride,
               aStepStride: o.aStepStride, b: o.b, bStepStride: o.bStepStride, bPrefetch: o.bPrefetch,
               c: o.c, ldc: o.ldc, loadC: o.loadC)
}

/// `C[rows×(wide ? nr : nr/2)] = (loadC ? C : 0) + op(A)·op(B)`: `kc` rank-1 updates of the
/// top-left `rows` rows (≤ 12) and one or two vectors of columns of a tile of `C` (row stride
/// `ldc`); `op(A)` row `r`, step `l` at `a[r·aRowStride + l·aStepStride]` (packed: `1` and
/// `mr`), `op(B)` step `l` at `b[l·bStepStride]` (packed: `nr`). `rows` and `wide` are
/// constants at every call, so unused rows compile away. With `bPrefetch` > 0 each pair of
/// steps first hints the cache to fetch the two steps of `op(B)` that many floats ahead (a hint
/// never faults, past the end too); 0 (the full tiles' constant) compiles the hints away.
///
/// Each `C[i,j]` is one multiply-add chain over the steps in order, starting from the old
/// `C[i,j]` or zero, independently of every other element: this is what makes results
/// independent of blocking and of how callers split the product (see `GEMMProblem`).
@inline(__always)
private func tileKernel(rows: Int, wide: Bool, kc: Int, a: UnsafePointer<Float>, aRowStride rs: Int,
                        aStepStride ss: Int, b: UnsafePointer<Float>, bStepStride bs: Int, bPrefetch: Int = 0,
                        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool,
                        fused: FusedBiasActivation? = nil) {
    var tile = TileAccumulators()
    if loadC { tile.load(rows: rows, wide: wide, from: c, ldc: ldc) }
    var pa = a, pb = b
    // Two steps per iteration (then one): the loop's speed no longer moves with where the
    // code lands (the single-step loop ran 2–4% slower in some builds of identical code).
    var l = 0
    while l &+ 2 <= kc {
        if bPrefetch != 0 {
            backprop_prefetch_read(pb + bPrefetch)
            backprop_prefetch_read(pb + (bPrefetch &+ bs))
        }
        tile.step(rows: rows, wide: wide, a: pa, aRowStride: rs, b: pb)
        pa += ss
        pb += bs
        tile.step(rows: rows, wide: wide, a: pa, aRowStride: rs, b: pb)
        pa += ss
        pb += bs
        l &+= 2
    }
    if l < kc { tile.step(rows: rows, wide: wide, a: pa, aRowStride: rs, b: pb) }
    if let fused {
        tile.finish(rows: rows, fused, to: c, ldc: ldc)
    } else {
        tile.store(rows: rows, wide: wide, to: c, ldc: ldc)
    }
}

/// The accumulators of a register tile: row `r` is `(cRa, cRb)`, two vectors (`cRb` unused
/// when the tile is one vector wide). A struct of plain values, local to `tileKernel` and
/// changed only by these inlined methods, so the compiler keeps every field in a register: the
/// accumulators are not captured by a closure or a local function, which once (31d08d9..4858511)
/// left them in memory behind exclusivity checks on AVX-512 whenever any code came before the
/// tile loop in the calling kernel.
private struct TileAccumulators {
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

    /// Rows `0..<rows` from `c` (row stride `ldc`).
    @inline(__always)
    mutating func load(rows: Int, wide: Bool, from c: UnsafePointer<Float>, ldc: Int) {
        let w = Vector.scalarCount
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

    /// One rank-1 update, `C[r, :] += op(A)[r, l]·op(B)[l, :]`: step `l` of the panels, with
    /// `op(A)` row `r` at `a[r·aRowStride]` and `op(B)` at `b` (one or two vectors).
    @inline(__always)
    mutating func step(rows: Int, wide: Bool, a: UnsafePointer<Float>, aRowStride rs: Int, b: UnsafePointer<Float>) {
        let b0 = loadVector(b), b1 = wide ? loadVector(b + Vector.scalarCount) : b0
        if rows > 0 { rowUpdate(wide, &c0a, &c0b, a[0 &* rs], b0, b1) }
        if rows > 1 { rowUpdate(wide, &c1a, &c1b, a[1 &* rs], b0, b1) }
        if rows > 2 { rowUpdate(wide, &c2a, &c2b, a[2 &* rs], b0, b1) }
        if rows > 3 { rowUpdate(wide, &c3a, &c3b, a[3 &* rs], b0, b1) }
        if rows > 4 { rowUpdate(wide, &c4a, &c4b, a[4 &* rs], b0, b1) }
        if rows > 5 { rowUpdate(wide, &c5a, &c5b, a[5 &* rs], b0, b1) }
        if rows > 6 { rowUpdate(wide, &c6a, &c6b, a[6 &* rs], b0, b1) }
        if rows > 7 { rowUpdate(wide, &c7a, &c7b, a[7 &* rs], b0, b1) }
        if rows > 8 { rowUpdate(wide, &c8a, &c8b, a[8 &* rs], b0, b1) }
        if rows > 9 { rowUpdate(wide, &c9a, &c9b, a[9 &* rs], b0, b1) }
        if rows > 10 { rowUpdate(wide, &c10a, &c10b, a[10 &* rs], b0, b1) }
        if rows > 11 { rowUpdate(wide, &c11a, &c11b, a[11 &* rs], b0, b1) }
    }

    /// Rows `0..<rows` to `c` (row stride `ldc`).
    @inline(__always)
    func store(rows: Int, wide: Bool, to c: UnsafeMutablePointer<Float>, ldc: Int) {
        let w = Vector.scalarCount
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

    /// The fused epilogue of a full tile (rows = mr, wide): the pre-activation `C + bias` to `c`,
    /// its activation to `fused.output`, each stored once.
    @inline(__always)
    func finish(rows: Int, _ fused: FusedBiasActivation, to c: UnsafeMutablePointer<Float>, ldc: Int) {
        let bias0 = loadVector(fused.bias), bias1 = loadVector(fused.bias + Vector.scalarCount)
        let out = fused.output, ldo = fused.outputLeadingDimension
        if rows > 0 { finishRow(fused, c0a + bias0, c0b + bias1, c + 0 &* ldc, out + 0 &* ldo) }
        if rows > 1 { finishRow(fused, c1a + bias0, c1b + bias1, c + 1 &* ldc, out + 1 &* ldo) }
        if rows > 2 { finishRow(fused, c2a + bias0, c2b + bias1, c + 2 &* ldc, out + 2 &* ldo) }
        if rows > 3 { finishRow(fused, c3a + bias0, c3b + bias1, c + 3 &* ldc, out + 3 &* ldo) }
        if rows > 4 { finishRow(fused, c4a + bias0, c4b + bias1, c + 4 &* ldc, out + 4 &* ldo) }
        if rows > 5 { finishRow(fused, c5a + bias0, c5b + bias1, c + 5 &* ldc, out + 5 &* ldo) }
        if rows > 6 { finishRow(fused, c6a + bias0, c6b + bias1, c + 6 &* ldc, out + 6 &* ldo) }
        if rows > 7 { finishRow(fused, c7a + bias0, c7b + bias1, c + 7 &* ldc, out + 7 &* ldo) }
        if rows > 8 { finishRow(fused, c8a + bias0, c8b + bias1, c + 8 &* ldc, out + 8 &* ldo) }
        if rows > 9 { finishRow(fused, c9a + bias0, c9b + bias1, c + 9 &* ldc, out + 9 &* ldo) }
        if rows > 10 { finishRow(fused, c10a + bias0, c10b + bias1, c + 10 &* ldc, out + 10 &* ldo) }
        if rows > 11 { finishRow(fused, c11a + bias0, c11b + bias1, c + 11 &* ldc, out + 11 &* ldo) }
    }
}

/// One row of a fused tile: the pre-activation `(x, y)` to `c`, `f(x, y)` to `out`.
@inline(__always)
private func finishRow(_ fused: FusedBiasActivation, _ x: Vector, _ y: Vector, _ c: UnsafeMutablePointer<Float>,
                       _ out: UnsafeMutablePointer<Float>) {
    let w = Vector.scalarCount
    storeVector(x, c)
    storeVector(y, c + w)
    storeVector(fused.apply(x), out)
    storeVector(fused.apply(y), out + w)
}

/// `(x, y) += a·(b0, b1)` (`y` only when `wide`): one row of the tile takes one step.
@inline(__always)
private func rowUpdate(_ wide: Bool, _ x: inout Vector, _ y: inout Vector, _ a: Float, _ b0: Vector, _ b1: Vector) {
    let broadcast = Vector(repeating: a)
    x = multiplyAdd(x, broadcast, b0)
    if wide { y = multiplyAdd(y, broadcast, b1) }
}
