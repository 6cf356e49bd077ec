// This file is compiled three times, once per instruction set (see Package.swift):
// BackpropKernelsAVX512, BackpropKernelsAVX2 and BackpropKernelsPortable hold symbolic
// links to it. Each module exports the same names; Backprop picks one at run time.
//
// The GEMM is BLIS style: five loops around one micro-kernel (GEMM+MicroKernel.swift), with
// packing (GEMM+Packing.swift) kept apart from it, sizes in GEMM+Blocking.swift, and the
// epilogue (GEMM+Epilogue.swift) applied to each tile of C as it is finished (bias and
// activation, in the micro-kernel's registers where it can) or to each finished row block
// (the activation derivative). An output layer's
// products take shorter routes through the same tile loop: few columns are tiled as Cᵀ, few
// rows (`fewRowsProduct`) run one tile over all rows, a short k runs row panels outer.
import BackpropKernelTypes

/// Floats of scratch space `gemm` needs for its packed panels.
public let gemmWorkspaceCount: Int = Blocking.workspaceCount

/// Rows of the GEMM's register tile (`mr`): products whose row count is a multiple of it
/// have no partial tiles.
public let gemmTileRows: Int = Blocking.mr

/// Computes the `GEMMProblem` (see its documentation): `C = op(A)·op(B) (+ C)`, then the epilogue.
/// `workspace` must hold `gemmWorkspaceCount` floats, 64-byte aligned, owned by the caller's thread.
/// Allocates nothing.
public func gemm(_ p: GEMMProblem, workspace: UnsafeMutablePointer<Float>) {
    guard p.m > 0, p.n > 0 else { return }
    guard p.k > 0 else {
        if !p.accumulate {
            for i in 0..<p.m { (p.c + i &* p.cLeadingDimension).update(repeating: 0, count: p.n) }
        }
        applyEpilogue(p.epilogue, rows: 0..<p.m, columns: 0..<p.n, c: p.c, ldc: p.cLeadingDimension)
        return
    }
    if p.n < Blocking.nr && p.m > p.n && roundUp(p.n, to: Blocking.mr) < Blocking.nr {
        // Fewer columns than one tile (an output layer), which pad less as tile rows: tiles
        // of Cᵀ = op(B)ᵀ·op(A)ᵀ waste fewer multiply-adds (but are stored transposed, so
        // this does not pay for wide products).
        blockedProduct(TiledProduct(transposing: p), workspace: workspace)
    } else if p.m <= 2 &* Blocking.fewRows && !p.b.transposed && p.packedB == nil {
        fewRowsProduct(p, workspace: workspace)
    } else {
        blockedProduct(TiledProduct(p), workspace: workspace)
    }
}

