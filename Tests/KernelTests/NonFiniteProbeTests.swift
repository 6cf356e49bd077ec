import Backprop
import XCTest

/// `Kernels.nonFiniteProbe`: ±0 for finite input (huge, subnormal, −0 included), NaN as soon
/// as one element is NaN or ±∞, wherever it sits (the four vector sums, the one-vector loop,
/// the scalar tail), on every instruction set.
final class NonFiniteProbeTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        announceInstructionSets("NonFiniteProbeTests")
    }

    func testFiniteGivesZeroAndAnyNonFiniteGivesNaN() {
        let finite: [Float] = [1, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNonzeroMagnitude, -Float.leastNormalMagnitude / 3]
        for isa in supportedISAs {
            for count in [0, 1, 7, 15, 16, 17, 63, 64, 65, 100, 257] {
                var x = (0..<count).map { finite[$0 % finite.count] }
                let clean = x.withUnsafeBufferPointer { Kernels.nonFiniteProbe($0.baseAddress!, count: count, isa: isa) }
                XCTAssertEqual(clean, 0, "\(isa) count \(count)")
                for bad in [Float.nan, .infinity, -.infinity] {
                    for position in Set([0, count / 3, count / 2, count - 1]) where count > 0 {
                        let saved = x[position]
                        x[position] = bad
                        let probe = x.withUnsafeBufferPointer {
                            Kernels.nonFiniteProbe($0.baseAddress!, count: count, isa: isa)
                        }
                        XCTAssertTrue(probe.isNaN, "\(isa) count \(count): \(bad) at \(position) gave \(probe)")
                        x[position] = saved
                    }
                }
                // An element past `count` is not read.
                x.append(.nan)
                let bounded = x.withUnsafeBufferPointer { Kernels.nonFiniteProbe($0.baseAddress!, count: count, isa: isa) }
                XCTAssertEqual(bounded, 0, "\(isa) count \(count): read past count")
            }
        }
    }
}
