import Backprop
import XCTest

/// `Kernels.columnSums`: the bias gradient `Σ_i delta[i,j]`, summed in increasing `i`.
final class ColumnSumsTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("ColumnSumsTests")
    }

    /// Bitwise equal to a Float loop in increasing row order (the documented order), with and
    /// without `accumulate`, for column counts around the vector widths and `ld > columns`;
    /// and within 1e-6·rows relative of a Double sum.
    func testMatchesSequentialSums() {
        for isa in supportedISAs {
            for (rows, columns) in [(1, 1), (5, 3), (64, 17), (100, 33), (7, 130), (0, 9), (3, 0)] {
                for accumulate in [false, true] {
                    let ld = columns + 3
                    let x = randomFloats(max(rows * ld, 1), seed: UInt64(rows * 31 + columns))
                    let initial = randomFloats(columns + 2, seed: 77)
                    var out = initial
                    x.withUnsafeBufferPointer { xp in
                        out.withUnsafeMutableBufferPointer { op in
                            Kernels.columnSums(rows: rows, columns: columns, x: xp.baseAddress!, leadingDimension: ld,
                                               into: op.baseAddress!, accumulate: accumulate, isa: isa)
                        }
                    }
                    let label = "\(isa) \(rows)×\(columns) accumulate \(accumulate)"
                    for j in 0..<columns {
                        var sum: Float = accumulate ? initial[j] : 0
                        var exact: Double = accumulate ? Double(initial[j]) : 0
                        for i in 0..<rows { sum += x[i * ld + j]; exact += Double(x[i * ld + j]) }
                        XCTAssertEqual(out[j].bitPattern, sum.bitPattern, "\(label) column \(j)")
                        XCTAssertEqual(Double(out[j]), exact, accuracy: 1e-6 * Double(rows + 1), "\(label) column \(j)")
                    }
                    XCTAssertEqual(out[columns], initial[columns], "\(label): wrote past the end")
                    XCTAssertEqual(out[columns + 1], initial[columns + 1], "\(label): wrote past the end")
                }
            }
        }
    }
}
