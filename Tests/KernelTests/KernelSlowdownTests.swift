@testable import Backprop
import XCTest

/// The test-only `BACKPROP_KERNEL_SLOWDOWN` work: real recomputation into scratch, results
/// unchanged. (The environment variable itself is read once per process, so these tests
/// call the slowdown directly with a factor.)
final class KernelSlowdownTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("KernelSlowdownTests")
    }

    func testRedoRecomputesRowsIntoScratchAndLeavesResultsAlone() {
        for isa in supportedISAs {
            for (ta, tb, form) in trainingForms {
                let g = GEMMCase(m: 70, n: 30, k: 40, transposeA: ta, transposeB: tb, pad: 2, seed: 3)
                let expected = g.run(isa: isa, accumulate: false)
                var c = expected
                let kernelCount = Kernels.kernelWorkspaceCount(for: isa)
                let workspace = AlignedBuffer(count: kernelCount + KernelSlowdown.scratchCount(factor: 0.5))
                let scratch = workspace.base + kernelCount
                g.a.withUnsafeBufferPointer { ap in
                    g.b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            KernelSlowdown.redo(
                                GEMMProblem(m: g.m, n: g.n, k: g.k,
                                            a: GEMMOperand(ap.baseAddress!, leadingDimension: g.lda, transposed: ta),
                                            b: GEMMOperand(bp.baseAddress!, leadingDimension: g.ldb, transposed: tb),
                                            c: cp.baseAddress!, cLeadingDimension: g.ldc),
                                factor: 0.5, workspace: workspace.base, isa: isa)
                        }
                    }
                }
                XCTAssertEqual(c, expected, "\(isa) \(form): the slowdown changed C")
                // 0.5·70·30 elements = 35 rows: one block of 35 rows, so scratch holds rows 0..<35.
                var same = true
                for i in 0..<35 { for j in 0..<g.n where scratch[i * KernelSlowdown.scratchColumns + j] != expected[i * g.ldc + j] {
                    same = false
                } }
                XCTAssertTrue(same, "\(isa) \(form): scratch does not hold the recomputed rows")
            }
        }
    }

    func testNoScratchWithoutSlowdown() {
        XCTAssertEqual(KernelSlowdown.scratchCount(factor: 0), 0)
        XCTAssertGreaterThan(KernelSlowdown.scratchCount(factor: 0.3), 0)
    }
}
