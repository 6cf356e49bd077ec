@testable import Backprop
import Foundation
import XCTest

/// The soak: random configurations, trained step by step for a given time, every step checked
/// against the single-threaded path. Not part of the default run (`scripts/test` skips it);
/// `scripts/soak MINUTES [SEED]` runs it with `BACKPROP_SOAK_MINUTES` (and `BACKPROP_SOAK_SEED`)
/// set. Without `BACKPROP_SOAK_MINUTES` the test is skipped.
///
/// Each configuration draws, from one seeded `SplitMix64` (the seed is printed first, so that
/// a failure replays with `scripts/soak MINUTES SEED`): 1 to 4 layers of widths 1 to 97 (mostly odd),
/// hidden activations from every `Activation`, the loss (softmax cross-entropy, whose output is
/// linear, or MSE behind any output activation), 1 to 10 threads, the summation mode, the
/// executor, the packing (per worker, shared, automatic), and an optimizer (SGD plain and with
/// momentum or Nesterov, Adam, AdamW, LAMB, LARS, some with weight decay and clipping; now and
/// then a rate of 50 that blows up). It then trains 3 to 9 steps whose batch sizes include 1,
/// fewer samples than threads, exactly the thread count, and larger odd sizes.
///
/// Checked at every step, against a `Trainer` with 1 thread and the same mode and optimizer
/// (the single-threaded path) and against `MLP.lossAndGradients` on the model before the step:
/// - `.threadCountInvariant`: loss, every gradient, the weights after the update and the
///   optimizer state bitwise equal to the 1-thread trainer, step after step with no resync;
/// - `.perWorkerTree`: loss bitwise equal; each gradient `g` within `4 (B + 4) ε · Σ|gᵢ| / B`
///   of the 1-thread trainer's (`gᵢ` the per-sample gradients, `ε` = `Float.ulpOfOne`: the
///   error bound of two different summation orders); the weights after the update close to the
///   1-thread trainer's (beyond two ulps, within 1 % of the largest update for SGD and LARS, whose update is
///   linear in `g`; within the update's own size for the Adam family, whose `g/√v` amplifies
///   differences in gradients that are zero up to rounding); then the trainer is resynchronised
///   (`restore`) so that differences do not accumulate;
/// - both: the 1-thread trainer's loss and gradients within the same bound of
///   `MLP.lossAndGradients`'s (an independent implementation of backpropagation).
///
/// A configuration whose loss or gradients become NaN or infinite ends there, after checking
/// that both trainers refuse the same step and that this trainer's state is unchanged.
final class SoakTests: XCTestCase {
    private struct Configuration: CustomStringConvertible {
        var sizes: [Int]
        var activations: [Activation]
        var loss: Loss
        var threads: Int
        var reduction: TrainerOptions.Reduction
        var executor: TrainerOptions.Executor
        var packing: TrainerOptions.Packing
        var optimizerName: String
        var makeOptimizer: () throws -> any Optimizer
        var learningRate: Float
        var batches: [Int]
        var adaptive: Bool

        var description: String {
            "sizes \(sizes) activations \(activations.map(\.name)) loss \(loss.name) threads \(threads) "
                + "\(reduction) \(executor) packing \(packing) optimizer \(optimizerName) batches \(batches)"
        }
    }

    /// What the soak ran and the largest deviations it saw.
    private struct Summary {
        var configurations = 0
        var steps = 0
        var threads: [Int: Int] = [:]
        var batchesOfOne = 0
        var batchesBelowThreads = 0
        var batchSizes = Set<Int>()
        var optimizers: [String: Int] = [:]
        var activations = Set<String>()
        var losses: [String: Int] = [:]
        var reductions: [String: Int] = [:]
        var executors: [String: Int] = [:]
        var packings: [String: Int] = [:]
        var bitwiseSteps = 0
        /// Largest |g − g_ref| / bound over tree-mode steps (1.0 is the tolerance).
        var maxTreeGradient = 0.0
        /// Largest |Δw| / largest update in tree mode, linear optimizers.
        var maxTreeWeightLinear = 0.0
        /// Largest |Δw| / largest update in tree mode, Adam family.
        var maxTreeWeightAdaptive = 0.0
        /// Largest |g_trainer − g_MLP| / bound.
        var maxReferenceGradient = 0.0
        var largestParameterCount = 0
        /// Configurations ended by a non-finite loss or gradient (refused alike by both trainers).
        var diverged = 0
    }

