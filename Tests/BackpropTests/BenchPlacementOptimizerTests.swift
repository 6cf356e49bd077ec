import Backprop
import BackpropCLI
import XCTest

/// mlp-bench's `--numa` and optimizer flags: parsed into the options, errors name the flag, and
/// the stepper really trains with what was asked.
final class BenchPlacementOptimizerTests: XCTestCase {
    func parse(_ args: [String]) throws -> TrainBenchOptions {
        guard case .train(let o) = try BenchCommandLine.parse(args, processors: 2) else {
            XCTFail("expected a training benchmark for \(args)")
            throw BenchFlagError("test", "not a training benchmark")
        }
        return o
    }

    func testDefaultsArePlainSGDAndAutomaticPlacement() throws {
        let o = try parse([])
        XCTAssertEqual(o.placement, .automatic)
        XCTAssertNil(o.optimizer)
    }

    func testNUMAAndOptimizerFlags() throws {
        let o = try parse(["--config", "A", "--numa", "interleaved", "--optimizer", "lamb", "--weight-decay", "0.01",
                           "--lr-warmup=3", "--schedule", "cosine", "--warmup", "4", "--clip", "1"])
        XCTAssertEqual(o.placement, .interleaved)
        XCTAssertEqual(o.configurations.first?.warmup, 4, "--warmup stays the benchmark's untimed steps")
        var expected = OptimizerConfiguration()
        try expected.apply(flag: "--optimizer", value: "lamb")
        try expected.apply(flag: "--weight-decay", value: "0.01")
        try expected.apply(flag: "--warmup", value: "3")
        try expected.apply(flag: "--schedule", value: "cosine")
        try expected.apply(flag: "--clip", value: "1")
        XCTAssertEqual(o.optimizer, expected)
    }

    func testBadValuesNameTheFlag() {
        for (args, flag) in [(["--numa", "nearby"], "--numa"), (["--optimizer", "rmsprop"], "--optimizer"),
                             (["--optimizer", "sgd", "--momentum", "2"], "--momentum"), (["--lr-warmup"], "--lr-warmup")] {
            XCTAssertThrowsError(try BenchCommandLine.parse(args, processors: 2), "\(args)") { error in
                XCTAssertEqual((error as? BenchFlagError)?.flag, flag, "\(args): \(error)")
            }
        }
    }

    /// The stepper uses the optimizer it was given: Adam and SGD move the same model differently,
    /// and both placements give the same result.
    func testStepperTrainsWithTheGivenOptimizerAndPlacement() throws {
        let c = BenchConfiguration(name: "tiny", sizes: [12, 8, 3], batch: 16, steps: 1, warmup: 0)
        var adam = OptimizerConfiguration()
        try adam.apply(flag: "--optimizer", value: "adam")
        let plain = try BenchTrainerStepper(configuration: c, threads: 2)
        let withAdam = try BenchTrainerStepper(configuration: c, threads: 2, optimizer: adam)
        let replicated = try BenchTrainerStepper(configuration: c, threads: 2, placement: .replicated)
        for _ in 0..<3 {
            try plain.step()
            try withAdam.step()
            try replicated.step()
        }
        XCTAssertNotEqual(plain.trainer.model, withAdam.trainer.model)
        XCTAssertEqual(plain.trainer.model, replicated.trainer.model)
        XCTAssertEqual(replicated.placementReport.requested, .replicated)
    }
}
