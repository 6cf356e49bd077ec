import Backprop
import XCTest

/// The determinism contract of `GEMMProblem`: a row (or column) of `C` is bitwise the same
/// whatever other rows (columns) share the call and however a caller splits `m` or `n`.
final class GEMMDeterminismTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("GEMMDeterminismTests")
    }

    /// k crosses the k block (256) twice; m and n are not tile multiples.
    static let (m, n, k) = (41, 77, 600)

    /// Computes `g`'s product in one call, then again in row slices and column slices (each
    /// a separate call on offset pointers), single rows included, and compares bitwise.
    func testRowAndColumnSlicesAreBitwiseIdentical() {
        for isa in supportedISAs {
            for (ta, tb, form) in trainingForms {
                for accumulate in [false, true] {
                    let g = GEMMCase(m: Self.m, n: Self.n, k: Self.k, transposeA: ta, transposeB: tb, pad: 1, seed: 5)
                    let full = g.run(isa: isa, accumulate: accumulate)
                    let label = "\(isa) \(form) accumulate \(accumulate)"
                    for cuts in [[0, 1, 2, 15, 29, Self.m], Array(0...Self.m)] {
                        let sliced = runSliced(g, isa: isa, accumulate: accumulate, rowCuts: cuts, columnCuts: [0, Self.n])
                        XCTAssertTrue(bitwiseEqual(full, sliced), "\(label): row slices \(cuts.count - 1)")
                    }
                    for cuts in [[0, 3, 19, 50, Self.n], [0, 1, 2, 33, 34, Self.n]] {
                        let sliced = runSliced(g, isa: isa, accumulate: accumulate, rowCuts: [0, Self.m], columnCuts: cuts)
                        XCTAssertTrue(bitwiseEqual(full, sliced), "\(label): column slices \(cuts)")
                    }
                    // The top-left block computed alone equals the same block of the full product.
                    let corner = runSliced(g, isa: isa, accumulate: accumulate, rowCuts: [0, 7], columnCuts: [0, 9])
                    var same = true
                    for i in 0..<7 { for j in 0..<9 where full[i * g.ldc + j].bitPattern != corner[i * g.ldc + j].bitPattern {
                        same = false
                    } }
                    XCTAssertTrue(same, "\(label): 7×9 corner")
                }
            }
        }
    }

    /// The same product split into `rowCuts × columnCuts` blocks, one `Kernels.gemm` call each.
    func runSliced(_ g: GEMMCase, isa: InstructionSet, accumulate: Bool, rowCuts: [Int], columnCuts: [Int]) -> [Float] {
        var c = g.c
        let workspace = AlignedBuffer(count: Kernels.workspaceCount(for: isa))
        g.a.withUnsafeBufferPointer { ap in
            g.b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for (i0, i1) in zip(rowCuts, rowCuts.dropFirst()) {
                        for (j0, j1) in zip(columnCuts, columnCuts.dropFirst()) {
                            let a = ap.baseAddress! + (g.transposeA ? i0 : i0 * g.lda)
                            let b = bp.baseAddress! + (g.transposeB ? j0 * g.ldb : j0)
                            Kernels.gemm(GEMMProblem(m: i1 - i0, n: j1 - j0, k: g.k,
                                                     a: GEMMOperand(a, leadingDimension: g.lda, transposed: g.transposeA),
                                                     b: GEMMOperand(b, leadingDimension: g.ldb, transposed: g.transposeB),
                                                     c: cp.baseAddress! + i0 * g.ldc + j0, cLeadingDimension: g.ldc,
                                                     accumulate: accumulate),
                                         workspace: workspace.base, isa: isa)
                        }
                    }
                }
            }
        }
        return c
    }

    func bitwiseEqual(_ x: [Float], _ y: [Float]) -> Bool {
        x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}
