import Backprop
import XCTest

final class DatasetTests: XCTestCase {
    func makeSet(_ n: Int) throws -> Dataset {
        try Dataset(features: Matrix(rows: n, columns: 2) { i, j in Float(i * 10 + j) }, labels: (0..<n).map { $0 % 3 })
    }

    func testCountMismatchNamesBothCounts() throws {
        XCTAssertThrowsError(try Dataset(features: Matrix(rows: 3, columns: 2), labels: [1, 2])) { error in
            XCTAssertEqual(error as? BackpropError, .shapeMismatch("the features have 3 rows but there are 2 labels"))
        }
        XCTAssertThrowsError(try Dataset(features: Matrix(rows: 3, columns: 2), targets: Matrix(rows: 4, columns: 1))) { error in
            XCTAssertEqual(error as? BackpropError, .shapeMismatch("the features have 3 rows but the targets have 4 rows"))
        }
        XCTAssertThrowsError(try Dataset(features: Matrix(rows: 2, columns: 1), labels: [1, -2])) { error in
            XCTAssertEqual(error as? BackpropError, .labelOutOfRange(label: -2, sample: 1, classes: 2))
        }
    }

    func testSplitTakesTheLastFraction() throws {
        let set = try makeSet(10)
        let (train, validation) = try set.split(validationFraction: 0.25)  // 2.5 rounds to 3
        XCTAssertEqual(train.count, 7)
        XCTAssertEqual(validation.count, 3)
        XCTAssertEqual(validation.features.row(0), [70, 71])
        XCTAssertEqual(validation.labels, [1, 2, 0])
        XCTAssertEqual(train.features.row(6), [60, 61])
        let (all, none) = try set.split(validationFraction: 0)
        XCTAssertEqual(all.count, 10)
        XCTAssertEqual(none.count, 0)
        XCTAssertEqual(none.features.columns, 2)
        XCTAssertThrowsError(try set.split(validationFraction: 1))
        XCTAssertThrowsError(try set.split(validationFraction: -0.1))
        XCTAssertThrowsError(try set.split(validationFraction: .nan))
        XCTAssertThrowsError(try makeSet(1).split(validationFraction: 0.6))
    }

    func testSubsetWithTargets() throws {
        let x = Matrix(rows: 4, columns: 3) { i, j in Float(i * 3 + j) }
        let y = Matrix(rows: 4, columns: 2) { i, j in Float(100 + i * 2 + j) }
        let set = try Dataset(features: x, targets: y)
        let picked = set.subset([3, 1, 3])
        XCTAssertEqual(picked.count, 3)
        XCTAssertEqual(picked.features.values, [9, 10, 11, 3, 4, 5, 9, 10, 11])
        XCTAssertEqual(picked.targets?.values, [106, 107, 102, 103, 106, 107])
        XCTAssertNil(picked.labels)
        XCTAssertNil(picked.classCount)
        let labelled = try makeSet(5).subset([4, 0])
        XCTAssertEqual(labelled.labels, [1, 0])
        XCTAssertEqual(labelled.features.values, [40, 41, 0, 1])
        XCTAssertEqual(labelled.classCount, 2)
    }
}
