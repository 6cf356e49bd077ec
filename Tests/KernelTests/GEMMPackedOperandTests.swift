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

    /// `Kernels.packB(_:k:n:steps:columns:into:)`: blocks cut at arbitrary steps and columns
    /// (inside panels and `k` blocks, across `nc` blocks), packed in any order, give bitwise the
    /// whole packed operand, zero padding included, and write nothing past it.
    func testBlocksPackTheWholeOperand() {
        // (k, n): several k blocks and nc blocks with a partial last panel; one panel; a
        // single column; fewer columns than a vector.
        let shapes: [(k: Int, n: Int)] = [(1100, 1100), (600, 70), (5, 32), (3, 1), (17, 7)]
        for isa in supportedISAs {
            for s in shapes {
                for transposed in [false, true] {
                    let context = "\(isa) k \(s.k) n \(s.n) transposed \(transposed)"
                    let ld = (transposed ? s.k : s.n) + 3
                    let stored = randomFloats((transposed ? s.n : s.k) * ld, seed: UInt64(s.k * 31 + s.n))
                    let count = Kernels.packedBCount(k: s.k, n: s.n, isa: isa)
                    let whole = AlignedBuffer(count: count), blocks = AlignedBuffer(count: count + 1)
                    whole.base.initialize(repeating: .nan, count: count)
                    blocks.base.initialize(repeating: .nan, count: count + 1)
                    blocks.base[count] = -7
                    stored.withUnsafeBufferPointer { bp in
                        let b = GEMMOperand(bp.baseAddress!, leadingDimension: ld, transposed: transposed)
                        Kernels.packB(b, k: s.k, n: s.n, panels: 0..<Kernels.panelCount(n: s.n, isa: isa),
                                      into: whole.base, isa: isa)
                        // Cuts at odd places; the blocks go last-first, some reaching past the edges.
                        let stepCuts = Array(Set([0, 1, s.k / 3, s.k / 2 + 5, s.k - 1, s.k].filter { $0 >= 0 && $0 <= s.k })).sorted()
                        let columnCuts = Array(Set([0, s.n / 5, 33, 40, s.n - 1, s.n].filter { $0 >= 0 && $0 <= s.n })).sorted()
                        var pieces: [(Range<Int>, Range<Int>)] = []
                        for (s0, s1) in zip(stepCuts, stepCuts.dropFirst()) {
                            for (c0, c1) in zip(columnCuts, columnCuts.dropFirst()) {
                                pieces.append((s0..<(s1 == s.k ? s1 + 4 : s1), c0..<(c1 == s.n ? c1 + 9 : c1)))
                            }
                        }
                        for (steps, columns) in pieces.reversed() {
                            Kernels.packB(b, k: s.k, n: s.n, steps: steps, columns: columns, into: blocks.base, isa: isa)
                        }
                    }
                    XCTAssertEqual(blocks.base[count], -7, "\(context): wrote past the packed operand")
                    let differing = (0..<count).filter { whole.base[$0].bitPattern != blocks.base[$0].bitPattern }.count
                    XCTAssertEqual(differing, 0, context)
                }
            }
        }
    }
}
