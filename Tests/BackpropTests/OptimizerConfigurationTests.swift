@testable import Backprop
import Foundation
import XCTest

/// The command-line flags of `OptimizerConfiguration`: parsing, typed errors naming the flag,
/// and the optimizers `make` builds.
final class OptimizerConfigurationTests: XCTestCase {
    private func parse(_ line: String) throws -> OptimizerConfiguration {
        try OptimizerConfiguration(arguments: line.split(separator: " ").map(String.init))
    }

    private func error(_ line: String) -> OptimizerConfigurationError? {
        do {
            _ = try parse(line)
            return nil
        } catch {
            return error as? OptimizerConfigurationError
        }
    }

    func testDefaultsArePlainSGD() throws {
        let configuration = OptimizerConfiguration()
        let optimizer = try configuration.make(learningRate: 0.05, batchSize: 32, stepsPerEpoch: 10, totalSteps: 100)
        let sgd = try XCTUnwrap(optimizer as? SGD)
        XCTAssertEqual(sgd.learningRate, 0.05)
        XCTAssertEqual(sgd.stateCountPerParameter, 0)
        XCTAssertEqual(sgd.requestedNorms, [])
        XCTAssertEqual(configuration.arguments, [])
        XCTAssertEqual(try parse(""), configuration)
    }

    func testEveryOptimizerKind() throws {
        let make = { (line: String) throws -> any Optimizer in
            try self.parse(line).make(learningRate: 0.1, batchSize: 64, stepsPerEpoch: 10, totalSteps: 100)
        }
        let momentum = try XCTUnwrap(try make("--optimizer momentum") as? SGD)
        XCTAssertEqual(momentum.momentum, 0.9)
        XCTAssertFalse(momentum.nesterov)
        let nesterov = try XCTUnwrap(try make("--optimizer nesterov --momentum 0.8 --weight-decay 1e-4") as? SGD)
        XCTAssertEqual(nesterov.momentum, 0.8)
        XCTAssertTrue(nesterov.nesterov)
        XCTAssertEqual(nesterov.weightDecay, 1e-4)
        XCTAssertEqual(nesterov.weightDecayMode, .l2)
        let sgdWithMomentum = try XCTUnwrap(try make("--optimizer sgd --momentum 0.5") as? SGD)
        XCTAssertEqual(sgdWithMomentum.momentum, 0.5)
        let adam = try XCTUnwrap(try make("--optimizer adam") as? Adam)
        XCTAssertEqual(adam.weightDecay, 0)
        XCTAssertEqual(adam.learningRate, 0.1)
        let adamw = try XCTUnwrap(try make("--optimizer AdamW") as? AdamW)
        XCTAssertEqual(adamw.weightDecay, 0.01)
        let lars = try XCTUnwrap(try make("--optimizer lars --momentum 0.95") as? LARS)
        XCTAssertEqual(lars.momentum, 0.95)
        XCTAssertEqual(lars.weightDecay, 0.0005)
        XCTAssertFalse(lars.adaptsBiases)
        let lamb = try XCTUnwrap(try make("--optimizer lamb --weight-decay 0") as? LAMB)
        XCTAssertEqual(lamb.weightDecay, 0)
        XCTAssertFalse(lamb.adaptsBiases)
        XCTAssertTrue(try XCTUnwrap(try make("--optimizer lamb --adapt-biases") as? LAMB).adaptsBiases)
        XCTAssertTrue(try XCTUnwrap(try make("--adapt-biases --optimizer lars") as? LARS).adaptsBiases)
    }

    func testScheduleWarmupClipAndScaling() throws {
        let c = try parse("--optimizer lars --schedule cosine:0.1 --warmup 2e --clip=1.5 --scale-lr")
        XCTAssertEqual(c.schedule, .cosine(floor: 0.1))
        XCTAssertEqual(c.warmup, .epochs(2))
        XCTAssertEqual(c.clipNorm, 1.5)
        XCTAssertTrue(c.scalesLearningRate)
        let lars = try XCTUnwrap(try c.make(learningRate: 0.1, batchSize: 4096, stepsPerEpoch: 15, totalSteps: 600) as? LARS)
        XCTAssertEqual(lars.learningRate, 1.6, accuracy: 1e-6)  // 0.1 · 4096/256
        XCTAssertEqual(lars.schedule, try LearningRateSchedule(decay: .cosine(totalSteps: 600, floor: 0.1), warmupSteps: 30))
        XCTAssertEqual(lars.clipping, try GradientClipping(maxNorm: 1.5))

        let step = try parse("--optimizer momentum --schedule step:3e:0.5 --warmup 100steps")
        let sgd = try XCTUnwrap(try step.make(learningRate: 0.1, batchSize: 256, stepsPerEpoch: 40, totalSteps: 400) as? SGD)
        XCTAssertEqual(sgd.schedule, try LearningRateSchedule(decay: .step(every: 120, factor: 0.5), warmupSteps: 100))
        XCTAssertEqual(sgd.learningRate, 0.1, "no --scale-lr: the rate is the tool's")
        XCTAssertEqual(try parse("--schedule step:25:0.1").schedule, .step(every: .steps(25), factor: 0.1))
        XCTAssertEqual(try parse("--schedule constant").schedule, .constant)
        XCTAssertEqual(try parse("--schedule cosine").schedule, .cosine(floor: 0))
        XCTAssertEqual(try parse("--warmup 0.5epochs").warmup, .epochs(0.5))
        XCTAssertEqual(try parse("--warmup 7").warmup, .steps(7))
    }

