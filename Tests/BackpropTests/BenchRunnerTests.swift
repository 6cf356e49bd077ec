@testable import Backprop
@testable import BackpropCLI
import XCTest

/// The training benchmark's orchestration, on a fake stepper (no timing is asserted).
final class BenchRunnerTests: XCTestCase {
    /// Records the order of steps across all fake steppers, and "allocates" through a fake probe.
    final class Log: @unchecked Sendable {
        var steps: [Int] = []
        var counting = false
        var allocations: UInt64 = 0
    }

    final class FakeStepper: BenchStepper {
        let threads: Int
        let log: Log
        let allocationsPerStep: UInt64
        init(threads: Int, log: Log, allocationsPerStep: UInt64) {
            self.threads = threads
            self.log = log
            self.allocationsPerStep = allocationsPerStep
        }
        func step() throws {
            log.steps.append(threads)
            if log.counting { log.allocations += allocationsPerStep }
            // A little real work so that the timed interval is not empty.
            var x: Float = 1
            for i in 0..<20_000 { x = x * 0.999 + Float(i & 7) }
            if x.isNaN { log.steps.append(-1) }
        }
        var lastPhaseTimings: PhaseTimings { PhaseTimings(forward: 1, backward: 2, reduction: 0.5, update: 0.5) }
    }

    func run(allocationsPerStep: UInt64, threads: [Int] = [1, 2], repeats: Int = 3) throws -> ([TrainingMeasurement], Log) {
        let log = Log()
        let probe = AllocationProbe(count: { log.allocations }, setCounting: { log.counting = $0 })
        let config = BenchConfiguration(name: "t", sizes: [8, 4, 2], batch: 16, steps: 4, warmup: 2)
        let bench = TrainingBenchmark(configurations: [config], threadCounts: threads, repeats: repeats,
                                      allocationProbe: probe)
        let results = try bench.run(makeStepper: { _, p in FakeStepper(threads: p, log: log, allocationsPerStep: allocationsPerStep) },
                                    progress: { _ in })
        return (results, log)
    }

