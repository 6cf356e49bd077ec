import Backprop
@testable import BackpropCLI
import XCTest

/// `mlp-train`'s argument parsing: every flag, and every usage error with its message.
final class CLIOptionsTests: XCTestCase {
    private func parse(_ arguments: [String]) throws -> TrainOptions {
        try TrainOptions.parse(arguments)
    }


    func testNoArgumentsGiveTheDefaults() throws {
        let options = try parse([])
        XCTAssertEqual(options.data, .mnistDirectory("/usr/share/datasets/fashion-mnist"))
        XCTAssertEqual(options.data, .mnistDirectory(MNISTDirectory.fashionMNISTDefault))
        XCTAssertNil(options.layers)
        XCTAssertNil(options.epochs)
        XCTAssertNil(options.threads)
        XCTAssertNil(options.savePath)
        XCTAssertFalse(options.json)
        XCTAssertFalse(options.quiet)
        XCTAssertFalse(options.help)
    }

    func testEveryHyperparameterFlag() throws {
        let options = try parse([
            "--layers", "784,64,10", "--activation", "tanh", "--loss", "mse", "--epochs", "3",
            "--batch-size", "17", "--lr", "0.25", "--lr-schedule", "constant", "--threads", "2", "--seed", "18446744073709551615",
            "--steps", "9", "--no-shuffle", "--validation", "0.2", "--init", "w.safetensors",
            "--save", "out.safetensors", "--predictions-out", "p.npy", "--json", "--quiet",
        ])
        XCTAssertEqual(options.layers, [784, 64, 10])
        XCTAssertEqual(options.activation, .tanh)
        XCTAssertEqual(options.loss, .meanSquaredError)
        XCTAssertEqual(options.epochs, 3)
        XCTAssertEqual(options.batchSize, 17)
        XCTAssertEqual(options.learningRate, 0.25)
        XCTAssertEqual(options.schedule, .constant)
        XCTAssertEqual(options.threads, 2)
        XCTAssertEqual(options.seed, UInt64.max)
        XCTAssertEqual(options.maxSteps, 9)
        XCTAssertEqual(options.shuffle, false)
        XCTAssertEqual(options.validationFraction, 0.2)
        XCTAssertEqual(options.initPath, "w.safetensors")
        XCTAssertEqual(options.savePath, "out.safetensors")
        XCTAssertEqual(options.predictionsPath, "p.npy")
        XCTAssertTrue(options.json)
        XCTAssertTrue(options.quiet)
        XCTAssertNil(options.resumePath)
    }

    func testValuesAfterEqualsSign() throws {
        let options = try parse(["--epochs=4", "--lr=1e-3", "--resume=r.safetensors", "--activation=gelu"])
        XCTAssertEqual(options.epochs, 4)
        XCTAssertEqual(options.learningRate, 1e-3)
        XCTAssertEqual(options.resumePath, "r.safetensors")
        XCTAssertEqual(options.activation, .gelu)
    }

    func testActivationAndLossNames() throws {
        let activations: [(String, Activation)] = [("relu", .relu), ("leaky_relu", .leakyReLU), ("tanh", .tanh),
                                                   ("sigmoid", .sigmoid), ("gelu", .gelu), ("identity", .identity)]
        for (name, activation) in activations {
            XCTAssertEqual(try parse(["--activation", name]).activation, activation, name)
            XCTAssertEqual(Activation(name: name), activation)
        }
        XCTAssertEqual(try parse(["--loss", "cross_entropy"]).loss, .softmaxCrossEntropy)
        XCTAssertEqual(try parse(["--loss", "mse"]).loss, .meanSquaredError)
    }

    func testDataSources() throws {
        XCTAssertEqual(try parse(["--data", "/d"]).data, .mnistDirectory("/d"))
        XCTAssertEqual(try parse(["--train-images", "a", "--train-labels", "b"]).data,
                       .idx(trainImages: "a", trainLabels: "b", testImages: nil, testLabels: nil))
        XCTAssertEqual(try parse(["--train-images", "a", "--train-labels", "b", "--test-images", "c", "--test-labels", "d"]).data,
                       .idx(trainImages: "a", trainLabels: "b", testImages: "c", testLabels: "d"))
        XCTAssertEqual(try parse(["--train-npy", "x.npy,y.npy", "--test-npy", "tx.npy,ty.npy"]).data,
                       .npy(trainFeatures: "x.npy", trainLabels: "y.npy", testFeatures: "tx.npy", testLabels: "ty.npy"))
        XCTAssertEqual(try parse(["--train-npy", "x.npy,y.npy"]).data,
                       .npy(trainFeatures: "x.npy", trainLabels: "y.npy", testFeatures: nil, testLabels: nil))
        XCTAssertEqual(try parse(["--train-csv", "t.csv", "--test-csv", "v.csv", "--label-column", "-1"]).data,
                       .csv(train: "t.csv", test: "v.csv", labelColumn: -1))
        XCTAssertEqual(try parse(["--train-csv", "t.csv"]).data, .csv(train: "t.csv", test: nil, labelColumn: -1))
    }

