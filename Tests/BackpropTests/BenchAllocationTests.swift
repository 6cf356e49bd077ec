@testable import BackpropCLI
import CAllocationCounter
import XCTest

/// mlp-bench's stepper over the real `Trainer`: a steady-state step allocates nothing, and the
/// benchmark reports that count.
final class BenchAllocationTests: XCTestCase {
    func testSteadyStateTrainerStepAllocatesNothing() throws {
        let config = BenchConfiguration(name: "t", sizes: [33, 40, 24, 10], batch: 48, steps: 1, warmup: 0)
        for threads in [1, 2] {
            let stepper = try BenchTrainerStepper(configuration: config, threads: threads)
            for _ in 0..<3 { try stepper.step() }
            let count = try fewestProcessAllocations { for _ in 0..<20 { try stepper.step() } }
            XCTAssertEqual(count, 0, "threads \(threads): allocations in steady-state steps")
            let t = stepper.lastPhaseTimings
            XCTAssertGreaterThan(t.forward, 0)
            XCTAssertGreaterThan(t.backward, 0)
            XCTAssertGreaterThan(t.total, 0)
        }
    }

    func testBenchmarkReportsZeroAllocationsForTheTrainer() throws {
        let probe = AllocationProbe(count: { bp_allocation_count() }, setCounting: { bp_allocation_counting($0 ? 1 : 0) })
        let config = BenchConfiguration(name: "t", sizes: [33, 40, 10], batch: 32, steps: 10, warmup: 2)
        let results = try TrainingBenchmark(configurations: [config], threadCounts: [1, 2], repeats: 3, allocationProbe: probe)
            .run(makeStepper: BenchTrainerStepper.make, progress: { _ in })
        XCTAssertEqual(results.map(\.allocationsPerStep), [0, 0])
    }

    func testTheCounterSeesAnAllocation() {
        // The probe is only worth something if it counts: a fresh array buffer is one malloc.
        let before = bp_allocation_count()
        bp_allocation_counting(1)
        let a = [Int](repeating: 7, count: 1000 + Int(before % 2))
        bp_allocation_counting(0)
        XCTAssertEqual(a.count >= 1000, true)
        XCTAssertGreaterThan(bp_allocation_count() - before, 0)
    }
}
