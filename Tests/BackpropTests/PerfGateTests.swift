import Backprop
@testable import BackpropCLI
import XCTest

/// The regression gate's comparison on synthetic measurements.
final class PerfGateTests: XCTestCase {
    /// Five repeats around `median` with relative half-spread `spread` (IQR/median = `spread`).
    func summary(_ median: Double, spread: Double = 0.02, count: Int = 5) -> BenchSummary {
        let samples = (0..<count).map { i -> Double in
            let t = count == 1 ? 0 : Double(i) / Double(count - 1) * 2 - 1  // −1 … 1
            return median * (1 + spread * t)
        }
        return BenchSummary(samples)!
    }

    func measurement(_ figures: [(String, GateFigureKind, BenchSummary)], isa: String = "avx512",
                     core: String? = "Haswell") -> GateMeasurement {
        GateMeasurement(machine: "test machine", isa: isa, openBLASCore: core,
                        figures: figures.map { GateFigure(name: $0.0, kind: $0.1, summary: $0.2) })
    }

    lazy var baseline = measurement([
        ("train A P=1", .fractionOfPeak, summary(0.50)),
        ("train A P=2", .fractionOfPeak, summary(0.40)),
        ("gemm forward 1024x1024x784", .ratioToOpenBLAS, summary(1.70)),
        ("train D P=1", .fractionOfPeak, summary(0.70)),  // not in the quick runs below
    ])

