// Matrix: construction, value semantics, helpers.
import Backprop
import XCTest

final class MatrixTests: XCTestCase {
    func testNestedArraysRoundTrip() throws {
        let m = try Matrix([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m.shape.rows, 2)
        XCTAssertEqual(m.shape.columns, 3)
        XCTAssertEqual(m.values, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(m[1, 0], 4)
        XCTAssertEqual(m.rowArrays, [[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m, try Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6]))
        let empty = try Matrix([])
        XCTAssertEqual(empty.rows, 0)
        XCTAssertEqual(empty.columns, 0)
        XCTAssertEqual(empty.rowArrays, [])
        let noColumns = try Matrix([[]])
        XCTAssertEqual(noColumns.rows, 1)
        XCTAssertEqual(noColumns.columns, 0)
    }

    /// Copies are independent: writing one (by subscript or buffer) leaves the other unchanged.
    func testCopyOnWrite() throws {
        let a = try Matrix([[1, 2], [3, 4]])
        var b = a
        b[0, 1] = 9
        XCTAssertEqual(a.values, [1, 2, 3, 4])
        XCTAssertEqual(b.values, [1, 9, 3, 4])
        var c = a
        c.withUnsafeMutableBufferPointer { $0[3] = -1 }
        XCTAssertEqual(a.values, [1, 2, 3, 4])
        XCTAssertEqual(c.values, [1, 2, 3, -1])
        // Dense layers inside a model copy share storage until written, then diverge.
        let model = try MLP(sizes: [2, 2], activations: [.identity], seed: 1)
        var edited = model
        edited.layers[0].weight[0, 0] += 1
        XCTAssertNotEqual(model.layers[0].weight[0, 0], edited.layers[0].weight[0, 0])
    }

    func testRowsTransposeAndDifference() throws {
        let m = try Matrix([[1, 2], [3, 4], [5, 6]])
        XCTAssertEqual(m.rows(1..<3).values, [3, 4, 5, 6])
        XCTAssertEqual(m.rows(2..<2).rows, 0)
        XCTAssertEqual(m.transposed.rowArrays, [[1, 3, 5], [2, 4, 6]])
        XCTAssertEqual(m.row(2), [5, 6])
        XCTAssertEqual(m.maxAbsoluteDifference(try Matrix([[1, 2], [3, 4.5], [5, 6]])), 0.5)
        XCTAssertEqual(m.maxAbsoluteDifference(m.transposed), .infinity)
        XCTAssertEqual(Matrix(rows: 2, columns: 3) { i, j in Float(10 * i + j) }.values, [0, 1, 2, 10, 11, 12])
    }

    func testZerosAndRandom() throws {
        XCTAssertEqual(Matrix.zeros(rows: 2, columns: 2).values, [0, 0, 0, 0])
        var g1 = SplitMix64(seed: 3), g2 = SplitMix64(seed: 3)
        let r1 = Matrix.random(rows: 50, columns: 40, in: -2...0.5, generator: &g1)
        let r2 = Matrix.random(rows: 50, columns: 40, in: -2...0.5, generator: &g2)
        XCTAssertEqual(r1.values.map(\.bitPattern), r2.values.map(\.bitPattern), "same generator state, same values")
        XCTAssertTrue(r1.values.allSatisfy { $0 >= -2 && $0 <= 0.5 })
        XCTAssertLessThan(r1.values.min()!, -1.99)
        XCTAssertGreaterThan(r1.values.max()!, 0.49)
        XCTAssertEqual(Double(r1.values.reduce(0, +)) / 2000, -0.75, accuracy: 0.05)
        XCTAssertEqual(g1, g2)
        let constant = Matrix.random(rows: 2, columns: 2, in: 3...3, generator: &g1)
        XCTAssertEqual(constant.values, [3, 3, 3, 3])
    }

    func testDescriptionShowsSmallMatricesOnly() throws {
        XCTAssertEqual(try Matrix([[1, 2], [3, 4]]).description, "Matrix(2×2) [[1.0, 2.0], [3.0, 4.0]]")
        XCTAssertEqual(Matrix(rows: 10, columns: 10).description, "Matrix(10×10)")
    }

    /// `==` compares shapes and elements; NaN is not equal to itself (IEEE).
    func testEquality() throws {
        XCTAssertNotEqual(try Matrix([[1, 2]]), try Matrix([[1], [2]]))
        let nan = try Matrix([[.nan]])
        XCTAssertNotEqual(nan, nan)
    }
}
