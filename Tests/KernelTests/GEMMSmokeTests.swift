import Backprop
import XCTest

final class GEMMSmokeTests: XCTestCase {
    func testTinyProduct() throws {
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2×3
        let b: [Float] = [1, 0, 0, 1, 1, 1]  // 3×2
        var c = [Float](repeating: 0, count: 4)
        let ws = AlignedBuffer(count: max(Kernels.workspaceCount(), 1))
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Kernels.gemm(GEMMProblem(m: 2, n: 2, k: 3, a: GEMMOperand(ap.baseAddress!, leadingDimension: 3),
                                     b: GEMMOperand(bp.baseAddress!, leadingDimension: 2),
                                     c: cp.baseAddress!, cLeadingDimension: 2), workspace: ws.base)
        } } }
        XCTAssertEqual(c, [4, 5, 10, 11])
    }
}
