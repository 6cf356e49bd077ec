import Backprop

/// The benchmark's stepper over the library's `Trainer`: an MLP of the configuration's sizes
/// (ReLU hidden layers, identity output), softmax cross-entropy, SGD, and one batch of
/// uniform random inputs in [−1, 1) with random labels, fixed for the whole run. The optimizer is
/// plain SGD (η = 0.01) unless `optimizer` gives the flags of another.
public final class BenchTrainerStepper: BenchStepper {
    /// The trainer being benchmarked.
    public let trainer: Trainer
    let input: Matrix
    let labels: [Int]

    public init(configuration c: BenchConfiguration, threads: Int,
                reduction: TrainerOptions.Reduction = .threadCountInvariant, placement: Placement = .automatic,
                optimizer: OptimizerConfiguration? = nil, packing: TrainerOptions.Packing = .automatic,
                seed: UInt64 = 42) throws {
        let activations = Array(repeating: Activation.relu, count: c.sizes.count - 2) + [.identity]
        let model = try MLP(sizes: c.sizes, activations: activations, seed: seed)
        let rule: any Optimizer = try optimizer.map {
            try $0.make(learningRate: 0.01, batchSize: c.batch, stepsPerEpoch: 1,
                        totalSteps: max(c.warmup + c.steps, 1) * 1000)
        } ?? SGD(learningRate: 0.01)
        trainer = try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: rule,
                              threads: threads, options: TrainerOptions(reduction: reduction, packing: packing),
                              placement: placement)
        var rng = SplitMix64(seed: seed &+ 1)
        input = Matrix(rows: c.batch, columns: c.sizes[0]) { _, _ in rng.nextSignedUnitFloat() }
        let classes = UInt64(c.sizes[c.sizes.count - 1])
        labels = (0..<c.batch).map { _ in Int(rng.next() % classes) }
    }

    /// The stepper of `c` on `threads` threads with the trainer's default options.
    public static func make(_ c: BenchConfiguration, threads: Int) throws -> any BenchStepper {
        try BenchTrainerStepper(configuration: c, threads: threads)
    }

    /// Where the trainer placed its buffers.
    public var placementReport: PlacementReport { trainer.placementReport }

    public func step() throws {
        _ = try trainer.step(input: input, labels: labels)
    }

    public var lastPhaseTimings: PhaseTimings { trainer.lastStepTimings }
}
