import Backprop
import Foundation

/// The options of `mlp-train`, as parsed from its arguments by `TrainOptions.parse(_:)`.
///
/// Hyperparameters a checkpoint also records (`layers`, `activation`, `loss`, `epochs`,
/// `batchSize`, `learningRate`, `seed`, `shuffle`) are optional here: `nil` means "not given",
/// so that `--resume` can take them from the checkpoint and a fresh run from `Defaults`.
public struct TrainOptions: Equatable, Sendable {
    /// Where the training and test samples come from.
    public enum DataSource: Equatable, Sendable {
        /// A directory holding the four MNIST files (`train-images-idx3-ubyte[.gz]`, …).
        case mnistDirectory(String)
        /// Explicit IDX files; the test pair is optional (both or neither).
        case idx(trainImages: String, trainLabels: String, testImages: String?, testLabels: String?)
        /// NPY files: a 2-D (or N-D, flattened per sample) feature array and a 1-D integer label array.
        case npy(trainFeatures: String, trainLabels: String, testFeatures: String?, testLabels: String?)
        /// CSV files of numbers with one integer label column (`labelColumn`, 0-based; negative
        /// counts from the end, −1 is the last).
        case csv(train: String, test: String?, labelColumn: Int)
    }

    /// The values used when neither a flag nor a checkpoint gives one.
    public enum Defaults {
        /// The hidden layer widths between the data's feature count and its class count.
        public static let hiddenLayers = [256, 128]
        public static let epochs = 20
        public static let batchSize = 128
        public static let learningRate: Float = 0.3
        public static let schedule = LearningRateSchedule.cosine
        public static let seed: UInt64 = 1
        /// Where Ctrl-C / SIGTERM saves when there is no `--save`.
        public static let interruptedCheckpoint = "mlp-train-interrupted.safetensors"
    }

    public var data: DataSource = .mnistDirectory(TrainOptions.defaultDataDirectory)
    /// Fraction of the training set (its last samples) held out for validation, in (0, 1).
    public var validationFraction: Double?
    public var layers: [Int]?
    public var activation: Activation?
    public var loss: Loss?
    public var epochs: Int?
    public var batchSize: Int?
    public var learningRate: Float?
    public var schedule: LearningRateSchedule?
    /// Worker threads; `nil` means all cores.
    public var threads: Int?
    public var seed: UInt64?
    /// Stop once the trainer has made this many optimizer steps in all (counting resumed ones).
    public var maxSteps: Int?
    public var shuffle: Bool?
    public var initPath: String?
    public var savePath: String?
    /// `--save-every`: also write the `--save` checkpoint after every this many optimizer steps
    /// (counted over the whole run, resumed steps included), not only at epoch ends.
    public var saveEvery: Int?
    public var resumePath: String?
    /// Write the trained model's outputs on the test set (float32 NPY, samples × outputs) here.
    public var predictionsPath: String?
    /// The optimizer flags (`--optimizer`, `--momentum`, `--weight-decay`, `--schedule`,
    /// `--warmup`, `--clip`, `--scale-lr`, `--adapt-biases`); `nil` when none is given (plain
    /// SGD, or on `--resume` the checkpoint's optimizer).
    public var optimizer: OptimizerConfiguration?
    /// The optimizer flags as given, each as `--flag=value` (or `--flag` for a switch): on
    /// `--resume` they apply on top of the checkpoint's optimizer.
    public var optimizerArguments: [String] = []
    /// `--numa`: where the trainer puts threads and buffers; `nil` means `.automatic`.
    public var placement: Placement?
    /// Whether `--schedule` was given: the optimizer's schedule replaces `--lr-schedule`.
    public var usesOptimizerSchedule: Bool { optimizerArguments.contains { $0.hasPrefix("--schedule=") } }
    public var json = false
    public var quiet = false
    public var help = false

    public init() {}

    /// Debian's `dataset-fashion-mnist` directory.
    public static let defaultDataDirectory = "/usr/share/datasets/fashion-mnist"
}

