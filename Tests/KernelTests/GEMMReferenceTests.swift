import Backprop
import XCTest

/// `Kernels.gemm` against a Double-precision reference, on every supported instruction set.
final class GEMMReferenceTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("GEMMReferenceTests")
    }

    /// Awkward sizes (not multiples of any tile or vector), block-crossing sizes (k past the
    /// k block, m past the row block, n past the column block), and random ones.
    static let shapes: [(m: Int, n: Int, k: Int)] = {
        var shapes = [(1, 1, 1), (7, 13, 5), (17, 33, 65), (1, 300, 2), (129, 31, 257), (5, 6, 0), (0, 4, 3),
                      (3, 0, 3), (150, 40, 600), (2, 4133, 3), (33, 32, 16),
                      // Two blocks of k on AVX-512 (kc = 1024: 2 × 550), five on AVX2 and baseline.
                      (19, 40, 1100),
                      // Right edge exactly one vector wide (AVX-512: 32 + 16, AVX2: 32 + 8, baseline:
                      // 32 + 4), bottom edges of 1…7 rows: the edge-tile kernels.
                      (15, 48, 70), (10, 40, 33), (13, 36, 300), (23, 784, 9),
                      // Few columns (an output layer): the kernel tiles Cᵀ instead.
                      (100, 10, 300), (37, 3, 5), (9, 8, 1),
                      // Few columns and k over several blocks (AVX-512 2, AVX2 5): all of k in one.
                      (40, 10, 1100),
                      // Few columns and k past what one block's workspace holds (AVX2: two blocks of
                      // 1550; AVX-512: one; baseline, where 10 columns are not few, tiles it directly).
                      (12, 10, 3100)]
        var rng = SplitMix64(seed: 42)
        for _ in 0..<4 {
            shapes.append((Int(rng.next() % 70) + 1, Int(rng.next() % 70) + 1, Int(rng.next() % 300) + 1))
        }
        return shapes.map { (m: $0.0, n: $0.1, k: $0.2) }
    }()

    func testAllFormsAndShapesMatchReference() {
        for isa in supportedISAs {
            for (ta, tb, form) in trainingForms + [(true, true, "both transposed")] {
                for s in Self.shapes {
                    for accumulate in [false, true] {
                        let pad = (s.m + s.n) % 3 == 0 ? 0 : 3
                        let g = GEMMCase(m: s.m, n: s.n, k: s.k, transposeA: ta, transposeB: tb, pad: pad,
                                         seed: UInt64(s.m * 1000 + s.n * 10 + s.k))
                        let c = g.run(isa: isa, accumulate: accumulate)
                        check(g, c, accumulate: accumulate, "\(isa) \(form) \(s) accumulate \(accumulate) pad \(pad)")
                    }
                }
            }
        }
    }

    /// Asserts `c` is `op(A)·op(B) (+ old C)` within tolerance and the padding is untouched.
    func check(_ g: GEMMCase, _ c: [Float], accumulate: Bool, _ label: String, file: StaticString = #filePath,
               line: UInt = #line) {
        var failures = 0
        for i in 0..<g.m {
            for j in 0..<g.ldc {
                let index = i * g.ldc + j
                if j >= g.n {
                    if c[index].bitPattern != g.c[index].bitPattern {
                        failures += 1
                        if failures <= 3 { XCTFail("\(label): padding C[\(i),\(j)] changed", file: file, line: line) }
                    }
                    continue
                }
                var (expected, magnitude) = g.reference(i, j)
                if accumulate { expected += Double(g.c[index]); magnitude += abs(Double(g.c[index])) }
                let error = abs(Double(c[index]) - expected)
                if !(error <= g.tolerance(magnitude: magnitude)) {
                    failures += 1
                    if failures <= 3 {
                        XCTFail("\(label): C[\(i),\(j)] = \(c[index]), expected \(expected)", file: file, line: line)
                    }
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(label): \(failures) wrong elements", file: file, line: line)
    }

    /// The skeleton's smoke test, kept: exact small integers.
    func testTinyIntegerProductIsExact() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2×3
        let b: [Float] = [1, 0, 0, 1, 1, 1]  // 3×2
        for isa in supportedISAs {
            var c = [Float](repeating: 0, count: 4)
            let ws = AlignedBuffer(count: Kernels.workspaceCount(for: isa))
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                Kernels.gemm(GEMMProblem(m: 2, n: 2, k: 3, a: GEMMOperand(ap.baseAddress!, leadingDimension: 3),
                                         b: GEMMOperand(bp.baseAddress!, leadingDimension: 2),
                                         c: cp.baseAddress!, cLeadingDimension: 2), workspace: ws.base, isa: isa)
            } } }
            XCTAssertEqual(c, [4, 5, 10, 11], "\(isa)")
        }
    }

    /// With `k == 0`, `C` becomes zero (or is kept with `accumulate`), padding untouched.
    func testEmptyDepthZeroesOrKeepsC() {
        for isa in supportedISAs {
            let g = GEMMCase(m: 4, n: 5, k: 0, transposeA: false, transposeB: true, pad: 2)
            let zeroed = g.run(isa: isa, accumulate: false)
            let kept = g.run(isa: isa, accumulate: true)
            for i in 0..<4 {
                for j in 0..<7 {
                    XCTAssertEqual(zeroed[i * 7 + j], j < 5 ? 0 : g.c[i * 7 + j], "\(isa) [\(i),\(j)]")
                    XCTAssertEqual(kept[i * 7 + j], g.c[i * 7 + j], "\(isa) [\(i),\(j)]")
                }
            }
        }
    }
}