    func testArgumentsRoundTrip() throws {
        for line in ["--optimizer lars --momentum 0.95 --weight-decay 0.001 --schedule cosine:0.05 --warmup 5e --clip 2.0 --scale-lr",
                     "--optimizer lamb --adapt-biases",
                     "--optimizer adamw --schedule step:10e:0.1 --warmup 2.5e", "--optimizer nesterov --warmup 300",
                     "--schedule step:7:0.5"] {
            let c = try parse(line)
            XCTAssertEqual(try OptimizerConfiguration(arguments: c.arguments), c, line)
            let coded = try JSONDecoder().decode(OptimizerConfiguration.self, from: JSONEncoder().encode(c))
            XCTAssertEqual(coded, c, line)
        }
    }

    func testErrorsNameTheFlag() {
        XCTAssertEqual(error("--optimizer rmsprop")?.flag, "--optimizer")
        XCTAssertEqual(error("--momentum 1"), .invalidValue(flag: "--momentum", value: "1", expected: "a momentum in [0, 1)"))
        XCTAssertEqual(error("--momentum abc")?.flag, "--momentum")
        XCTAssertEqual(error("--weight-decay -0.1")?.flag, "--weight-decay")
        XCTAssertEqual(error("--schedule linear")?.flag, "--schedule")
        XCTAssertEqual(error("--schedule step:0:0.1")?.flag, "--schedule")
        XCTAssertEqual(error("--schedule step:10:0")?.flag, "--schedule")
        XCTAssertEqual(error("--schedule step:10")?.flag, "--schedule")
        XCTAssertEqual(error("--schedule cosine:2")?.flag, "--schedule")
        XCTAssertEqual(error("--schedule constant:1")?.flag, "--schedule")
        XCTAssertEqual(error("--warmup -5")?.flag, "--warmup")
        XCTAssertEqual(error("--warmup five")?.flag, "--warmup")
        XCTAssertEqual(error("--clip 0")?.flag, "--clip")
        XCTAssertEqual(error("--clip nan")?.flag, "--clip")
        XCTAssertEqual(error("--clip"), .missingValue(flag: "--clip"))
        XCTAssertEqual(error("--clip --scale-lr"), .missingValue(flag: "--clip"))
        XCTAssertEqual(error("--scale-lr=yes"), .unexpectedValue(flag: "--scale-lr", value: "yes"))
        XCTAssertEqual(error("--lr 0.1"), .unknownFlag("--lr"))
        XCTAssertEqual(error("--optimizer adam --momentum 0.9"), .conflictingFlags("--momentum", "--optimizer adam"))
        XCTAssertEqual(error("--optimizer nesterov --momentum 0")?.flag, "--momentum")
        XCTAssertEqual(error("--optimizer adamw --adapt-biases"), .conflictingFlags("--adapt-biases", "--optimizer adamw"))
        XCTAssertTrue(error("--optimizer adam --momentum 0.9")!.description.contains("--momentum"))
    }

    func testMakeRejectsARunShorterThanItsWarmup() throws {
        let c = try parse("--schedule cosine --warmup 10e")
        XCTAssertThrowsError(try c.make(learningRate: 0.1, batchSize: 8, stepsPerEpoch: 10, totalSteps: 100)) { error in
            XCTAssertEqual((error as? OptimizerConfigurationError)?.flag, "--warmup")
        }
        XCTAssertNoThrow(try c.make(learningRate: 0.1, batchSize: 8, stepsPerEpoch: 10, totalSteps: 101))
        let tiny = try parse("--schedule step:0.01e:0.5")
        XCTAssertThrowsError(try tiny.make(learningRate: 0.1, batchSize: 8, stepsPerEpoch: 10, totalSteps: 100)) { error in
            XCTAssertEqual((error as? OptimizerConfigurationError)?.flag, "--schedule")
        }
        XCTAssertThrowsError(try OptimizerConfiguration().make(learningRate: .nan, batchSize: 8, stepsPerEpoch: 1, totalSteps: 1)) {
            XCTAssertEqual(($0 as? OptimizerConfigurationError)?.flag, "--lr")
        }
    }

    func testAToolCanLoopOverItsArguments() throws {
        // How a tool with its own parser forwards the flags it does not know.
        let argv = ["--epochs", "3", "--optimizer", "lamb", "--scale-lr", "--warmup", "1e", "--lr", "0.01"]
        var configuration = OptimizerConfiguration()
        var rest: [String] = []
        var i = 0
        while i < argv.count {
            if let takesValue = OptimizerConfiguration.takesValue(argv[i]) {
                try configuration.apply(flag: argv[i], value: takesValue ? argv[i + 1] : nil)
                i += takesValue ? 2 : 1
            } else {
                rest.append(argv[i])
                i += 1
            }
        }
        XCTAssertEqual(rest, ["--epochs", "3", "--lr", "0.01"])
        XCTAssertEqual(configuration.kind, .lamb)
        XCTAssertEqual(configuration.description, "lamb weight decay 0.01, warm-up 1e, constant, scaled lr")
        XCTAssertTrue(OptimizerConfiguration.helpText.contains("--scale-lr"))
        XCTAssertEqual(OptimizerConfiguration.flags.count, 8)
    }
}