extension TrainOptions {
    /// Parses `mlp-train`'s arguments (without the program name). Flags take their value as
    /// the next argument or after `=` (`--epochs 3`, `--epochs=3`).
    /// - Throws: `CLIError` (always a usage error, exit status 2) for an unknown flag, a
    ///   missing or malformed value, or flags that contradict each other.
    public static func parse(_ arguments: [String]) throws(CLIError) -> TrainOptions {
        var options = TrainOptions()
        var dataDirectory: String?
        var trainImages: String?, trainLabels: String?, testImages: String?, testLabels: String?
        var trainNPY: (String, String)?, testNPY: (String, String)?
        var trainCSV: String?, testCSV: String?, labelColumn: Int?
        var seen: [String: Int] = [:]

        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            var flag = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                flag = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if let takesValue = OptimizerConfiguration.takesValue(flag) {
                seen[flag, default: 0] += 1
                if seen[flag]! > 1 { throw .repeatedFlag(flag) }
                var value = inlineValue
                if takesValue && value == nil {
                    guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                        throw .missingValue(flag: flag)
                    }
                    value = arguments[index]
                    index += 1
                }
                var configuration = options.optimizer ?? OptimizerConfiguration()
                do {
                    try configuration.apply(flag: flag, value: value)
                } catch {
                    throw CLIError(error)
                }
                options.optimizer = configuration
                options.optimizerArguments.append(value.map { "\(flag)=\($0)" } ?? flag)
                continue
            }
            guard let spec = TrainOptions.flags.first(where: { $0.names.contains(flag) }) else {
                throw .unknownFlag(argument)
            }
            seen[spec.names[0], default: 0] += 1
            if seen[spec.names[0]]! > 1 { throw .repeatedFlag(spec.names[0]) }

