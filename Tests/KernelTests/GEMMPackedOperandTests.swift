import Backprop
import XCTest

/// `GEMMProblem.packedB`: a right operand packed once (`Kernels.packB`, panels packed in
/// separate calls as separate threads would) gives bitwise the product the GEMM computes when
/// it packs `b` itself.
final class GEMMPackedOperandTests: XCTestCase {
    func testPrepackedOperandIsBitwiseTheSame() {
        // Several k blocks, several nc blocks (n > 1024) with a partial last panel, a row count
        // of several mc blocks, one panel exactly, and an output layer's 10 columns (tiled
        // transposed, so the packed panels are ignored).
        let shapes: [(m: Int, n: Int, k: Int)] = [(37, 1100, 600), (150, 64, 1030), (9, 32, 5), (1, 33, 1), (40, 10, 70)]
        for isa in supportedISAs {
            for s in shapes {
                for (transposeA, transposeB, form) in trainingForms {
                    let g = GEMMCase(m: s.m, n: s.n, k: s.k, transposeA: transposeA, transposeB: transposeB, pad: 3,
                                     seed: UInt64(s.m * 7 + s.n + s.k))
                    let expected = g.run(isa: isa, accumulate: true)
                    let packed = AlignedBuffer(count: Kernels.packedBCount(k: s.k, n: s.n, isa: isa) + 1)
                    packed.base[Kernels.packedBCount(k: s.k, n: s.n, isa: isa)] = -7
                    let panels = Kernels.panelCount(n: s.n, isa: isa)
                    XCTAssertEqual(panels, (s.n + Kernels.tileColumns(for: isa) - 1) / Kernels.tileColumns(for: isa))
                    var result = g.c
                    let workspace = AlignedBuffer(count: Kernels.workspaceCount(for: isa))
                    g.a.withUnsafeBufferPointer { ap in
                        g.b.withUnsafeBufferPointer { bp in
                            let b = GEMMOperand(bp.baseAddress!, leadingDimension: g.ldb, transposed: transposeB)
                            // Three "threads", the last panels first; panels past the end are ignored
                            // (the buffer's last float is a sentinel).
                            for t in [2, 0, 1] {
                                Kernels.packB(b, k: s.k, n: s.n,
                                              panels: (panels * t / 3)..<(t == 2 ? panels + 5 : panels * (t + 1) / 3),
                                              into: packed.base, isa: isa)
                            }
                            XCTAssertEqual(packed.base[Kernels.packedBCount(k: s.k, n: s.n, isa: isa)], -7,
                                           "\(isa) \(form) \(s): wrote past the packed operand")
                            result.withUnsafeMutableBufferPointer { cp in
                                Kernels.gemm(GEMMProblem(m: s.m, n: s.n, k: s.k,
                                                         a: GEMMOperand(ap.baseAddress!, leadingDimension: g.lda,
                                                                        transposed: transposeA),
                                                         b: b, c: cp.baseAddress!, cLeadingDimension: g.ldc,
                                                         accumulate: true, packedB: UnsafePointer(packed.base)),
                                             workspace: workspace.base, isa: isa)
                            }
                        }
                    }
                    let differing = zip(result, expected).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTAssertEqual(differing, 0, "\(isa) \(form) \(s)")
                }
            }
        }
    }
}
