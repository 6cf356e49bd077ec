// This file is compiled three times, once per instruction set (see Package.swift):
// BackpropKernelsAVX512, BackpropKernelsAVX2 and BackpropKernelsPortable hold symbolic
// links to it. Each module exports the same names; Backprop picks one at run time.
//
// The GEMM is BLIS style: five loops around one micro-kernel (GEMM+MicroKernel.swift), with
// packing (GEMM+Packing.swift) kept apart from it, sizes in GEMM+Blocking.swift, and the
// epilogue (GEMM+Epilogue.swift) applied to each tile of C as it is finished.
import BackpropKernelTypes

/// Floats of scratch space `gemm` needs for its packed panels.
public let gemmWorkspaceCount: Int = Blocking.workspaceCount

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
    let mc = Blocking.mc, kc = Blocking.kc, nc = Blocking.nc
    let packedA = workspace
    let packedB = workspace + mc &* kc
    let edgeTile = packedB + kc &* nc
    for jc in stride(from: 0, to: p.n, by: nc) {
        let columns = jc..<min(jc &+ nc, p.n)
        for pc in stride(from: 0, to: p.k, by: kc) {
            let steps = pc..<min(pc &+ kc, p.k)
            packB(p.b, steps: steps, columns: columns, into: packedB)
            for ic in stride(from: 0, to: p.m, by: mc) {
                let rows = ic..<min(ic &+ mc, p.m)
                packA(p.a, rows: rows, steps: steps, into: packedA)
                multiplyPackedBlock(p, rows: rows, steps: steps, columns: columns,
                                    packedA: packedA, packedB: packedB, edgeTile: edgeTile)
            }
        }
    }
}

/// `C[rows, columns] (+)= Ã·B̃` for one packed block pair (`steps` of `k`), tile by tile; on the
/// last block of `k`, each finished tile gets the epilogue.
@inline(__always)
private func multiplyPackedBlock(_ p: GEMMProblem, rows: Range<Int>, steps: Range<Int>, columns: Range<Int>,
                                 packedA: UnsafeMutablePointer<Float>, packedB: UnsafeMutablePointer<Float>,
                                 edgeTile: UnsafeMutablePointer<Float>) {
    let mr = Blocking.mr, nr = Blocking.nr, kc = steps.count, ldc = p.cLeadingDimension
    let loadC = p.accumulate || steps.lowerBound > 0
    let isLastBlock = steps.upperBound == p.k
    var bPanel = packedB
    for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: nr) {
        let width = min(nr, columns.upperBound &- j0)
        var aPanel = packedA
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
            let height = min(mr, rows.upperBound &- i0)
            let c = p.c + (i0 &* ldc &+ j0)
            if height == mr && width == nr {
                microKernel(kc: kc, a: aPanel, b: bPanel, c: c, ldc: ldc, loadC: loadC)
            } else {
                multiplyEdgeTile(kc: kc, a: aPanel, b: bPanel, c: c, ldc: ldc, loadC: loadC,
                                 height: height, width: width, tile: edgeTile)
            }
            if isLastBlock {
                applyEpilogue(p.epilogue, rows: i0..<(i0 &+ height), columns: j0..<(j0 &+ width),
                              c: p.c, ldc: ldc)
            }
            aPanel += mr &* kc
        }
        bPanel += nr &* kc
    }
}

/// `C[height×width] = (loadC ? C : 0) + Ã·B̃` for a tile cut by the matrix edge: the full
/// micro-kernel runs on `tile` (`mr × nr` floats of workspace) and the valid part is copied.
private func multiplyEdgeTile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                              c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool,
                              height: Int, width: Int, tile: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr
    if loadC {
        tile.update(repeating: 0, count: Blocking.mr &* nr)
        for r in 0..<height { (tile + r &* nr).update(from: c + r &* ldc, count: width) }
    }
    microKernel(kc: kc, a: a, b: b, c: tile, ldc: nr, loadC: loadC)
    for r in 0..<height { (c + r &* ldc).update(from: tile + r &* nr, count: width) }
}
