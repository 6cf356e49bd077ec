@testable import Backprop
import CAllocationCounter
import XCTest

/// Counts how often each iteration of each job ran.
private final class CountingTask: ParallelTask, @unchecked Sendable {
    let counts: UnsafeMutablePointer<Int32>
    let capacity: Int
    var spin = 0

    init(capacity: Int) {
        self.capacity = capacity
        counts = .allocate(capacity: capacity)
        counts.initialize(repeating: 0, count: capacity)
    }

    deinit { counts.deallocate() }

    func runIteration(_ index: Int) {
        var x = 0
        for k in 0..<spin { x &+= k }  // uneven work so that stealing happens
        counts[index] += Int32(1 + x & 0)
    }
}

/// The trainer's persistent worker pool.
final class TrainerWorkerPoolTests: XCTestCase {
    func testEveryIterationRunsExactlyOncePerJob() {
        for workers in 1...4 {
            let pool = WorkerPool(workerCount: workers)
            let task = CountingTask(capacity: 40)
            var expected = [Int32](repeating: 0, count: 40)
            for job in 0..<3000 {
                let iterations = 1 + (job * 7) % 40
                task.spin = (job % 5) * 200
                pool.run(iterations: iterations, task)
                for i in 0..<iterations { expected[i] += 1 }
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: task.counts, count: 40)), expected, "workers \(workers)")
        }
    }

    func testRunsAllocateNothing() {
        let pool = WorkerPool(workerCount: 3)
        let task = CountingTask(capacity: 16)
        for _ in 0..<100 { pool.run(iterations: 16, task) }
        XCTAssertEqual(fewestProcessAllocations { for n in 0..<1000 { pool.run(iterations: 1 + n % 16, task) } }, 0)
        XCTAssertGreaterThan(task.counts[0], 3000)
    }

    func testExecutorNeverStartsMoreThreadsThanCores() {
        XCTAssertEqual(ParallelExecutor(kind: .workerPool, tasks: 16, cores: 2).concurrency, 2)
        XCTAssertEqual(ParallelExecutor(kind: .workerPool, tasks: 3, cores: 8).concurrency, 3)
        XCTAssertEqual(ParallelExecutor(kind: .workerPool, tasks: 1, cores: 8).concurrency, 1)
    }
}
