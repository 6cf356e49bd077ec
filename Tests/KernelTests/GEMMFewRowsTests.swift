import Backprop
import XCTest

/// Products of a few rows (an output layer's weight gradient, `m = 10`) run unpacked, one
/// register tile over all their rows, and products of a short `k` (an output layer's error
/// propagation, `k = 10`) run row panels outer. Both must give bitwise the rows the blocked
/// loops give for the same rows of a larger product, and the reference within tolerance.
final class GEMMFewRowsTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("GEMMFewRowsTests")
    }

    /// The forms whose `op(B)` is stored `k × n`: the ones that take the few-rows path.
    static let forms: [(Bool, Bool, String)] = [(false, false, "propagation delta·W"), (true, false, "gradient deltaᵀ·H")]

    /// A 30-row product (past `2·fewRows` on every instruction set: blocked) against the same
    /// product cut into 1, 2, 10, 12 and 5 rows (few-rows: one or two row groups). `n` ends in
    /// a partial tile (77), exactly one vector (48) or whole tiles (64); `k · n` is under and
    /// over the limit up to which `op(B)` is read unpacked (300 × 3600 is packed in blocks).
    func testFewRowSlicesEqualRowsOfBlockedProduct() {
        for isa in supportedISAs {
            for (ta, tb, form) in Self.forms {
                for (n, k) in [(77, 600), (48, 33), (64, 1), (300, 3600)] {
                    for accumulate in [false, true] {
                        let g = GEMMCase(m: 30, n: n, k: k, transposeA: ta, transposeB: tb, pad: 2, seed: UInt64(n + k))
                        let full = g.run(isa: isa, accumulate: accumulate)
                        let sliced = runRowSlices(g, isa: isa, accumulate: accumulate, cuts: [0, 1, 3, 13, 25, 30])
                        let label = "\(isa) \(form) n \(n) k \(k) accumulate \(accumulate)"
                        XCTAssertTrue(zip(full, sliced).allSatisfy { $0.bitPattern == $1.bitPattern }, label)
                        XCTAssertEqual(wrongElements(g, sliced, accumulate: accumulate), 0, label)
                    }
                }
            }
        }
    }

    /// `k = 10` over several row blocks (`mc`) and column blocks (`nc`), all three forms: row
    /// panels outer, against row and column slices and the reference.
    func testShortDepthMatchesSlicesAndReference() {
        for isa in supportedISAs {
            for (ta, tb, form) in trainingForms {
                let g = GEMMCase(m: 300, n: 1100, k: 10, transposeA: ta, transposeB: tb, pad: 1, seed: 77)
                let full = g.run(isa: isa, accumulate: true)
                let sliced = runRowSlices(g, isa: isa, accumulate: true, cuts: [0, 7, 150, 299, 300])
                XCTAssertTrue(zip(full, sliced).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(isa) \(form)")
                XCTAssertEqual(wrongElements(g, full, accumulate: true), 0, "\(isa) \(form)")
            }
        }
    }

    /// The product computed one `Kernels.gemm` call per row slice.
    func runRowSlices(_ g: GEMMCase, isa: InstructionSet, accumulate: Bool, cuts: [Int]) -> [Float] {
        var c = g.c
        let workspace = AlignedBuffer(count: Kernels.workspaceCount(for: isa))
        g.a.withUnsafeBufferPointer { ap in
            g.b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for (i0, i1) in zip(cuts, cuts.dropFirst()) {
                        let a = ap.baseAddress! + (g.transposeA ? i0 : i0 * g.lda)
                        Kernels.gemm(GEMMProblem(m: i1 - i0, n: g.n, k: g.k,
                                                 a: GEMMOperand(a, leadingDimension: g.lda, transposed: g.transposeA),
                                                 b: GEMMOperand(bp.baseAddress!, leadingDimension: g.ldb,
                                                                transposed: g.transposeB),
                                                 c: cp.baseAddress! + i0 * g.ldc, cLeadingDimension: g.ldc,
                                                 accumulate: accumulate),
                                     workspace: workspace.base, isa: isa)
                    }
                }
            }
        }
        return c
    }

    /// Elements of `c` outside the reference's tolerance, plus padding elements changed.
    func wrongElements(_ g: GEMMCase, _ c: [Float], accumulate: Bool) -> Int {
        var failures = 0
        for i in 0..<g.m {
            for j in 0..<g.ldc {
                let index = i * g.ldc + j
                guard j < g.n else {
                    if c[index].bitPattern != g.c[index].bitPattern { failures += 1 }
                    continue
                }
                var (expected, magnitude) = g.reference(i, j)
                if accumulate { expected += Double(g.c[index]); magnitude += abs(Double(g.c[index])) }
                if !(abs(Double(c[index]) - expected) <= g.tolerance(magnitude: magnitude)) { failures += 1 }
            }
        }
        return failures
    }
}