/// `C = op(A)·op(B) (+ C)`, then the epilogue, for a product of at most `2·Blocking.fewRows`
/// rows with `op(B)` stored `k × n` (an output layer's weight gradient, `δᵀ·H` with `m = 10`).
/// One or two row groups cover every row of `C`, so each `nr`-column panel of `op(B)` passes
/// once through a register tile that holds its whole column of `C`, where the blocked loops
/// ran an 8-row and a 2-row tile (the second at a quarter of the rate) over a packed copy.
/// `op(A)` (`m × k`, small) is read where it is stored. `op(B)` is read where it is stored
/// when it fits in cache (`k·n ≤ Blocking.fewRowsUnpacked`); larger, it is packed `kc × nc` at a
/// time, since a panel read in place steps a page per row and no hardware prefetcher follows it
/// (10×1024×8192 ran 15% slower unpacked); read in place, the kernel prefetches it a few steps
/// ahead itself (`Blocking.fewRowsPrefetchSteps`). A last panel narrower than one or two vectors runs
/// on a workspace tile. Same chain per element as the blocked loops: bitwise the same `C`.
private func fewRowsProduct(_ p: GEMMProblem, workspace: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr, w = Vector.scalarCount, ldc = p.cLeadingDimension, ldb = p.b.leadingDimension
    let rs = p.a.transposed ? 1 : p.a.leadingDimension, ss = p.a.transposed ? p.a.leadingDimension : 1
    let firstGroup = p.m <= Blocking.fewRows ? p.m : (p.m &+ 1) / 2
    let edge = p.n % nr
    let mainColumns = edge != 0 && edge != w ? p.n &- edge : p.n
    let packs = p.k &* p.n > Blocking.fewRowsUnpacked
    let kc = packs ? blockSteps(p.k) : p.k
    for jc in stride(from: 0, to: mainColumns, by: Blocking.nc) {
        let columns = jc..<min(jc &+ Blocking.nc, mainColumns)
        for pc in stride(from: 0, to: p.k, by: kc) {
            let steps = pc..<min(pc &+ kc, p.k)
            if packs { packB(p.b, steps: steps, columns: columns, into: workspace) }
            let loadC = p.accumulate || pc > 0, isLastBlock = steps.upperBound == p.k
            for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: nr) {
                let width = min(nr, columns.upperBound &- j0)
                let b = packs ? UnsafePointer(workspace) + (j0 &- jc) &* steps.count : p.b.base + (pc &* ldb &+ j0)
                var i0 = 0
                while i0 < p.m {
                    let height = i0 == 0 ? firstGroup : p.m &- i0
                    fewRowsKernel(rows: height, wide: width == nr, kc: steps.count, a: p.a.base + (i0 &* rs &+ pc &* ss),
                                  aRowStride: rs, aStepStride: ss, b: b, bStepStride: packs ? nr : ldb,
                                  prefetchesB: !packs, c: p.c + (i0 &* ldc &+ j0), ldc: ldc, loadC: loadC)
                    if isLastBlock {
                        applyEpilogue(p.epilogue, rows: i0..<(i0 &+ height), columns: j0..<(j0 &+ width), c: p.c, ldc: ldc)
                    }
                    i0 &+= height
                }
            }
        }
    }
    guard mainColumns < p.n else { return }
    // The narrow last panel: packed (zero-padded to nr) `kc` steps at a time, on a tile.
    let columns = mainColumns..<p.n, width = edge
    let tile = workspace + Blocking.kc &* nr
    var i0 = 0
    while i0 < p.m {
        let height = i0 == 0 ? firstGroup : p.m &- i0
        let c = p.c + (i0 &* ldc &+ mainColumns)
        if p.accumulate {
            for r in 0..<height { (tile + r &* nr).update(from: c + r &* ldc, count: width) }
        }
        for pc in stride(from: 0, to: p.k, by: Blocking.kc) {
            let steps = pc..<min(pc &+ Blocking.kc, p.k)
            packB(p.b, steps: steps, columns: columns, into: workspace)
            fewRowsKernel(rows: height, wide: width > w, kc: steps.count, a: p.a.base + (i0 &* rs &+ pc &* ss),
                          aRowStride: rs, aStepStride: ss, b: workspace, bStepStride: nr, prefetchesB: false,
                          c: tile, ldc: nr, loadC: p.accumulate || pc > 0)
        }
        for r in 0..<height { (c + r &* ldc).update(from: tile + r &* nr, count: width) }
        applyEpilogue(p.epilogue, rows: i0..<(i0 &+ height), columns: columns, c: p.c, ldc: ldc)
        i0 &+= height
    }
}

/// Steps of `k` per packed block: equal blocks of at most `Blocking.kc`.
@inline(__always)
private func blockSteps(_ k: Int) -> Int {
    let kBlocks = (k &+ Blocking.kc &- 1) / Blocking.kc
    return (k &+ kBlocks &- 1) / kBlocks
}

/// Offset in a whole packed `op(B)` (see `gemmPackB`) of the block of `columns` (one `nc`
/// block) and `k` block starting at `step`: the `nc` blocks in order, each `k` steps of its
/// width padded to `nr`; within one, its `k` blocks in order, each laid out as `packB` does.
@inline(__always)
private func packedBlockOffset(k: Int, columns: Range<Int>, step: Int) -> Int {
    columns.lowerBound &* k &+ step &* roundUp(columns.count, to: Blocking.nr)
}

/// Floats of a whole packed `op(B)` of `k × n` (see `gemmPackB`).
public func gemmPackedBCount(k: Int, n: Int) -> Int {
    k * roundUp(n, to: Blocking.nr)
}

/// Register-tile-wide column panels of an `op(B)` with `n` columns.
public func gemmPanelCount(n: Int) -> Int {
    (n + Blocking.nr - 1) / Blocking.nr
}

/// Columns of the register tile (`nr`): products with fewer columns are tiled transposed
/// and never read a `GEMMProblem.packedB`.
public let gemmTileColumns: Int = Blocking.nr

