import Backprop
@testable import BackpropCLI
import Foundation
import XCTest

/// `mlp-train`'s optimizer flags (`OptimizerConfiguration`) and `--numa` placement.
final class TrainCommandOptimizerTests: CLITestCase {
    /// A tiny run without `tinyRun`'s fixed `--lr`.
    private func tiny(lr: String, _ extra: [String]) -> [String] {
        ["--data", directory, "--layers", "\(CLITestCase.features),8,\(CLITestCase.classes)", "--batch-size", "8",
         "--lr", lr, "--threads", "2", "--seed", "5", "--quiet"] + extra
    }

    /// The `train_loss` of each epoch of a `--json` run.
    private func trainLosses(_ result: Result) throws -> [Double] {
        try result.outputLines.map { line in
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            return try XCTUnwrap(object["train_loss"] as? Double, line)
        }
    }

    func testEveryOptimizerFlagParses() throws {
        let options = try TrainOptions.parse([
            "--optimizer", "lars", "--momentum", "0.8", "--weight-decay=0.001", "--schedule", "step:2e:0.5",
            "--warmup", "3", "--clip", "1.5", "--scale-lr", "--adapt-biases", "--numa", "interleaved",
        ])
        let optimizer = try XCTUnwrap(options.optimizer)
        XCTAssertEqual(optimizer.kind, .lars)
        XCTAssertEqual(optimizer.momentum, 0.8)
        XCTAssertEqual(optimizer.weightDecay, 0.001)
        XCTAssertEqual(optimizer.schedule, .step(every: .epochs(2), factor: 0.5))
        XCTAssertEqual(optimizer.warmup, .steps(3))
        XCTAssertEqual(optimizer.clipNorm, 1.5)
        XCTAssertTrue(optimizer.scalesLearningRate)
        XCTAssertTrue(optimizer.adaptsBiases)
        XCTAssertTrue(options.usesOptimizerSchedule)
        XCTAssertEqual(options.placement, .interleaved)
        for kind in OptimizerConfiguration.Kind.allCases {
            XCTAssertEqual(try TrainOptions.parse(["--optimizer", kind.rawValue]).optimizer?.kind, kind)
        }
        for placement in Placement.allCases {
            XCTAssertEqual(try TrainOptions.parse(["--numa=\(placement.rawValue)"]).placement, placement)
        }
        let plain = try TrainOptions.parse([])
        XCTAssertNil(plain.optimizer)
        XCTAssertNil(plain.placement)
        XCTAssertFalse(plain.usesOptimizerSchedule)
        XCTAssertTrue(TrainOptions.helpText.contains("--optimizer sgd|momentum|nesterov|adam|adamw|lars|lamb"))
        XCTAssertTrue(TrainOptions.helpText.contains("--numa automatic|interleaved|replicated|none"))
    }

    func testBadOptimizerAndPlacementValuesNameTheFlag() {
        let cases: [([String], String)] = [
            (["--optimizer", "rmsprop"], "--optimizer"), (["--momentum", "1.5"], "--momentum"),
            (["--weight-decay", "-1"], "--weight-decay"), (["--schedule", "linear"], "--schedule"),
            (["--warmup", "-3"], "--warmup"), (["--clip", "0"], "--clip"), (["--numa", "everywhere"], "--numa"),
            (["--scale-lr=yes"], "--scale-lr"), (["--optimizer"], "--optimizer"),
            (["--optimizer", "adam", "--momentum", "0.9"], "--momentum"),
            (["--optimizer", "sgd", "--adapt-biases"], "--adapt-biases"),
            (["--clip", "1", "--clip", "2"], "--clip"),
            (["--lr-schedule", "cosine", "--schedule", "cosine"], "--lr-schedule"),
        ]
        for (arguments, flag) in cases {
            guard let error = parseError(arguments) else { continue }
            XCTAssertEqual(error.exitStatus, 2, "\(arguments)")
            XCTAssertTrue(error.description.contains(flag), "\(arguments): \(error)")
        }
        XCTAssertEqual(parseError(["--schedule", "cosine", "--lr-schedule", "constant"]),
                       .conflictingFlags("--lr-schedule", "--schedule"))
    }