            var value = ""
            if spec.valueName != nil {
                if let inline = inlineValue {
                    value = inline
                } else {
                    guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                        throw .missingValue(flag: spec.names[0])
                    }
                    value = arguments[index]
                    index += 1
                }
                if value.isEmpty { throw .missingValue(flag: spec.names[0]) }
            } else if inlineValue != nil {
                throw .unexpectedValue(flag: spec.names[0], value: inlineValue!)
            }

            let name = spec.names[0]
            switch name {
            case "--data": dataDirectory = value
            case "--train-images": trainImages = value
            case "--train-labels": trainLabels = value
            case "--test-images": testImages = value
            case "--test-labels": testLabels = value
            case "--train-npy": trainNPY = try pathPair(value, flag: name)
            case "--test-npy": testNPY = try pathPair(value, flag: name)
            case "--train-csv": trainCSV = value
            case "--test-csv": testCSV = value
            case "--label-column":
                guard let column = Int(value) else {
                    throw .invalidValue(flag: name, value: value, expected: "an integer column index (0 is the first, -1 the last)")
                }
                labelColumn = column
            case "--validation":
                guard let fraction = Double(value), fraction > 0, fraction < 1 else {
                    throw .invalidValue(flag: name, value: value, expected: "a fraction between 0 and 1 (exclusive)")
                }
                options.validationFraction = fraction
            case "--layers": options.layers = try layerSizes(value, flag: name)
            case "--activation": options.activation = try activation(value, flag: name)
            case "--loss": options.loss = try loss(value, flag: name)
            case "--epochs": options.epochs = try positiveInt(value, flag: name)
            case "--batch-size": options.batchSize = try positiveInt(value, flag: name)
            case "--threads": options.threads = try positiveInt(value, flag: name)
            case "--steps": options.maxSteps = try positiveInt(value, flag: name)
            case "--lr":
                guard let lr = Float(value), lr.isFinite, lr > 0 else {
                    throw .invalidValue(flag: name, value: value, expected: "a positive finite number")
                }
                options.learningRate = lr
            case "--lr-schedule":
                guard let schedule = LearningRateSchedule(rawValue: value) else {
                    throw .invalidValue(flag: name, value: value, expected: "a schedule: cosine or constant")
                }
                options.schedule = schedule
            case "--numa":
                do {
                    options.placement = try Placement.parse(value, flag: name)
                } catch {
                    throw .invalidValue(flag: name, value: value,
                                        expected: "a placement: \(Placement.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            case "--seed":
                guard let seed = UInt64(value) else {
                    throw .invalidValue(flag: name, value: value, expected: "a non-negative integer below 2^64")
                }
                options.seed = seed
            case "--no-shuffle": options.shuffle = false
            case "--init": options.initPath = value
            case "--save": options.savePath = value
            case "--save-every": options.saveEvery = try positiveInt(value, flag: name)
            case "--resume": options.resumePath = value
            case "--predictions-out": options.predictionsPath = value
            case "--json": options.json = true
            case "--quiet": options.quiet = true
            case "--help": options.help = true
            default: preconditionFailure("flag \(name) is in the table but not handled")
            }
        }
        if options.help { return options }

        // Exactly one data source.
        let idxGiven = [trainImages, trainLabels, testImages, testLabels].contains { $0 != nil }
        // Each kind of source, named by the first of its flags that was given.
        let sources = [("--data", dataDirectory != nil),
                       ("--train-images", trainImages != nil), ("--train-labels", trainLabels != nil),
                       ("--test-images", testImages != nil), ("--test-labels", testLabels != nil),
                       ("--train-npy", trainNPY != nil), ("--test-npy", testNPY != nil),
                       ("--train-csv", trainCSV != nil), ("--test-csv", testCSV != nil)]
            .filter(\.1).map(\.0)
            .reduce(into: [String]()) { kinds, flag in
                if !kinds.contains(where: { Self.sourceKind($0) == Self.sourceKind(flag) }) { kinds.append(flag) }
            }
        if sources.count > 1 { throw .conflictingFlags(sources[0], sources[1]) }
        if labelColumn != nil, trainCSV == nil { throw .missingFlag(flag: "--label-column", requires: "--train-csv") }

        if let directory = dataDirectory {
            options.data = .mnistDirectory(directory)
        } else if idxGiven {
            guard let images = trainImages else { throw .missingFlag(flag: idxFlag(trainLabels, testImages, testLabels), requires: "--train-images") }
            guard let labels = trainLabels else { throw .missingFlag(flag: "--train-images", requires: "--train-labels") }
            if testImages != nil, testLabels == nil { throw .missingFlag(flag: "--test-images", requires: "--test-labels") }
            if testLabels != nil, testImages == nil { throw .missingFlag(flag: "--test-labels", requires: "--test-images") }
            options.data = .idx(trainImages: images, trainLabels: labels, testImages: testImages, testLabels: testLabels)
        } else if trainNPY != nil || testNPY != nil {
            guard let train = trainNPY else { throw .missingFlag(flag: "--test-npy", requires: "--train-npy") }
            options.data = .npy(trainFeatures: train.0, trainLabels: train.1, testFeatures: testNPY?.0, testLabels: testNPY?.1)
        } else if trainCSV != nil || testCSV != nil {
            guard let train = trainCSV else { throw .missingFlag(flag: "--test-csv", requires: "--train-csv") }
            options.data = .csv(train: train, test: testCSV, labelColumn: labelColumn ?? -1)
        }

        if options.resumePath != nil, options.initPath != nil { throw .conflictingFlags("--init", "--resume") }
        if options.saveEvery != nil, options.savePath == nil { throw .missingFlag(flag: "--save-every", requires: "--save") }
        if seen["--schedule"] != nil, seen["--lr-schedule"] != nil { throw .conflictingFlags("--lr-schedule", "--schedule") }
        if let optimizer = options.optimizer {
            do { try optimizer.validate() } catch { throw CLIError(error) }
        }
        return options
    }

    private static func sourceKind(_ flag: String) -> String {
        if flag.hasSuffix("-npy") { return "npy" }
        if flag.hasSuffix("-csv") { return "csv" }
        return flag == "--data" ? "directory" : "idx"
    }

    private static func idxFlag(_ trainLabels: String?, _ testImages: String?, _ testLabels: String?) -> String {
        if trainLabels != nil { return "--train-labels" }
        if testImages != nil { return "--test-images" }
        return "--test-labels"
    }

    static func positiveInt(_ value: String, flag: String) throws(CLIError) -> Int {
        guard let n = Int(value), n > 0 else {
            throw .invalidValue(flag: flag, value: value, expected: "a positive integer")
        }
        return n
    }

    static func pathPair(_ value: String, flag: String) throws(CLIError) -> (String, String) {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .invalidValue(flag: flag, value: value, expected: "two paths FEATURES.npy,LABELS.npy separated by a comma")
        }
        return (String(parts[0]), String(parts[1]))
    }

    static func layerSizes(_ value: String, flag: String) throws(CLIError) -> [Int] {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        var sizes: [Int] = []
        for part in parts {
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw .invalidValue(flag: flag, value: value, expected: "a comma-separated list of positive layer widths such as 784,256,128,10")
            }
            sizes.append(n)
        }
        guard sizes.count >= 2 else {
            throw .invalidValue(flag: flag, value: value, expected: "at least two widths (inputs and outputs), such as 784,256,128,10")
        }
        return sizes
    }

    static func activation(_ value: String, flag: String) throws(CLIError) -> Activation {
        guard let activation = Activation(name: value) else {
            throw .invalidValue(flag: flag, value: value, expected: "an activation (\(Activation.nameSyntax))")
        }
        return activation
    }

    static func loss(_ value: String, flag: String) throws(CLIError) -> Loss {
        guard let loss = Loss(name: value) else {
            throw .invalidValue(flag: flag, value: value, expected: "a loss: cross_entropy or mse")
        }
        return loss
    }
}