/// Packs column panels `panels` (of `gemmPanelCount(n:)`) of `op(B)` (`k × n`) into `dst`,
/// which holds `gemmPackedBCount(k:n:)` floats, where `GEMMProblem.packedB` expects them.
/// Disjoint panel ranges may be packed by different threads at once. Panels outside
/// `0..<gemmPanelCount(n:)` are ignored. Allocates nothing.
public func gemmPackB(_ b: GEMMOperand, k: Int, n: Int, panels: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    let panels = panels.clamped(to: 0..<gemmPanelCount(n: n))
    guard !panels.isEmpty else { return }
    gemmPackB(b, k: k, n: n, steps: 0..<k, columns: panels.lowerBound &* Blocking.nr..<min(panels.upperBound &* Blocking.nr, n),
              into: dst)
}

/// Packs the block `op(B)[steps, columns]` of `op(B)` (`k × n`) into its place in a whole packed
/// `op(B)` at `dst` (`gemmPackedBCount(k:n:)` floats, the layout `GEMMProblem.packedB` expects):
/// blocks that together cover `op(B)` pack all of it, in any order. Disjoint blocks may be
/// packed by different threads at once. The last panel's zero padding (columns `n` up to a
/// multiple of `nr`) is written with the blocks that hold column `n − 1`. Steps and columns
/// outside `0..<k` and `0..<n` are ignored. Allocates nothing.
public func gemmPackB(_ b: GEMMOperand, k: Int, n: Int, steps: Range<Int>, columns: Range<Int>,
                      into dst: UnsafeMutablePointer<Float>) {
    let steps = steps.clamped(to: 0..<k), columns = columns.clamped(to: 0..<n)
    guard !steps.isEmpty, !columns.isEmpty else { return }
    let kc = blockSteps(k), nr = Blocking.nr, nc = Blocking.nc
    var j = columns.lowerBound
    while j < columns.upperBound {
        // The part of one panel: columns j..<end of the panel at j0.
        let j0 = j / nr &* nr, end = min(j0 &+ nr, columns.upperBound)
        let block = j0 / nc &* nc
        let blockColumns = block..<min(block &+ nc, n)
        var pc = steps.lowerBound / kc &* kc
        while pc < steps.upperBound {
            let kBlock = pc..<min(pc &+ kc, k)
            let part = steps.clamped(to: kBlock)
            let panel = dst + (packedBlockOffset(k: k, columns: blockColumns, step: pc) &+ (j0 &- block) &* kBlock.count)
            let first = panel + (part.lowerBound &- pc) &* nr
            if j == j0 && (end == j0 &+ nr || end == n) {
                packB(b, steps: part, columns: j0..<end, into: first)
            } else {
                packPanelPart(b, steps: part, columns: j..<end, padding: end == n ? j0 &+ nr &- n : 0,
                              into: first + (j &- j0))
            }
            pc &+= kc
        }
        j = end
    }
}

/// `dst[l·nr + c] = op(B)[steps.lowerBound + l, columns.lowerBound + c]`, then `padding` zeros
/// after each step's run: a part of one panel (where blocks packed by different threads meet;
/// element by element, since it is at most one panel per block).
private func packPanelPart(_ b: GEMMOperand, steps: Range<Int>, columns: Range<Int>, padding: Int,
                           into dst: UnsafeMutablePointer<Float>) {
    let ld = b.leadingDimension, nr = Blocking.nr
    var d = dst
    for l in steps {
        var c = 0
        for j in columns {
            d[c] = b.transposed ? b.base[j &* ld &+ l] : b.base[l &* ld &+ j]
            c &+= 1
        }
        for _ in 0..<padding { d[c] = 0; c &+= 1 }
        d += nr
    }
}

/// `x` rounded up to a multiple of `multiple`.
@inline(__always)
private func roundUp(_ x: Int, to multiple: Int) -> Int {
    (x &+ multiple &- 1) / multiple &* multiple
}

/// The product the loops tile: `p` itself, or its transpose `Cᵀ = op(B)ᵀ·op(A)ᵀ` (then `m`
/// and `n` and the operands swap roles, and tiles are stored into `C` transposed). Both give
/// bitwise the same `C`: each element is the same multiply-add chain (`a·b = b·a`).
private struct TiledProduct {
    var problem: GEMMProblem
    var m: Int, n: Int
    var a: GEMMOperand, b: GEMMOperand
    var transposedC: Bool
    /// Whether the epilogue runs once per packed row block (on its whole rows) rather than on
    /// each tile: the activation derivative, whose operands are read from memory.
    var blockEpilogue: Bool {
        if case .activationDerivative = problem.epilogue { return true }
        return false
    }

    init(_ p: GEMMProblem) {
        problem = p; m = p.m; n = p.n; a = p.a; b = p.b; transposedC = false
    }