    func testUsageErrorsOfOptimizerFlagsExit2WithOneLine() throws {
        try writeSyntheticIDX()
        // 3 epochs of 12 steps leave nothing after a 40-step warm-up for the cosine schedule.
        for arguments in [["--numa", "x"], ["--optimizer", "adagrad"],
                          tiny(lr: "0.01", ["--epochs", "3", "--schedule", "cosine", "--warmup", "40"])] {
            let result = run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error.filter { $0 == "\n" }.count, 1, result.error)
            let flag = arguments.contains("--warmup") ? "--warmup" : arguments[0]
            XCTAssertTrue(result.error.contains(flag), result.error)
        }
    }

    func testAdamTrainsAndLowersTheLoss() throws {
        try writeSyntheticIDX()
        let result = run(tiny(lr: "0.03", ["--optimizer", "adam", "--epochs", "4", "--json"]))
        XCTAssertEqual(result.status, 0, result.error)
        let losses = try trainLosses(result)
        XCTAssertEqual(losses.count, 4)
        XCTAssertEqual(losses, losses.sorted(by: >), "the loss falls every epoch")
        XCTAssertLessThan(losses.last!, 0.5 * losses.first!, "\(losses)")
        // Not plain SGD under another name.
        let sgd = run(tiny(lr: "0.03", ["--epochs", "4", "--json"]))
        XCTAssertNotEqual(try trainLosses(sgd), losses)
    }

    func testLAMBWithWarmupAndCosineTrainsAndLowersTheLoss() throws {
        try writeSyntheticIDX()
        let save = path("lamb.safetensors")
        let result = run(tiny(lr: "0.02", ["--optimizer", "lamb", "--warmup", "2", "--schedule", "cosine",
                                           "--epochs", "4", "--json", "--save", save]))
        XCTAssertEqual(result.status, 0, result.error)
        let losses = try trainLosses(result)
        XCTAssertEqual(losses.count, 4)
        XCTAssertEqual(losses, losses.sorted(by: >), "the loss falls every epoch")
        XCTAssertLessThan(losses.last!, 0.5 * losses.first!, "\(losses)")
        let metadata = try metadata(save)
        XCTAssertEqual(metadata["optimizer"], "--optimizer lamb --schedule cosine --warmup 2")
        XCTAssertEqual(metadata["lr_schedule"], "constant", "the library schedule replaces --lr-schedule")
    }

    /// Stopped mid-epoch with `--optimizer momentum`, then resumed without optimizer flags:
    /// the checkpoint rebuilds the momentum optimizer, and its velocity continues, bitwise.
    func testResumeWithMomentumIsBitwiseIdentical() throws {
        try writeSyntheticIDX()
        let straight = path("straight.safetensors"), split = path("split.safetensors"), plain = path("plain.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--optimizer", "momentum", "--save", straight])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", plain])).status, 0)
        XCTAssertFalse(try sameTensors(straight, plain), "momentum must change the weights")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--steps", "17", "--optimizer", "momentum", "--save", split])).status, 0)
        XCTAssertEqual(try metadata(split)["step"], "17")
        XCTAssertEqual(try metadata(split)["optimizer"], "--optimizer momentum")
        let resumed = run(["--data", directory, "--resume", split, "--save", split, "--quiet", "--threads", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        try assertSameTensors(split, straight)
        // A different rule than the checkpoint's cannot continue its state.
        let other = run(["--data", directory, "--resume", split, "--optimizer", "adam", "--quiet"])
        XCTAssertEqual(other.status, 2)
        XCTAssertTrue(other.error.contains("--optimizer"), other.error)
    }

    /// Without optimizer flags nothing changes: no `optimizer` metadata, and `--optimizer sgd`
    /// (plain SGD, the same --lr-schedule) gives bitwise the same weights.
    func testExplicitSGDEqualsTheDefaultRun() throws {
        try writeSyntheticIDX()
        let a = path("default.safetensors"), b = path("sgd.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--save", a])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--optimizer", "sgd", "--save", b])).status, 0)
        XCTAssertNil(try metadata(a)["optimizer"])
        XCTAssertEqual(try metadata(b)["optimizer"], "")
        try assertSameTensors(a, b)
    }

    func testPlacementDoesNotChangeTheWeights() throws {
        try writeSyntheticIDX()
        let none = path("none.safetensors"), replicated = path("replicated.safetensors")
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--numa", "none", "--save", none])).status, 0)
        XCTAssertEqual(run(tinyRun(["--epochs", "2", "--numa", "replicated", "--save", replicated])).status, 0)
        try assertSameTensors(none, replicated)
    }

    func testPlacementReportIsPrintedOnceUnlessQuietOrJSON() throws {
        try writeSyntheticIDX()
        let base = ["--data", directory, "--layers", "\(CLITestCase.features),8,\(CLITestCase.classes)",
                    "--batch-size", "8", "--threads", "2", "--epochs", "1", "--numa", "none"]
        let loud = run(base)
        XCTAssertEqual(loud.status, 0, loud.error)
        XCTAssertEqual(loud.error.components(separatedBy: "NUMA placement: ").count - 1, 1, loud.error)
        XCTAssertTrue(loud.error.contains("NUMA placement: none (asked: none)"), loud.error)
        XCTAssertFalse(loud.output.contains("NUMA placement"), "the report goes to standard error")
        for flag in ["--quiet", "--json"] {
            let silent = run(base + [flag])
            XCTAssertEqual(silent.status, 0, silent.error)
            XCTAssertFalse(silent.error.contains("NUMA placement: "), "\(flag): \(silent.error)")
        }
    }
}