    func testHelp() throws {
        XCTAssertTrue(try parse(["--help"]).help)
        XCTAssertTrue(try parse(["-h"]).help)
        // --help wins over a later inconsistency, as users expect.
        XCTAssertTrue(try parse(["--help", "--data", "a", "--train-csv", "b"]).help)
        for spec in TrainOptions.flags {
            XCTAssertTrue(TrainOptions.helpText.contains(spec.names[0]), "help lacks \(spec.names[0])")
        }
    }

    func testUnknownFlag() {
        let error = parseError(["--epochs", "2", "--learning-rate", "0.1"])
        XCTAssertEqual(error, .unknownFlag("--learning-rate"))
        XCTAssertEqual(error?.description, "unknown option '--learning-rate'")
        XCTAssertEqual(error?.exitStatus, 2)
        XCTAssertEqual(parseError(["extra"]), .unknownFlag("extra"))
    }

    func testMissingValues() {
        for flag in TrainOptions.flags where flag.valueName != nil {
            let name = flag.names[0]
            XCTAssertEqual(parseError([name]), .missingValue(flag: name), name)
            XCTAssertEqual(parseError([name, "--json"]), .missingValue(flag: name), name)
            XCTAssertEqual(parseError([name + "="]), .missingValue(flag: name), name)
        }
        XCTAssertEqual(parseError(["--epochs"])?.description, "option --epochs needs a value")
    }

    func testBadNumbers() {
        let cases: [([String], String)] = [
            (["--epochs", "two"], "option --epochs: 'two' is not a positive integer"),
            (["--epochs", "0"], "option --epochs: '0' is not a positive integer"),
            (["--batch-size", "-3"], "option --batch-size: '-3' is not a positive integer"),
            (["--threads", "1.5"], "option --threads: '1.5' is not a positive integer"),
            (["--steps", ""], "option --steps needs a value"),
            (["--lr", "fast"], "option --lr: 'fast' is not a positive finite number"),
            (["--lr", "0"], "option --lr: '0' is not a positive finite number"),
            (["--lr", "inf"], "option --lr: 'inf' is not a positive finite number"),
            (["--lr", "nan"], "option --lr: 'nan' is not a positive finite number"),
            (["--lr-schedule", "step"], "option --lr-schedule: 'step' is not a schedule: cosine or constant"),
            (["--seed", "-1"], "option --seed: '-1' is not a non-negative integer below 2^64"),
            (["--seed", "18446744073709551616"], "option --seed: '18446744073709551616' is not a non-negative integer below 2^64"),
            (["--validation", "1"], "option --validation: '1' is not a fraction between 0 and 1 (exclusive)"),
            (["--validation", "0"], "option --validation: '0' is not a fraction between 0 and 1 (exclusive)"),
            (["--validation", "x"], "option --validation: 'x' is not a fraction between 0 and 1 (exclusive)"),
            (["--layers", "784"], "option --layers: '784' is not at least two widths (inputs and outputs), such as 784,256,128,10"),
            (["--layers", "784,0,10"], "option --layers: '784,0,10' is not a comma-separated list of positive layer widths such as 784,256,128,10"),
            (["--layers", "784,,10"], "option --layers: '784,,10' is not a comma-separated list of positive layer widths such as 784,256,128,10"),
            (["--layers", "a,b"], "option --layers: 'a,b' is not a comma-separated list of positive layer widths such as 784,256,128,10"),
            (["--activation", "swish"], "option --activation: 'swish' is not an activation (identity, relu, leaky_relu[:slope], tanh, sigmoid, gelu)"),
            (["--loss", "hinge"], "option --loss: 'hinge' is not a loss: cross_entropy or mse"),
            (["--train-npy", "x.npy"], "option --train-npy: 'x.npy' is not two paths FEATURES.npy,LABELS.npy separated by a comma"),
            (["--test-npy", "a,b,c"], "option --test-npy: 'a,b,c' is not two paths FEATURES.npy,LABELS.npy separated by a comma"),
            (["--train-csv", "t.csv", "--label-column", "first"], "option --label-column: 'first' is not an integer column index (0 is the first, -1 the last)"),
        ]
        for (arguments, message) in cases {
            let error = parseError(arguments)
            XCTAssertEqual(error?.description, message, "\(arguments)")
            XCTAssertEqual(error?.exitStatus, 2, "\(arguments)")
        }
    }

