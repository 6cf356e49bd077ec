import Backprop
import XCTest

final class CSVTests: DataTestCase {
    func testLoadsWithDetectedHeaderAndLastColumnLabel() throws {
        let file = try write(text: "\u{FEFF}x1, x2 ,\"x3\",label\r\n0.5,1,-2e1,3\r\n\r\n  7 ,\"8.25\",9,0.0\r\n", "data.csv")
        let set = try CSV.load(file)
        XCTAssertEqual(set.count, 2)
        XCTAssertEqual(set.features.columns, 3)
        XCTAssertEqual(set.features.values, [0.5, 1, -20, 7, 8.25, 9])
        XCTAssertEqual(set.labels, [3, 0])
        XCTAssertEqual(set.classCount, 4)
    }

    func testLabelColumnAndExplicitHeaderChoice() throws {
        let file = try write(text: "2,0.1,0.2\n1,0.3,0.4\n", "first.csv")
        let set = try CSV.load(file, labelColumn: 0)
        XCTAssertEqual(set.labels, [2, 1])
        XCTAssertEqual(set.features.values, [0.1, 0.2, 0.3, 0.4])
        let skipped = try CSV.load(file, labelColumn: 0, hasHeader: true)
        XCTAssertEqual(skipped.labels, [1])
        let middleFile = try write(text: "0.5,4,0.25\n", "middle.csv")
        let middle = try CSV.load(middleFile, labelColumn: -2)
        XCTAssertEqual(middle.features.values, [0.5, 0.25])
        XCTAssertEqual(middle.labels, [4])
        let named = try write(text: "a,b\n1,2\n", "named.csv")
        assertDataError(try CSV.load(named, hasHeader: false), file: named, "line 1, column 1: 'a' is not a number")
    }

    func testErrorsNameLineAndColumn() throws {
        let bad = try write(text: "a,b,c\n1,2,3\n4,x5,6\n", "bad.csv")
        assertDataError(try CSV.load(bad), file: bad, "line 3, column 2: 'x5' is not a number")
        let ragged = try write(text: "1,2,3\n4,5\n", "ragged.csv")
        assertDataError(try CSV.load(ragged), file: ragged, "line 2 has 2 columns, expected 3 (as line 1)")
        let label = try write(text: "1,2,3.5\n", "label.csv")
        assertDataError(try CSV.load(label), file: label, "line 1, column 3: label '3.5' is not a non-negative integer")
        let negative = try write(text: "1,2,-1\n", "negative.csv")
        assertDataError(try CSV.load(negative), file: negative, "label '-1'")
        let infinite = try write(text: "1,inf,1\n", "inf.csv")
        assertDataError(try CSV.load(infinite, hasHeader: false), file: infinite, "line 1, column 2: 'inf' is not a finite Float")
        let overflow = try write(text: "1,2\n1e39,1\n", "overflow.csv")
        assertDataError(try CSV.load(overflow), file: overflow, "line 2, column 1: '1e39' is not a finite Float")
        let empty = try write(text: "\n\n", "empty.csv")
        assertDataError(try CSV.load(empty), file: empty, "no data lines")
        let headerOnly = try write(text: "a,b\n", "header.csv")
        assertDataError(try CSV.load(headerOnly), file: headerOnly, "no data lines")
        let single = try write(text: "1\n2\n", "single.csv")
        assertDataError(try CSV.load(single), file: single, "at least one feature column")
        let columns = try write(text: "1,2\n", "columns.csv")
        assertDataError(try CSV.load(columns, labelColumn: 2), file: columns, "label column 2 is out of range for 2 columns")
        assertDataError(try CSV.load(columns, labelColumn: -3), file: columns, "label column -3 is out of range")
        let binary = try write([0x31, 0x2C, 0xFF, 0xFE, 0x2C, 0x31, 0x0A, 0x31, 0x2C, 0x32, 0x2C, 0x33, 0x0A], "binary.csv")
        assertDataError(try CSV.load(binary, hasHeader: false), file: binary, "line 1, column 2")
        let missing = path("missing.csv")
        assertDataError(try CSV.load(missing), file: missing, "cannot open")
    }
}
