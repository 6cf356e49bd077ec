// Run-time dispatch: which compiled kernels `InstructionSet.active` picks, and that
// `BACKPROP_ISA` really forces it (scripts/test reruns the kernel and gradient tests with
// BACKPROP_ISA=portable and with this class, so that a broken override fails CI).
@testable import Backprop
import Foundation
import XCTest

final class InstructionSetTests: XCTestCase {
    /// `active` is what the environment of this run asks for: the named instruction set when
    /// `BACKPROP_ISA` names a supported one, the best supported one otherwise.
    func testActiveFollowsTheEnvironment() {
        let forced = ProcessInfo.processInfo.environment["BACKPROP_ISA"]
        print("InstructionSetTests: BACKPROP_ISA = \(forced ?? "(unset)"), active = \(InstructionSet.active), best = \(InstructionSet.best)")
        if let forced, let named = InstructionSet(rawValue: forced.lowercased()), named.isSupported {
            XCTAssertEqual(InstructionSet.active, named)
        } else {
            XCTAssertEqual(InstructionSet.active, InstructionSet.best)
        }
    }

    /// The override: names are case-insensitive; unknown or unsupported names fall back to the best.
    func testSelectHonoursSupportedNamesOnly() {
        XCTAssertEqual(InstructionSet.select(forced: "portable", best: .avx2), .portable)
        XCTAssertEqual(InstructionSet.select(forced: "PORTABLE", best: .avx2), .portable)
        XCTAssertEqual(InstructionSet.select(forced: nil, best: .avx2), .avx2)
        XCTAssertEqual(InstructionSet.select(forced: "", best: .avx2), .avx2)
        XCTAssertEqual(InstructionSet.select(forced: "sse9", best: .avx2), .avx2)
        for isa in InstructionSet.allCases {
            let picked = InstructionSet.select(forced: isa.rawValue, best: .portable)
            XCTAssertEqual(picked, isa.isSupported ? isa : .portable, "\(isa)")
        }
    }

    /// The best supported instruction set is supported, and nothing better is.
    func testBestIsTheFirstSupported() {
        let best = InstructionSet.best
        XCTAssertTrue(best.isSupported)
        for isa in InstructionSet.allCases.prefix(while: { $0 != best }) { XCTAssertFalse(isa.isSupported, "\(isa)") }
        XCTAssertTrue(InstructionSet.portable.isSupported)
    }
}