    func testEqualRunPasses() {
        let now = measurement([
            ("train A P=1", .fractionOfPeak, summary(0.50)),
            ("train A P=2", .fractionOfPeak, summary(0.40)),
            ("gemm forward 1024x1024x784", .ratioToOpenBLAS, summary(1.70)),
        ])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.outcome, .pass)
        XCTAssertEqual(r.outcome.exitCode, 0)
        XCTAssertEqual(r.rows.map(\.verdict), [.within, .within, .within])
        XCTAssertEqual(r.rows.count, 3, "baseline figures the run did not measure are ignored")
        XCTAssertEqual(r.rows[0].change ?? .nan, 0, accuracy: 1e-12)
    }

    func testBetterRunPasses() {
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.60)),
                               ("gemm forward 1024x1024x784", .ratioToOpenBLAS, summary(1.75))])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.outcome, .pass)
        XCTAssertEqual(r.rows.map(\.verdict), [.better, .within])
        XCTAssertEqual(r.rows[0].change ?? .nan, 0.2, accuracy: 1e-12)
    }

    func testRegressionBeyondThresholdTrips() {
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.50 * 0.92)),
                               ("train A P=2", .fractionOfPeak, summary(0.40))])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.outcome, .regression)
        XCTAssertEqual(r.outcome.exitCode, 3)
        XCTAssertEqual(r.rows.map(\.verdict), [.regressed, .within])
        XCTAssertTrue(Gate.table(r).contains("REGRESSED"))
        XCTAssertTrue(Gate.table(r).contains("-8.0%"))
    }

    func testMedianJustBelowTheBarWithAWideSpreadIsInconclusive() {
        // −8% median, but the upper quartile (−5.7%) is above the −7% bar: cannot tell.
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.46, spread: 0.05))])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.rows[0].verdict, .noisy)
        XCTAssertTrue(r.rows[0].note?.contains("inconclusive") ?? false)
        XCTAssertEqual(r.outcome, .unusable)
        // The same median with a tight spread is a regression.
        let tight = measurement([("train A P=1", .fractionOfPeak, summary(0.46, spread: 0.01))])
        XCTAssertEqual(Gate.compare(baseline: baseline, now: tight, policy: GatePolicy()).outcome, .regression)
    }

    func testRatioRegressionTripsToo() {
        let now = measurement([("gemm forward 1024x1024x784", .ratioToOpenBLAS, summary(1.50))])
        XCTAssertEqual(Gate.compare(baseline: baseline, now: now, policy: GatePolicy()).outcome, .regression)
    }

    func testRegressionWithinThresholdPassesAndBoundaryIsInclusive() {
        let small = measurement([("train A P=1", .fractionOfPeak, summary(0.50 * 0.95))])
        XCTAssertEqual(Gate.compare(baseline: baseline, now: small, policy: GatePolicy()).outcome, .pass)
        // Exactly at the threshold (−6.25%, exact in binary) passes; just below fails.
        let b = measurement([("x", .fractionOfPeak, summary(1.0, spread: 0))])
        let edge = measurement([("x", .fractionOfPeak, summary(0.9375, spread: 0))])
        XCTAssertEqual(Gate.compare(baseline: b, now: edge, policy: GatePolicy(threshold: 0.0625)).outcome, .pass)
        let below = measurement([("x", .fractionOfPeak, summary(0.9374, spread: 0))])
        XCTAssertEqual(Gate.compare(baseline: b, now: below, policy: GatePolicy(threshold: 0.0625)).outcome, .regression)
    }

    func testThresholdFlagChangesTheVerdict() throws {
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.50 * 0.90))])  // −10%
        XCTAssertEqual(Gate.compare(baseline: baseline, now: now, policy: GatePolicy()).outcome, .regression)
        guard case .gate(let loose) = try BenchCommandLine.parse(["gate", "--threshold", "12"], processors: 2),
              case .gate(let strict) = try BenchCommandLine.parse(["gate", "--threshold=5%"], processors: 2) else {
            return XCTFail("not parsed as gate")
        }
        XCTAssertEqual(loose.policy.threshold, 0.12, accuracy: 1e-12)
        XCTAssertEqual(Gate.compare(baseline: baseline, now: now, policy: loose.policy).outcome, .pass)
        XCTAssertEqual(Gate.compare(baseline: baseline, now: now, policy: strict.policy).outcome, .regression)
        XCTAssertEqual(Gate.compare(baseline: baseline, now: measurement([("train A P=1", .fractionOfPeak, summary(0.48))]),
                                    policy: strict.policy).outcome, .pass, "−4% passes a 5% threshold")
    }

    func testNoisyRunIsUnusable() {
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.50, spread: 0.15)),
                               ("train A P=2", .fractionOfPeak, summary(0.40))])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.outcome, .unusable)
        XCTAssertEqual(r.outcome.exitCode, 4)
        XCTAssertEqual(r.rows[0].verdict, .noisy)
        XCTAssertEqual(r.rows[0].spread ?? 0, 0.15, accuracy: 1e-9)
        XCTAssertTrue(Gate.table(r).contains("UNUSABLE"))
        // A looser bound accepts the same run.
        XCTAssertEqual(Gate.compare(baseline: baseline, now: now, policy: GatePolicy(maxRelativeSpread: 0.2)).outcome, .pass)
    }

    func testNoisyFigureDoesNotHideARealRegression() {
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.50, spread: 0.3)),
                               ("train A P=2", .fractionOfPeak, summary(0.30))])
        XCTAssertEqual(Gate.compare(baseline: baseline, now: now, policy: GatePolicy()).outcome, .regression)
    }

    func testNoisyRegressionIsNotJudgedAsRegression() {
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.40, spread: 0.3))])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.rows[0].verdict, .noisy)
        XCTAssertEqual(r.outcome, .unusable)
    }

    func testBusyCoresMakeAMultiThreadFigureUnusable() {
        var now = measurement([("train A P=2", .fractionOfPeak, summary(0.30))])  // −25%, but cores were busy
        now.figures[0].coreAvailability = 0.6
        var r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.rows[0].verdict, .noisy)
        XCTAssertTrue(r.rows[0].note?.contains("cores busy") ?? false)
        XCTAssertEqual(r.outcome, .unusable)
        XCTAssertEqual(Gate.unfitForBaseline(now, policy: GatePolicy()), ["train A P=2"])
        now.figures[0].coreAvailability = 0.95
        r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.outcome, .regression, "with the cores free the same drop is a regression")
    }

    func testTooFewRepeatsIsUnusable() {
        let now = measurement([("train A P=1", .fractionOfPeak, summary(0.50, count: 3))])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy())
        XCTAssertEqual(r.rows[0].verdict, .noisy)
        XCTAssertEqual(r.outcome, .unusable)
    }

    func testNewAndUnavailableFiguresAreReportedNotJudged() {
        let now = measurement([("train Z P=1", .fractionOfPeak, summary(0.1))])
        let r = Gate.compare(baseline: baseline, now: now, policy: GatePolicy(),
                             unavailable: [("gemm forward 1024x1024x784", .ratioToOpenBLAS, "OpenBLAS not found")])
        XCTAssertEqual(r.rows.map(\.verdict), [.new, .unavailable])
        XCTAssertEqual(r.rows[1].baseline, 1.70)
        XCTAssertEqual(r.outcome, .pass)
    }

    func testOtherISAOrOpenBLASCoreIsIncomparable() {
        let figures: [(String, GateFigureKind, BenchSummary)] = [
            ("train A P=1", .fractionOfPeak, summary(0.50)),
            ("gemm forward 1024x1024x784", .ratioToOpenBLAS, summary(1.70)),
        ]
        let otherISA = Gate.compare(baseline: baseline, now: measurement(figures, isa: "avx2"), policy: GatePolicy())
        XCTAssertEqual(otherISA.rows.map(\.verdict), [.incomparable, .incomparable])
        XCTAssertEqual(otherISA.outcome, .unusable)
        let otherCore = Gate.compare(baseline: baseline, now: measurement(figures, core: "SkylakeX"), policy: GatePolicy())
        XCTAssertEqual(otherCore.rows.map(\.verdict), [.within, .incomparable])
        XCTAssertEqual(otherCore.outcome, .unusable)
    }

    func testBaselineFitnessAndJSONRoundTrip() throws {
        let noisy = measurement([("a", .fractionOfPeak, summary(0.5, spread: 0.2)), ("b", .fractionOfPeak, summary(0.5))])
        XCTAssertEqual(Gate.unfitForBaseline(noisy, policy: GatePolicy()), ["a"])
        XCTAssertEqual(Gate.unfitForBaseline(baseline, policy: GatePolicy()), [])
        let data = try JSONEncoder().encode(baseline)
        XCTAssertEqual(try JSONDecoder().decode(GateMeasurement.self, from: data), baseline)
    }

    func testGateFiguresFromAReport() throws {
        var report = BenchReport(machine: BenchMachine(cpu: "cpu", logicalProcessors: 2, isa: "avx512"), peaks: [])
        let s = summary(0.5)
        report.training = [TrainingMeasurement(
            configuration: "B", sizes: [784, 1024, 1024, 10], batch: 1024, threads: 2, steps: 8,
            samplesPerSecond: s, gflops: s, fractionOfPeak: s, peakGFLOPS: s, phaseShare: PhaseTimings(),
            phaseMilliseconds: PhaseTimings(), scalingEfficiency: nil, allocationsPerStep: 0, peakResidentBytes: 0)]
        let shape = GEMMShape(form: .forward, input: 784, output: 1024, batch: 1024)
        let small = GEMMShape(form: .forward, input: 1024, output: 10, batch: 1024)
        report.gemm = [GEMMMeasurement(shape: shape, name: shape.name, gflops: s, fractionOfPeak: s,
                                       openBLASGFLOPS: nil, ratioToOpenBLAS: nil, relativeDifference: nil),
                       GEMMMeasurement(shape: small, name: small.name, gflops: s, fractionOfPeak: s,
                                       openBLASGFLOPS: s, ratioToOpenBLAS: s, relativeDifference: 0)]
        let (m, unavailable) = BenchCommand.gateFigures(report)
        XCTAssertEqual(m.figures.map(\.name), ["train B P=2"])
        XCTAssertEqual(m.figures[0].kind, .fractionOfPeak)
        XCTAssertEqual(unavailable.map(\.name), ["gemm forward 1024x1024x784"])
        XCTAssertNil(m.openBLASCore)
        XCTAssertFalse(small.isComputeBound, "the output layer's product is not a gate figure")
        XCTAssertTrue(shape.isComputeBound)
        // With OpenBLAS, the compute-bound shape's ratio becomes a figure.
        report.gemm![0].ratioToOpenBLAS = s
        report.openBLASCore = "Haswell"
        let (withBLAS, none) = BenchCommand.gateFigures(report)
        XCTAssertEqual(withBLAS.figures.map(\.name), ["train B P=2", "gemm forward 1024x1024x784"])
        XCTAssertEqual(withBLAS.figures[1].kind, .ratioToOpenBLAS)
        XCTAssertEqual(withBLAS.openBLASCore, "Haswell")
        XCTAssertTrue(none.isEmpty)
    }
}