    func testRepeatsOfThreadCountsAreInterleaved() throws {
        let (results, log) = try run(allocationsPerStep: 0)
        // warm-up 2 each, one step each to size the peak chunk, then per repeat 1 untimed + 4 timed
        // (thread counts in alternating order), then per thread count 1 + 4 steps counting allocations.
        let expected = [1, 1, 2, 2, 1, 2] + [1, 1, 1, 1, 1, 2, 2, 2, 2, 2] + [2, 2, 2, 2, 2, 1, 1, 1, 1, 1]
            + [1, 1, 1, 1, 1, 2, 2, 2, 2, 2] + [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
        XCTAssertEqual(log.steps, expected)
        XCTAssertEqual(results.map(\.threads), [1, 2])
        for r in results {
            XCTAssertEqual(r.samplesPerSecond.count, 3)
            XCTAssertEqual(r.fractionOfPeak.count, 3)
            XCTAssertGreaterThan(r.fractionOfPeak.median, 0)
            XCTAssertEqual(r.gflops.median, r.samplesPerSecond.median / 16 * 6 * 16 * (8 * 4 + 4 * 2) / 1e9,
                           accuracy: r.gflops.median * 1e-9)
            XCTAssertEqual(r.phaseShare.backward, 0.5, accuracy: 1e-12)
            XCTAssertEqual(r.phaseMilliseconds.forward, 1000, accuracy: 1e-9)
            XCTAssertEqual(r.allocationsPerStep, 0)
            XCTAssertGreaterThan(r.peakResidentBytes, 0)
        }
        XCTAssertEqual(results[0].scalingEfficiency?.median ?? .nan, 1, accuracy: 1e-12, "P=1 against itself")
        XCTAssertNotNil(results[1].scalingEfficiency)
        XCTAssertGreaterThan(results[1].coreAvailability?.median ?? 0, 0)
    }

    func testAllocationsInTimedStepsAreCounted() throws {
        let (results, log) = try run(allocationsPerStep: 3)
        XCTAssertEqual(results.map(\.allocationsPerStep), [3, 3], "per counted step, per thread count")
        XCTAssertEqual(log.allocations, 3 * 4 * 2, "only the 4 counting steps per thread count count")
        XCTAssertFalse(log.counting, "counting is off after the run")
    }

    func testNoScalingWithoutOneThread() throws {
        let (results, _) = try run(allocationsPerStep: 0, threads: [2], repeats: 1)
        XCTAssertNil(results[0].scalingEfficiency)
    }

    func testStepperErrorsPropagate() {
        struct Boom: Error {}
        let config = BenchConfiguration(name: "t", sizes: [8, 2], batch: 4, steps: 1, warmup: 0)
        let bench = TrainingBenchmark(configurations: [config], threadCounts: [1], repeats: 1, allocationProbe: nil)
        XCTAssertThrowsError(try bench.run(makeStepper: { _, _ in throw Boom() }, progress: { _ in })) {
            XCTAssertTrue($0 is Boom)
        }
    }

    func testGEMMShapesOfTheSuite() {
        let b = BenchSuite.configuration(named: "B")!
        let shapes = GEMMShape.shapes(for: [b])
        XCTAssertEqual(shapes.map(\.name), [
            "gemm forward 1024x1024x784", "gemm weightGradient 1024x784x1024",
            "gemm forward 1024x1024x1024", "gemm propagation 1024x1024x1024", "gemm weightGradient 1024x1024x1024",
            "gemm forward 1024x10x1024", "gemm propagation 1024x1024x10", "gemm weightGradient 10x1024x1024",
        ])
        XCTAssertEqual(shapes[0].flops, 2 * 1024 * 1024 * 784)
        XCTAssertEqual(GEMMShape.shapes(for: [b, b]).count, 8, "no duplicates")
        XCTAssertEqual(GEMMShape.shapes(for: BenchSuite.all).count, 30)  // A 8, B 8, C 8, D 6 (its two hidden layers share shapes)
    }
}

/// The human and JSON reports.
final class BenchReportTests: XCTestCase {
    func testTextAndJSONCarryTheMeasurements() throws {
        var report = BenchReport(machine: BenchMachine(cpu: "Test CPU", logicalProcessors: 2, isa: "avx512"),
                                 peaks: [BenchPeak(threads: 1, gflops: 250), BenchPeak(threads: 2, gflops: 500)])
        let s = BenchSummary([0.70, 0.72, 0.74, 0.76, 0.78])!
        let sps = BenchSummary([10_000, 11_000, 12_000])!
        report.training = [TrainingMeasurement(
            configuration: "B", sizes: [784, 1024, 1024, 10], batch: 1024, threads: 2, steps: 8,
            samplesPerSecond: sps, gflops: s, fractionOfPeak: s, peakGFLOPS: s,
            phaseShare: PhaseTimings(forward: 0.4, backward: 0.55, reduction: 0, update: 0.05),
            phaseMilliseconds: PhaseTimings(), scalingEfficiency: BenchSummary([0.9]), allocationsPerStep: 0,
            peakResidentBytes: 129 << 20)]
        report.reduction = "threadCountInvariant"
        let shape = GEMMShape(form: .weightGradient, input: 784, output: 1024, batch: 1024)
        report.gemm = [GEMMMeasurement(shape: shape, name: shape.name, gflops: s, fractionOfPeak: s,
                                       openBLASGFLOPS: s, ratioToOpenBLAS: BenchSummary([1.7, 1.8]),
                                       relativeDifference: 1e-6)]
        report.openBLASLibrary = "libopenblas.so.0"
        report.openBLASCore = "Haswell"
        let text = report.text()
        for fragment in ["Test CPU, 2 logical CPUs, avx512", "1 thread 250.0 GFLOP/s, 2 threads 500.0 GFLOP/s",
                         "784-1024-1024-10", "11,000 [10,000–12,000]", "74.0% [70.0–78.0]", "40/55/0/5 %", "0.90",
                         "129 MiB", "core Haswell", "weightGradient", "1024x784x1024", "1.75 [1.70–1.80]"] {
            XCTAssertTrue(text.contains(fragment), "missing \(fragment) in\n\(text)")
        }
        let decoded = try JSONDecoder().decode(BenchReport.self, from: Data(report.json().utf8))
        XCTAssertEqual(decoded, report)
    }
}
