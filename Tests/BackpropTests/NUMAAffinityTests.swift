@testable import Backprop
import Dispatch
import XCTest

/// Pinning never leaks: the calling thread's affinity is the same after a pinned region.
final class NUMAAffinityTests: XCTestCase {
    func testPinnedRegionRestoresAffinity() throws {
        let before = ThreadAffinity.current()
        XCTAssertFalse(before.isEmpty)
        let target = before.last!
        let inside = ThreadAffinity.withPinned(to: [target]) { () -> [Int] in
            // While pinned, the thread runs only on the target CPU.
            XCTAssertEqual(ThreadAffinity.currentCPU(), target)
            return ThreadAffinity.current()
        }
        XCTAssertEqual(inside, [target])
        XCTAssertEqual(ThreadAffinity.current(), before)
    }

    func testRestoredAfterThrow() {
        struct Failure: Error {}
        let before = ThreadAffinity.current()
        XCTAssertThrowsError(try ThreadAffinity.withPinned(to: [before[0]]) { throw Failure() })
        XCTAssertEqual(ThreadAffinity.current(), before)
    }

    /// A narrower affinity set before the region (as a user's own pinning) is what comes back.
    func testRestoresTheCallersOwnPinning() throws {
        let all = ThreadAffinity.current()
        guard all.count >= 2 else { throw XCTSkip("needs two CPUs") }
        ThreadAffinity.withPinned(to: [all[0]]) {
            let callers = ThreadAffinity.current()
            ThreadAffinity.withPinned(to: [all[1]]) { XCTAssertEqual(ThreadAffinity.current(), [all[1]]) }
            XCTAssertEqual(ThreadAffinity.current(), callers)
        }
        XCTAssertEqual(ThreadAffinity.current(), all)
    }

    /// On Dispatch's pool threads too.
    func testDispatchThreadsRestored() {
        let all = ThreadAffinity.current()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let before = ThreadAffinity.current()
            ThreadAffinity.withPinned(to: [all[i % all.count]]) {
                XCTAssertEqual(ThreadAffinity.current(), [all[i % all.count]])
            }
            XCTAssertEqual(ThreadAffinity.current(), before)
        }
    }

    func testRefusedPinRunsUnpinned() {
        let before = ThreadAffinity.current()
        let pin = ThreadPin()!
        XCTAssertFalse(pin.pin(to: 100_000), "a CPU that does not exist is refused")
        XCTAssertFalse(pin.isPinned)
        pin.restore()
        XCTAssertEqual(ThreadAffinity.current(), before)
        XCTAssertTrue(pin.pin(to: before[0]))
        XCTAssertEqual(ThreadAffinity.current(), [before[0]])
        pin.restore()
        XCTAssertEqual(ThreadAffinity.current(), before)
    }
}