    init(transposing p: GEMMProblem) {
        problem = p; m = p.n; n = p.m
        a = GEMMOperand(p.b.base, leadingDimension: p.b.leadingDimension, transposed: !p.b.transposed)
        b = GEMMOperand(p.a.base, leadingDimension: p.a.leadingDimension, transposed: !p.a.transposed)
        transposedC = true
    }
}

/// Where the blocked loops find the `mr`-row panels of `op(A)` for one block of `k`: panel `p`
/// starts at `base + p·panelStride`, its row `r`, step `l` at `r·rowStride + l·stepStride`.
/// Packed (`packA`): strides `1`, `mr`, `mr·kc`. In place (op(A) stored `m × k`, rows `lda`
/// apart): `lda`, `1`, `mr·lda`.
struct APanels {
    var base: UnsafePointer<Float>
    var rowStride: Int, stepStride: Int, panelStride: Int
}

/// The five loops: column blocks of `nc`, `k` blocks of `kc` (pack `op(B)`), row blocks of `mc`
/// (pack `op(A)`), then `nr`-column and `mr`-row tiles (`multiplyPackedBlock`).
private func blockedProduct(_ t: TiledProduct, workspace: UnsafeMutablePointer<Float>) {
    let mc = Blocking.mc, k = t.problem.k
    // Equal k blocks of at most Blocking.kc steps: a short last block would cost a whole pass
    // over C (load and store of every tile) for a few multiply-adds (k = 784 → 4 × 196, not
    // 3 × 256 + 16).
    var kc = blockSteps(k), nc = Blocking.nc
    if t.transposedC && t.m <= 2 &* Blocking.mr && kc < k {
        // Few rows of Cᵀ (an output layer's forward product, `m` = 10): `k` in as few equal
        // blocks as the workspace takes (the packed `op(A)`, `roundUp(m, mr) × kc` floats, in the
        // room of an `mc × kc` block; for `m` = 10, up to 3072 steps a block on AVX2, 9216 on
        // AVX-512), so each tile is loaded and stored transposed (element by element) once or
        // twice, not once per `Blocking.kc` steps; the packed `op(B)` block keeps its size in
        // floats by taking fewer columns. Measured on the Zen 1 EPYC (AVX2, `mlp-bench gemm`,
        // two rounds): 8192×10×1024 14.6–17.6 → 19.5–20.4 GFLOP/s; 1024×10×1024 unchanged (its
        // packing of `op(B)`, 4 MiB for 21 Mflop, bounds it). 1024×10×4096 (config D), where `k`
        // had stayed in 16 blocks of 256, in 2 of 2048: 17.1 → 20.4 and 14.4 → 20.1 GFLOP/s,
        // 0.92× → 1.22× and 0.88× → 1.24× OpenBLAS in two interleaved rounds
        // (`Benchmarks/measurements/2026-11-28-zen1-avx2-output-forward-k-blocks/`).
        let maxSteps = min(mc &* Blocking.kc / roundUp(t.m, to: Blocking.mr), Blocking.kc &* Blocking.nc / Blocking.nr)
        let kBlocks = (k &+ maxSteps &- 1) / maxSteps
        kc = (k &+ kBlocks &- 1) / kBlocks
        nc = max(Blocking.nr, Blocking.kc &* Blocking.nc / kc / Blocking.nr &* Blocking.nr)
    }
    let packedA = workspace
    // op(A) stored m × k (activations, deltas) is read in place: its rows are runs along k
    // already, and an mc × kc block of them stays in L2 as well as a packed copy would (whole
    // training steps at 1 thread, interleaved rounds: A, B, C +3%; at 2 threads within ±1.2%).
    // Stored k × m (the weight gradient's deltaᵀ), it is packed into mr-row panels; so is one
    // stored m × k where `Blocking.packsStoredA` (AVX2).
    let inPlaceA = !t.a.transposed && !Blocking.packsStoredA
    let workspaceB = workspace + mc &* Blocking.kc
    let edgeTile = workspaceB + Blocking.kc &* Blocking.nc
    let prepacked = t.transposedC ? nil : t.problem.packedB
    for jc in stride(from: 0, to: t.n, by: nc) {
        let columns = jc..<min(jc &+ nc, t.n)
        for pc in stride(from: 0, to: k, by: kc) {
            let steps = pc..<min(pc &+ kc, k)
            let packedB: UnsafePointer<Float>
            if let prepacked {
                packedB = prepacked + packedBlockOffset(k: k, columns: columns, step: pc)
            } else {
                packB(t.b, steps: steps, columns: columns, into: workspaceB)
                packedB = UnsafePointer(workspaceB)
            }
            for ic in stride(from: 0, to: t.m, by: mc) {
                let rows = ic..<min(ic &+ mc, t.m)
                let a: APanels
                if inPlaceA {
                    let lda = t.a.leadingDimension
                    a = APanels(base: t.a.base + (rows.lowerBound &* lda &+ pc), rowStride: lda, stepStride: 1,
                                panelStride: Blocking.mr &* lda)
                } else {
                    packA(t.a, rows: rows, steps: steps, into: packedA)
                    a = APanels(base: UnsafePointer(packedA), rowStride: 1, stepStride: Blocking.mr,
                                panelStride: Blocking.mr &* steps.count)
                }
                multiplyPackedBlock(t, rows: rows, steps: steps, columns: columns,
                                    a: a, packedB: packedB, edgeTile: edgeTile)
                if steps.upperBound == k && t.blockEpilogue {
                    // The derivative epilogue reads `a` from far caches: whole rows of the
                    // block stream it, where tile by tile each read is two lines per row.
                    applyEpilogue(t.problem.epilogue, rows: t.transposedC ? columns : rows,
                                  columns: t.transposedC ? rows : columns, c: t.problem.c,
                                  ldc: t.problem.cLeadingDimension)
                }
            }
        }
    }
}

