@testable import BackpropCLI
import XCTest

final class BenchStatisticsTests: XCTestCase {
    func testOddCountMedianAndQuartiles() throws {
        let s = try XCTUnwrap(BenchSummary([5, 1, 4, 2, 3]))
        XCTAssertEqual(s.median, 3)
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.max, 5)
        XCTAssertEqual(s.q1, 2)
        XCTAssertEqual(s.q3, 4)
        XCTAssertEqual(s.count, 5)
        XCTAssertEqual(s.relativeSpread, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(s.relativeRange, 4.0 / 3.0, accuracy: 1e-12)
    }

    func testEvenCountInterpolates() throws {
        let s = try XCTUnwrap(BenchSummary([4, 1, 3, 2]))
        XCTAssertEqual(s.median, 2.5)
        XCTAssertEqual(s.q1, 1.75)
        XCTAssertEqual(s.q3, 3.25)
    }

    func testSingleSampleHasNoSpread() throws {
        let s = try XCTUnwrap(BenchSummary([7]))
        XCTAssertEqual(s.median, 7)
        XCTAssertEqual(s.relativeSpread, 0)
        XCTAssertEqual(s.relativeRange, 0)
    }

    func testEmptyOrNaNHasNoSummary() {
        XCTAssertNil(BenchSummary([]))
        XCTAssertNil(BenchSummary([1, .nan, 2]))
    }

    func testZeroMedianWithSpreadIsInfinitelyNoisy() throws {
        let s = try XCTUnwrap(BenchSummary([-1, 0, 0, 0, 1]))
        XCTAssertEqual(s.median, 0)
        XCTAssertEqual(s.relativeRange, .infinity)
    }

    func testFormatting() {
        XCTAssertEqual(percent(0.523), "52.3%")
        XCTAssertEqual(signedPercent(-0.081), "-8.1%")
        XCTAssertEqual(signedPercent(0.02), "+2.0%")
        XCTAssertEqual(grouped(1_234_567), "1,234,567")
        XCTAssertEqual(grouped(999), "999")
        var t = TextTable(header: ["a", "num"], rightAligned: [1])
        t.add(["xyz", "1"])
        XCTAssertEqual(t.render(), "a    num\n---  ---\nxyz    1\n")
    }
}
