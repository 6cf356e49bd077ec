import Backprop
import XCTest

/// The determinism contract of `GEMMProblem`: a row (or column) of `C` is bitwise the same
/// whatever other rows (columns) share the call and however a caller splits `m` or `n`.
final class GEMMDeterminismTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("GEMMDeterminismTests")
    }

    /// k crosses the k block twice (3 blocks of 700 with AVX-512's kc = 1024, 9 of 234 with
    /// kc = 256); m and n are not tile multiples.
    static let (m, n, k) = (41, 77, 2100)

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
                        let sliced = g.runSliced(isa: isa, accumulate: accumulate, rowCuts: cuts, columnCuts: [0, Self.n])
                        XCTAssertTrue(bitwiseEqual(full, sliced), "\(label): row slices \(cuts.count - 1)")
                    }
                    for cuts in [[0, 3, 19, 50, Self.n], [0, 1, 2, 33, 34, Self.n]] {
                        let sliced = g.runSliced(isa: isa, accumulate: accumulate, rowCuts: [0, Self.m], columnCuts: cuts)
                        XCTAssertTrue(bitwiseEqual(full, sliced), "\(label): column slices \(cuts)")
                    }
                    // The top-left block computed alone equals the same block of the full product.
                    let corner = g.runSliced(isa: isa, accumulate: accumulate, rowCuts: [0, 7], columnCuts: [0, 9])
                    var same = true
                    for i in 0..<7 { for j in 0..<9 where full[i * g.ldc + j].bitPattern != corner[i * g.ldc + j].bitPattern {
                        same = false
                    } }
                    XCTAssertTrue(same, "\(label): 7×9 corner")
                }
            }
        }
    }

    /// Narrow column slices, tiled as `Cᵀ` (a slice of 10 on AVX2 and AVX-512, with `k` in two
    /// blocks of 1550 on AVX2, where a block's packed `op(A)` holds at most 3072 steps; a slice of
    /// 4 on every instruction set), against the 20-column product they come from (tiled directly,
    /// `k` in blocks of at most `kc`, except on AVX-512, where 20 columns are few as well):
    /// bitwise the same, whatever the blocks of `k`.
    func testFewColumnsOverLongDepthEqualTheWideProduct() {
        for isa in supportedISAs {
            for (ta, tb, form) in trainingForms {
                for accumulate in [false, true] {
                    let g = GEMMCase(m: 30, n: 20, k: 3100, transposeA: ta, transposeB: tb, pad: 1, seed: 9)
                    let full = g.run(isa: isa, accumulate: accumulate)
                    for cuts in [[0, 10, 20], [0, 4, 10, 20]] {
                        let sliced = g.runSliced(isa: isa, accumulate: accumulate, rowCuts: [0, 30], columnCuts: cuts)
                        XCTAssertTrue(bitwiseEqual(full, sliced), "\(isa) \(form) accumulate \(accumulate) cuts \(cuts)")
                    }
                }
            }
        }
    }
}