/// `C[rows, columns] (+)= Ã·B̃` for one packed block pair (`steps` of `k`), tile by tile; on the
/// last block of `k`, each finished tile gets the epilogue. Column panels outer, so one
/// `kc × nr` panel of `B̃` stays in L1 while the row panels pass; for a short `k`
/// (`kc ≤ Blocking.shortSteps`), where storing `C` costs as much as the multiply-adds and every
/// panel of `B̃` fits in L1, row panels outer, so `C` is written row after row.
@inline(__always)
private func multiplyPackedBlock(_ t: TiledProduct, rows: Range<Int>, steps: Range<Int>, columns: Range<Int>,
                                 a: APanels, packedB: UnsafePointer<Float>,
                                 edgeTile: UnsafeMutablePointer<Float>) {
    let mr = Blocking.mr, nr = Blocking.nr, kc = steps.count
    if kc <= Blocking.shortSteps {
        var aPanel = a.base
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
            var bPanel = packedB
            for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: nr) {
                multiplyTile(t, i0: i0, j0: j0, rows: rows, steps: steps, columns: columns,
                             a: a, aPanel: aPanel, bPanel: bPanel, edgeTile: edgeTile)
                bPanel += nr &* kc
            }
            aPanel += a.panelStride
        }
    } else {
        var bPanel = packedB
        for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: nr) {
            var aPanel = a.base
            for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
                multiplyTile(t, i0: i0, j0: j0, rows: rows, steps: steps, columns: columns,
                             a: a, aPanel: aPanel, bPanel: bPanel, edgeTile: edgeTile)
                aPanel += a.panelStride
            }
            bPanel += nr &* kc
        }
    }
}