    func testSwitchesTakeNoValue() {
        XCTAssertEqual(parseError(["--json=yes"]), .unexpectedValue(flag: "--json", value: "yes"))
        XCTAssertEqual(parseError(["--json=yes"])?.description, "option --json takes no value, got 'yes'")
    }

    func testRepeatedFlag() {
        XCTAssertEqual(parseError(["--epochs", "1", "--epochs=2"]), .repeatedFlag("--epochs"))
        XCTAssertEqual(parseError(["--epochs", "1", "--epochs=2"])?.description, "option --epochs is given more than once")
    }

    func testConflictsAndIncompleteSources() {
        let cases: [([String], CLIError, String)] = [
            (["--data", "d", "--train-csv", "t"], .conflictingFlags("--data", "--train-csv"),
             "options --data and --train-csv cannot be used together"),
            (["--train-images", "a", "--train-labels", "b", "--train-npy", "x,y"], .conflictingFlags("--train-images", "--train-npy"),
             "options --train-images and --train-npy cannot be used together"),
            (["--data", "d", "--test-images", "t"], .conflictingFlags("--data", "--test-images"),
             "options --data and --test-images cannot be used together"),
            (["--test-csv", "t", "--test-npy", "a,b"], .conflictingFlags("--test-npy", "--test-csv"),
             "options --test-npy and --test-csv cannot be used together"),
            (["--train-images", "a"], .missingFlag(flag: "--train-images", requires: "--train-labels"),
             "option --train-images needs --train-labels"),
            (["--train-labels", "a"], .missingFlag(flag: "--train-labels", requires: "--train-images"),
             "option --train-labels needs --train-images"),
            (["--train-images", "a", "--train-labels", "b", "--test-images", "c"],
             .missingFlag(flag: "--test-images", requires: "--test-labels"), "option --test-images needs --test-labels"),
            (["--train-images", "a", "--train-labels", "b", "--test-labels", "c"],
             .missingFlag(flag: "--test-labels", requires: "--test-images"), "option --test-labels needs --test-images"),
            (["--test-npy", "a,b"], .missingFlag(flag: "--test-npy", requires: "--train-npy"), "option --test-npy needs --train-npy"),
            (["--test-csv", "a"], .missingFlag(flag: "--test-csv", requires: "--train-csv"), "option --test-csv needs --train-csv"),
            (["--label-column", "3"], .missingFlag(flag: "--label-column", requires: "--train-csv"),
             "option --label-column needs --train-csv"),
            (["--init", "a", "--resume", "b"], .conflictingFlags("--init", "--resume"),
             "options --init and --resume cannot be used together"),
        ]
        for (arguments, expected, message) in cases {
            let error = parseError(arguments)
            XCTAssertEqual(error, expected, "\(arguments)")
            XCTAssertEqual(error?.description, message, "\(arguments)")
            XCTAssertEqual(error?.exitStatus, 2, "\(arguments)")
        }
    }

    func testExitStatusOfEachErrorKind() {
        XCTAssertEqual(CLIError.mismatch(flag: "--layers", message: "m").exitStatus, 2)
        XCTAssertEqual(CLIError.unreadableFile(path: "p", message: "m").exitStatus, 1)
        XCTAssertEqual(CLIError.unwritableFile(path: "p", flag: "--save", message: "m").exitStatus, 1)
        XCTAssertEqual(CLIError.nonFiniteLoss(step: 3, checkpoint: nil).exitStatus, 1)
        XCTAssertEqual(CLIError.runtime("m").exitStatus, 1)
        XCTAssertEqual(CLIError.nonFiniteLoss(step: 3, checkpoint: "c.safetensors").description,
                       "the loss became NaN or infinite at step 3; training stopped, the last good checkpoint is c.safetensors (try a smaller --lr)")
    }

    func testEveryErrorMessageIsOneLine() {
        let errors: [CLIError] = [
            .unknownFlag("--x"), .missingValue(flag: "--x"), .invalidValue(flag: "--x", value: "v", expected: "e"),
            .unexpectedValue(flag: "--x", value: "v"), .repeatedFlag("--x"), .conflictingFlags("--a", "--b"),
            .missingFlag(flag: "--a", requires: "--b"), .mismatch(flag: "--x", message: "m"),
            .unreadableFile(path: "p", message: "m"), .unwritableFile(path: "p", flag: "--save", message: "m"),
            .nonFiniteLoss(step: 1, checkpoint: nil), .runtime("m"),
        ]
        for error in errors {
            XCTAssertFalse(error.description.contains("\n"), "\(error)")
            XCTAssertFalse(error.description.isEmpty)
        }
    }
}
