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
                        let sliced = g.runSliced(isa: isa, accumulate: accumulate, rowCuts: [0, 1, 3, 13, 25, 30],
                                                 columnCuts: [0, n])
                        let label = "\(isa) \(form) n \(n) k \(k) accumulate \(accumulate)"
                        XCTAssertTrue(bitwiseEqual(full, sliced), label)
                        XCTAssertEqual(g.wrongElements(sliced, accumulate: accumulate), 0, label)
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
                let sliced = g.runSliced(isa: isa, accumulate: true, rowCuts: [0, 7, 150, 299, 300], columnCuts: [0, 1100])
                XCTAssertTrue(bitwiseEqual(full, sliced), "\(isa) \(form)")
                XCTAssertEqual(g.wrongElements(full, accumulate: true), 0, "\(isa) \(form)")
            }
        }
    }
}