/// The tile at row `i0`, column `j0` of the block: `C (+)= Ã·B̃` from its panels, then, on the
/// last block of `k`, its epilogue.
@inline(__always)
private func multiplyTile(_ t: TiledProduct, i0: Int, j0: Int, rows: Range<Int>, steps: Range<Int>,
                          columns: Range<Int>, a: APanels, aPanel: UnsafePointer<Float>, bPanel: UnsafePointer<Float>,
                          edgeTile: UnsafeMutablePointer<Float>) {
    let p = t.problem
    let mr = Blocking.mr, nr = Blocking.nr, kc = steps.count, ldc = p.cLeadingDimension
    let loadC = p.accumulate || steps.lowerBound > 0
    let isLastBlock = steps.upperBound == p.k
    let width = min(nr, columns.upperBound &- j0), height = min(mr, rows.upperBound &- i0)
    let tileRows = i0..<(i0 &+ height), tileColumns = j0..<(j0 &+ width)
    if t.transposedC {
        multiplyTransposedTile(kc: kc, a: aPanel, aRowStride: a.rowStride, aStepStride: a.stepStride, b: bPanel, c: p.c + (j0 &* ldc &+ i0), ldc: ldc,
                               loadC: loadC, height: height, width: width, tile: edgeTile)
        if isLastBlock && !t.blockEpilogue {
            applyEpilogue(p.epilogue, rows: tileColumns, columns: tileRows, c: p.c, ldc: ldc)
        }
    } else {
        let c = p.c + (i0 &* ldc &+ j0)
        if height == mr && width == nr {
            let inPlace = a.stepStride == 1 && a.rowStride != 1
            // Column panels outer (see `multiplyPackedBlock`): the next tile is the one below.
            let prefetch = Blocking.prefetchesNextTile && kc > Blocking.shortSteps
            if isLastBlock, let fused = FusedBiasActivation(p.epilogue) {
                // The epilogue in registers (a forward layer's usual case): done here.
                var tileFused = fused
                tileFused.bias = fused.bias + j0
                tileFused.output = fused.output + (i0 &* fused.outputLeadingDimension &+ j0)
                if prefetch {
                    prefetchTileBelow(c: c, ldc: ldc, output: tileFused.output, ldo: fused.outputLeadingDimension)
                }
                if inPlace {
                    microKernel(kc: kc, a: aPanel, lda: a.rowStride, b: bPanel, c: c, ldc: ldc, loadC: loadC,
                                fused: tileFused)
                } else {
                    microKernel(kc: kc, a: aPanel, b: bPanel, c: c, ldc: ldc, loadC: loadC, fused: tileFused)
                }
                return
            }
            if prefetch { prefetchTileBelow(c: c, ldc: ldc, output: nil, ldo: 0) }
            if inPlace {
                microKernel(kc: kc, a: aPanel, lda: a.rowStride, b: bPanel, c: c, ldc: ldc, loadC: loadC)
            } else {
                microKernel(kc: kc, a: aPanel, b: bPanel, c: c, ldc: ldc, loadC: loadC)
            }
        } else if width == nr || width == Vector.scalarCount {
            // Cut by the bottom edge, or exactly one vector wide: straight into C.
            microKernel(rows: height, wide: width == nr, kc: kc, a: aPanel, aRowStride: a.rowStride,
                        aStepStride: a.stepStride, b: bPanel, c: c, ldc: ldc,
                        loadC: loadC)
        } else {
            multiplyEdgeTile(kc: kc, a: aPanel, aRowStride: a.rowStride, aStepStride: a.stepStride, b: bPanel, c: c, ldc: ldc, loadC: loadC,
                             height: height, width: width, tile: edgeTile)
        }
        if isLastBlock && !t.blockEpilogue {
            applyEpilogue(p.epilogue, rows: tileRows, columns: tileColumns, c: p.c, ldc: ldc)
        }
    }
}

/// `C[height×width] = (loadC ? C : 0) + Ã·B̃` for a tile cut by the right edge to a width that
/// is not whole vectors: the micro-kernel runs its `height` rows on `tile` (`mr × nr` floats of
/// workspace) and the valid part is copied.
private func multiplyEdgeTile(kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aStepStride: Int, b: UnsafePointer<Float>,
                              c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool,
                              height: Int, width: Int, tile: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr
    if loadC {
        tile.update(repeating: 0, count: Blocking.mr &* nr)
        for r in 0..<height { (tile + r &* nr).update(from: c + r &* ldc, count: width) }
    }
    microKernel(rows: height, wide: width > Vector.scalarCount, kc: kc, a: a, aRowStride: aRowStride,
                aStepStride: aStepStride, b: b, c: tile, ldc: nr,
                loadC: loadC)
    for r in 0..<height { (c + r &* ldc).update(from: tile + r &* nr, count: width) }
}

/// `Cᵀ[height×width] = (loadC ? Cᵀ : 0) + Ã·B̃`, where `c` points at `C[j0, i0]`: the
/// micro-kernel runs its `height` rows on `tile` and the tile is stored into `C` transposed.
private func multiplyTransposedTile(kc: Int, a: UnsafePointer<Float>, aRowStride: Int, aStepStride: Int,
                                    b: UnsafePointer<Float>,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool,
                                    height: Int, width: Int, tile: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr
    if loadC {
        tile.update(repeating: 0, count: Blocking.mr &* nr)
        for j in 0..<width {
            let row = c + j &* ldc
            for i in 0..<height { tile[i &* nr &+ j] = row[i] }
        }
    }
    microKernel(rows: height, wide: width > Vector.scalarCount, kc: kc, a: a, aRowStride: aRowStride,
                aStepStride: aStepStride, b: b, c: tile, ldc: nr,
                loadC: loadC)
    for j in 0..<width {
        let row = c + j &* ldc
        for i in 0..<height { row[i] = tile[i &* nr &+ j] }
    }
}
