@testable import Backprop
import Dispatch
import XCTest

/// `PlacementRuntime` keeps a registry of the buffers it hands out, and the trainer's workers
/// allocate their own buffers in parallel (so that first touch places them): concurrent
/// `allocate` and `free` must lose no record and free every buffer once. Under
/// `scripts/sanitize thread` (and scripts/test's TSan step) this is also the check that the
/// registry's lock hand-overs are seen by ThreadSanitizer (`Mutex.withSanitizedLock`).
final class PlacementRuntimeConcurrencyTests: XCTestCase {
    private struct Slots: @unchecked Sendable {
        let base: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    }

    func testConcurrentAllocateAndFreeKeepEveryRecord() throws {
        let runtime = try PlacementRuntime(topology: .current, requested: .none, workers: 1, threads: 1)
        let threads = 4, perThread = 400
        let slots = Slots(base: .allocate(capacity: threads * perThread))
        slots.base.initialize(repeating: nil, count: threads * perThread)
        defer { slots.base.deallocate() }

        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread {
                let p = runtime.allocate(i + 1, .uniform, kind: .gradients, name: "thread \(t) buffer \(i)")
                p[i] = Float(t * perThread + i)
                slots.base[t * perThread + i] = p
            }
        }
        let report = runtime.report()
        XCTAssertEqual(report.buffers.count, threads * perThread)
        let expectedNames = Set((0..<threads).flatMap { t in (0..<perThread).map { "thread \(t) buffer \($0)" } })
        XCTAssertEqual(Set(report.buffers.map(\.name)), expectedNames)
        XCTAssertEqual(report.buffers.map(\.bytes).reduce(0, +),
                       threads * (perThread * (perThread + 1) / 2) * MemoryLayout<Float>.stride)
        for t in 0..<threads {
            for i in 0..<perThread {
                // Zeroed by `allocate`, then written once by its owner.
                let p = try XCTUnwrap(slots.base[t * perThread + i])
                XCTAssertEqual(p[i], Float(t * perThread + i))
                if i > 0 { XCTAssertEqual(p[0], 0) }
            }
        }

        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread { runtime.free(slots.base[t * perThread + i]) }
        }
        XCTAssertEqual(runtime.report().buffers, [])
    }
}