    func testSoak() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let minutesText = environment["BACKPROP_SOAK_MINUTES"] else {
            throw XCTSkip("the soak runs only with BACKPROP_SOAK_MINUTES set (scripts/soak MINUTES [SEED])")
        }
        guard let minutes = Double(minutesText), minutes > 0, minutes.isFinite else {
            return XCTFail("BACKPROP_SOAK_MINUTES must be a positive number of minutes, got '\(minutesText)'")
        }
        let seed: UInt64
        if let seedText = environment["BACKPROP_SOAK_SEED"] {
            guard let value = UInt64(seedText) else {
                return XCTFail("BACKPROP_SOAK_SEED must be an unsigned 64-bit integer, got '\(seedText)'")
            }
            seed = value
        } else {
            seed = UInt64.random(in: 0...UInt64.max)
        }
        print("soak: seed \(seed), \(minutes) minutes (replay: scripts/soak \(minutesText) \(seed))")
        var generator = SplitMix64(seed: seed)
        var summary = Summary()
        let deadline = Date().addingTimeInterval(minutes * 60)
        while Date() < deadline {
            let configuration = try draw(&generator)
            let context = "soak seed \(seed), configuration \(summary.configurations + 1): \(configuration)"
            let ok: Bool
            do {
                ok = try run(configuration, generator: &generator, summary: &summary, context: context)
            } catch {
                XCTFail("\(context): \(error)")
                ok = false
            }
            summary.configurations += 1
            if !ok { break }
        }
        report(summary, seed: seed, minutes: minutes)
        XCTAssertGreaterThan(summary.steps, 0)
    }

    // MARK: - Drawing configurations

    private static let hiddenActivations: [Activation] = [
        .identity, .relu, .leakyReLU, .leakyReLU(negativeSlope: 0.2), .tanh, .sigmoid, .gelu,
    ]

    private func draw(_ g: inout SplitMix64) throws -> Configuration {
        func uniform(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(g.next() % UInt64(range.count))
        }
        func width() -> Int {
            // Mostly small odd widths, now and then wider than a GEMM tile or two.
            switch uniform(0...9) {
            case 0: return 1
            case 1...6: return uniform(1...33) | 1
            default: return uniform(34...97)
            }
        }
        let layers = uniform(1...4)
        let sizes = (0...layers).map { _ in width() }
        let loss: Loss = uniform(0...1) == 0 ? .softmaxCrossEntropy : .meanSquaredError
        var activations = (0..<layers).map { _ in Self.hiddenActivations[uniform(0...(Self.hiddenActivations.count - 1))] }
        if loss == .softmaxCrossEntropy { activations[layers - 1] = .identity }
        // Threads 1...10, biased towards 2...8.
        let threads = uniform(0...4) == 0 ? uniform(1...10) : uniform(2...8)
        let reduction = TrainerOptions.Reduction.allCases[uniform(0...1)]
        let executor = TrainerOptions.Executor.allCases[uniform(0...1)]
        let packing = TrainerOptions.Packing.allCases[uniform(0...2)]

        let optimizers: [(String, Float, Bool, () throws -> any Optimizer)] = [
            ("sgd", 0.05, false, { SGD(learningRate: 0.05) }),
            ("sgd-momentum", 0.03, false, { try SGD(learningRate: 0.03, momentum: 0.9, weightDecay: 1e-3) }),
            ("sgd-nesterov-clip", 0.03, false, {
                try SGD(learningRate: 0.03, momentum: 0.8, nesterov: true, clipping: GradientClipping(maxNorm: 0.5))
            }),
            ("adam", 1e-3, true, { try Adam(learningRate: 1e-3) }),
            ("adamw-clip", 1e-3, true, { try AdamW(learningRate: 1e-3, clipping: GradientClipping(maxNorm: 1)) }),
            ("lamb", 1e-3, true, { try LAMB(learningRate: 1e-3) }),
            ("lars", 0.1, false, { try LARS(learningRate: 0.1, momentum: 0.9) }),
        ]
        var (name, rate, adaptive, make) = optimizers[uniform(0...(optimizers.count - 1))]
        // Now and then, in the bitwise mode, a rate that makes training blow up: both trainers must
        // then refuse the same step. (Not in the tree mode, where a sum that barely overflows in
        // one order may not in another.)
        if reduction == .threadCountInvariant && uniform(0...9) == 0 {
            (name, rate, adaptive, make) = ("sgd-diverging", 50, false, { SGD(learningRate: 50) })
        }

        var batches: [Int] = []
        for _ in 0..<uniform(3...9) {
            switch uniform(0...5) {
            case 0: batches.append(1)
            case 1: batches.append(max(1, uniform(1...max(1, threads - 1))))  // fewer samples than threads
            case 2: batches.append(threads)
            case 3: batches.append(threads + uniform(1...threads))
            default: batches.append(uniform(1...130))
            }
        }
        return Configuration(sizes: sizes, activations: activations, loss: loss, threads: threads,
                             reduction: reduction, executor: executor, packing: packing, optimizerName: name,
                             makeOptimizer: make,
                             learningRate: rate, batches: batches, adaptive: adaptive)
    }

    // MARK: - Running one configuration

    /// The gradient of every tensor, in `TrainingState.optimizerState`'s order, as the trainer
    /// left it after its last step.
    private func gradients(_ trainer: Trainer) -> [[Float]] {
        let engine = trainer.engine
        return engine.layout.entries.map { entry in
            Array(UnsafeBufferPointer(start: engine.gradientBuffers[0] + entry.offset, count: entry.tensor.count))
        }
    }

    private func flat(_ gradients: [LayerGradients]) -> [[Float]] {
        gradients.flatMap { [$0.weight.values, $0.bias] }
    }

    private func parameters(_ model: MLP) -> [[Float]] {
        model.layers.flatMap { [$0.weight.values, $0.bias] }
    }

    /// Runs `configuration`; returns false after the first failed check (reported with `context`).
    private func run(_ c: Configuration, generator g: inout SplitMix64, summary: inout Summary,
                     context: String) throws -> Bool {
        let model = try MLP(sizes: c.sizes, activations: c.activations, seed: g.next())
        let options = TrainerOptions(reduction: c.reduction, executor: c.executor, packing: c.packing)
        let trainer = try Trainer(model: model, loss: c.loss, optimizer: try c.makeOptimizer(), threads: c.threads,
                                  options: options, placement: .none)
        let reference = try Trainer(model: model, loss: c.loss, optimizer: try c.makeOptimizer(), threads: 1,
                                    options: TrainerOptions(reduction: c.reduction), placement: .none)
        summary.largestParameterCount = max(summary.largestParameterCount, model.parameterCount)
        summary.threads[c.threads, default: 0] += 1
        summary.optimizers[c.optimizerName, default: 0] += 1
        summary.losses[c.loss.name, default: 0] += 1
        summary.reductions["\(c.reduction)", default: 0] += 1
        summary.executors["\(c.executor)", default: 0] += 1
        summary.packings["\(c.packing)", default: 0] += 1
        for activation in c.activations { summary.activations.insert(activation.name) }

        let inputs = c.sizes[0], outputs = c.sizes[c.sizes.count - 1]
        for (stepIndex, batch) in c.batches.enumerated() {
            let where_ = "\(context), step \(stepIndex + 1) (batch \(batch))"
            let x = TrainerFixture.matrix(rows: batch, columns: inputs, seed: g.next())
            let labels = TrainerFixture.labels(count: batch, classes: outputs, seed: g.next())
            let targets = TrainerFixture.matrix(rows: batch, columns: outputs, seed: g.next())
            let before = reference.model
            let weightsBefore = parameters(before)

            func step(_ t: Trainer) throws -> Float {
                c.loss == .softmaxCrossEntropy ? try t.step(input: x, labels: labels) : try t.step(input: x, targets: targets)
            }
            func modelGradients(_ input: Matrix, rows: Range<Int>) throws -> (Float, [[Float]]) {
                let result = c.loss == .softmaxCrossEntropy
                    ? try before.lossAndGradients(input: input, labels: Array(labels[rows]), loss: c.loss)
                    : try before.lossAndGradients(input: input, targets: try slice(targets, rows), loss: c.loss)
                return (result.loss, flat(result.gradients))
            }

            // A configuration that diverges ends here: both trainers must refuse the same step
            // and keep their state (the state is compared below only after successful steps).
            let referenceLoss: Float
            do {
                referenceLoss = try step(reference)
            } catch BackpropError.nonFiniteLoss(let failed) {
                let stateBefore = trainer.exportState()
                do {
                    _ = try step(trainer)
                    XCTFail("\(where_): the 1-thread trainer stopped on a non-finite loss or gradient, this one did not")
                    return false
                } catch BackpropError.nonFiniteLoss(let also) {
                    guard also == failed, trainer.exportState() == stateBefore else {
                        XCTFail("\(where_): non-finite step \(String(describing: also)) vs \(String(describing: failed)) with 1 thread, or the state changed")
                        return false
                    }
                }
                summary.diverged += 1
                return true
            }
            let loss = try step(trainer)
            let referenceGradients = gradients(reference)
            let trainerGradients = gradients(trainer)

            // The per-sample gradients bound the rounding of any summation order:
            // bound = Σ|gᵢ| / B per element.
            var bound = referenceGradients.map { [Double](repeating: 0, count: $0.count) }
            for i in 0..<batch {
                let (_, sample) = try modelGradients(try slice(x, i..<(i + 1)), rows: i..<(i + 1))
                for t in sample.indices { for e in sample[t].indices { bound[t][e] += Double(abs(sample[t][e])) / Double(batch) } }
            }
            let epsilon = Double(Float.ulpOfOne)
            let tolerance = 4 * Double(batch + 4) * epsilon
            func deviation(_ a: [[Float]], _ b: [[Float]]) -> Double {
                var worst = 0.0
                for t in a.indices {
                    for e in a[t].indices {
                        let d = abs(Double(a[t][e]) - Double(b[t][e]))
                        if d == 0 { continue }
                        worst = max(worst, d / (tolerance * bound[t][e] + Double(Float.leastNormalMagnitude)))
                    }
                }
                return worst
            }

            // Against the model's own single-threaded backpropagation.
            let (modelLoss, modelGradient) = try modelGradients(x, rows: 0..<batch)
            let lossScale = max(1, abs(Double(modelLoss)))
            guard abs(Double(referenceLoss) - Double(modelLoss)) <= 1e-5 * lossScale else {
                XCTFail("\(where_): 1-thread trainer loss \(referenceLoss) vs MLP.lossAndGradients \(modelLoss)")
                return false
            }
            let referenceDeviation = deviation(referenceGradients, modelGradient)
            summary.maxReferenceGradient = max(summary.maxReferenceGradient, referenceDeviation)
            guard referenceDeviation <= 1 else {
                XCTFail("\(where_): 1-thread trainer gradients off MLP.lossAndGradients by \(referenceDeviation) × the bound")
                return false
            }

            guard loss.bitPattern == referenceLoss.bitPattern else {
                XCTFail("\(where_): loss \(loss) with \(c.threads) threads, \(referenceLoss) with 1")
                return false
            }
            switch c.reduction {
            case .threadCountInvariant:
                let weights = parameters(trainer.model), referenceWeights = parameters(reference.model)
                let state = trainer.exportState().optimizerState, referenceState = reference.exportState().optimizerState
                guard trainerGradients.map({ $0.map(\.bitPattern) }) == referenceGradients.map({ $0.map(\.bitPattern) }) else {
                    XCTFail("\(where_): gradients differ from the 1-thread trainer's (\(deviation(trainerGradients, referenceGradients)) × bound)")
                    return false
                }
                guard weights.map({ $0.map(\.bitPattern) }) == referenceWeights.map({ $0.map(\.bitPattern) }) else {
                    XCTFail("\(where_): weights after the update differ from the 1-thread trainer's")
                    return false
                }
                guard state.map({ $0.map(\.bitPattern) }) == referenceState.map({ $0.map(\.bitPattern) }) else {
                    XCTFail("\(where_): optimizer state differs from the 1-thread trainer's")
                    return false
                }
                summary.bitwiseSteps += 1
            case .perWorkerTree:
                let gradientDeviation = deviation(trainerGradients, referenceGradients)
                summary.maxTreeGradient = max(summary.maxTreeGradient, gradientDeviation)
                guard gradientDeviation <= 1 else {
                    XCTFail("\(where_): gradients off the 1-thread trainer's by \(gradientDeviation) × the bound")
                    return false
                }
                let weights = parameters(trainer.model), referenceWeights = parameters(reference.model)
                // |Δw| beyond two ulps of the weight (the update's own rounding), over the largest update.
                var largestUpdate: Float = 0, largestDifference: Float = 0
                for t in weights.indices {
                    for e in weights[t].indices {
                        largestUpdate = max(largestUpdate, abs(referenceWeights[t][e] - weightsBefore[t][e]))
                        let rounding = 2 * max(referenceWeights[t][e].ulp, weightsBefore[t][e].ulp)
                        largestDifference = max(largestDifference, abs(weights[t][e] - referenceWeights[t][e]) - rounding)
                    }
                }
                let relative = largestDifference <= 0 ? 0 : Double(largestDifference) / Double(max(largestUpdate, .leastNormalMagnitude))
                if c.adaptive {
                    summary.maxTreeWeightAdaptive = max(summary.maxTreeWeightAdaptive, relative)
                } else {
                    summary.maxTreeWeightLinear = max(summary.maxTreeWeightLinear, relative)
                }
                guard relative <= (c.adaptive ? 2.001 : 0.01) else {
                    XCTFail("\(where_): weights off the 1-thread trainer's by \(relative) × the largest update")
                    return false
                }
                try trainer.restore(reference.exportState())
            }
            summary.steps += 1
            summary.batchSizes.insert(batch)
            if batch == 1 { summary.batchesOfOne += 1 }
            if batch < c.threads { summary.batchesBelowThreads += 1 }
        }
        return true
    }

    private func slice(_ m: Matrix, _ rows: Range<Int>) throws -> Matrix {
        try Matrix(rows: rows.count, columns: m.columns,
                   values: Array(m.values[(rows.lowerBound * m.columns)..<(rows.upperBound * m.columns)]))
    }

    private func report(_ s: Summary, seed: UInt64, minutes: Double) {
        func counts<K: Comparable>(_ d: [K: Int]) -> String {
            d.keys.sorted().map { "\($0):\(d[$0]!)" }.joined(separator: " ")
        }
        let lines = [
            "soak summary (seed \(seed), \(minutes) minutes):",
            "  \(s.configurations) configurations, \(s.steps) checked steps (\(s.bitwiseSteps) bitwise, thread-count-invariant); "
                + "\(s.diverged) configurations ended by a non-finite step, refused alike by both trainers",
            "  threads (configurations): \(counts(s.threads))",
            "  batches: \(s.batchSizes.count) distinct sizes \(s.batchSizes.min() ?? 0)...\(s.batchSizes.max() ?? 0), "
                + "\(s.batchesOfOne) of one sample, \(s.batchesBelowThreads) smaller than the thread count",
            "  optimizers: \(counts(s.optimizers))",
            "  losses: \(counts(s.losses)); reductions: \(counts(s.reductions)); executors: \(counts(s.executors)); "
                + "packings: \(counts(s.packings))",
            "  activations: \(s.activations.sorted().joined(separator: ", ")); largest model \(s.largestParameterCount) parameters",
            "  max deviation: tree-mode gradients \(String(format: "%.3g", s.maxTreeGradient)) × bound, "
                + "1-thread trainer vs MLP.lossAndGradients \(String(format: "%.3g", s.maxReferenceGradient)) × bound "
                + "(bound = 4(B+4)ε·Σ|gᵢ|/B; limit 1)",
            "  max deviation: tree-mode weights \(String(format: "%.3g", s.maxTreeWeightLinear)) × largest update (SGD, LARS; limit 0.01), "
                + "\(String(format: "%.3g", s.maxTreeWeightAdaptive)) (Adam family; limit 2)",
        ]
        print(lines.joined(separator: "\n"))
    }
}
