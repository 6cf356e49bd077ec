@testable import Backprop
@testable import BackpropCLI
import XCTest

/// The peak calibration loop and the GEMM comparison with OpenBLAS.
final class BenchPeakTests: XCTestCase {
    var supported: [InstructionSet] { InstructionSet.allCases.filter(\.isSupported) }

    func testPeakLoopComputesItsChainsExactly() {
        // Each chain runs acc ← acc·m + c from acc₀ = c + j, j = 0..<accumulators, on every lane:
        // acc_n = c/(1−m) + mⁿ·(acc₀ − c/(1−m)). The loop returns the sum over chains and lanes.
        for isa in supported {
            let perIteration = Kernels.peakFlopsPerIteration(isa: isa)
            let lanes: Int, chains: Int
            switch isa {
            case .avx512: (lanes, chains) = (16, 16)
            case .avx2: (lanes, chains) = (8, 12)
            case .portable: (lanes, chains) = (4, 12)
            }
            XCTAssertEqual(perIteration, 2 * lanes * chains, "\(isa)")
            let n = 10_000
            let seed: Float = 0.5
            let m = Double(Float(0.999_999)), c = Double(seed), fixedPoint = c / (1 - m)
            var expected = 0.0
            for j in 0..<chains { expected += Double(lanes) * (fixedPoint + pow(m, Double(n)) * (c + Double(j) - fixedPoint)) }
            let got = Double(Kernels.peakLoop(iterations: n, seed: seed, isa: isa))
            XCTAssertEqual(got, expected, accuracy: expected * 1e-3, "\(isa)")
            XCTAssertEqual(Double(Kernels.peakLoop(iterations: 0, seed: seed, isa: isa)),
                           Double(lanes) * (Double(chains) * c + Double(chains * (chains - 1) / 2)), accuracy: 1e-3)
        }
    }

    func testPeakMeasurementCountsEveryThreadsFlops() {
        for isa in supported {
            let one = PeakFLOPS.measure(threads: 1, iterations: 20_000, isa: isa)
            XCTAssertEqual(one.threads, 1)
            XCTAssertEqual(one.isa, isa)
            XCTAssertTrue(one.flopsPerSecond.isFinite && one.flopsPerSecond > 0)
            let two = PeakFLOPS.calibrate(threads: 2, iterations: 20_000, trials: 2, isa: isa)
            XCTAssertEqual(two.threads, 2)
            XCTAssertTrue(two.flopsPerSecond.isFinite && two.flopsPerSecond > 0)
        }
        XCTAssertGreaterThanOrEqual(PeakFLOPS.iterations(forSeconds: 1e-6), 1000)
    }

    func testOurGEMMAgreesWithOpenBLASOnTheTrainingForms() throws {
        guard let blas = OpenBLAS.load() else { throw XCTSkip("no OpenBLAS/CBLAS installed") }
        XCTAssertTrue(OpenBLAS.candidates.contains(blas.library))
        // Odd sizes, all three forms (transposed A, transposed B, neither).
        let config = BenchConfiguration(name: "t", sizes: [37, 29, 11], batch: 23, steps: 1, warmup: 0)
        let shapes = GEMMShape.shapes(for: [config])
        XCTAssertEqual(Set(shapes.map(\.form)), Set(GEMMForm.allCases))
        let results = GEMMBenchmark(shapes: shapes, repeats: 2, minimumSeconds: 1e-4, openBLAS: blas).run { _ in }
        XCTAssertEqual(results.count, shapes.count)
        for r in results {
            let diff = try XCTUnwrap(r.relativeDifference, r.name)
            XCTAssertLessThan(diff, 1e-5, "\(r.name): ours and cblas_sgemm disagree (transpose or leading dimension wrong?)")
            XCTAssertEqual(r.ratioToOpenBLAS?.count, 2)
            XCTAssertGreaterThan(r.gflops.median, 0)
        }
    }

    func testGEMMWithoutOpenBLASHasNoRatio() {
        let shapes = [GEMMShape(form: .forward, input: 8, output: 4, batch: 3)]
        let r = GEMMBenchmark(shapes: shapes, repeats: 1, minimumSeconds: 1e-5, openBLAS: nil).run { _ in }
        XCTAssertNil(r[0].ratioToOpenBLAS)
        XCTAssertNil(r[0].relativeDifference)
        XCTAssertEqual(r[0].fractionOfPeak.count, 1)
    }

    func testMissingLibraryIsNil() {
        XCTAssertNil(OpenBLAS.load(candidates: ["libdoes-not-exist.so.9"]))
    }
}
