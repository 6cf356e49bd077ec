import Backprop

/// The training loop of `mlp-train`: epochs of shuffled mini-batches through a `Trainer`,
/// an evaluation at each epoch end, checkpoints, and the stops (step limit, signal, NaN).
///
/// Each epoch draws its order from an `EpochShuffler` (or keeps file order without shuffling),
/// then trains on consecutive batches of `batchSize` samples of that order, gathered into
/// preallocated buffers. The epoch's last batch holds the `count % batchSize` samples that
/// remain, when there are any: every sample is trained on once per epoch (PyTorch's
/// `DataLoader` with `drop_last=False`).
final class TrainingSession {
    /// How `run()` ended.
    enum Outcome: Equatable {
        /// All epochs are done.
        case finished
        /// The trainer reached `--steps`; `position` is where it stopped.
        case reachedStepLimit
        /// A signal arrived; the run stopped between two steps.
        case interrupted(signal: Int32)
    }

    let configuration: TrainConfiguration
    let trainer: Trainer
    let train: Dataset
    let test: Dataset?
    let validation: Dataset?
    let maxSteps: Int?
    let reporter: ProgressReporter
    let interrupts: InterruptMonitor?
    /// `--save-every`: also save after every this many optimizer steps (by `trainer.stepCount`).
    let saveEvery: Int?
    /// Saves a checkpoint of the trainer at a position; called at epoch ends, every `saveEvery` steps and at stops.
    let save: (TrainPosition) throws(CLIError) -> Void
    /// Where the run stands; advanced by `run()`.
    private(set) var position: TrainPosition

    init(configuration: TrainConfiguration, trainer: Trainer, train: Dataset, test: Dataset?,
         validation: Dataset?, start: TrainPosition, maxSteps: Int?, reporter: ProgressReporter,
         interrupts: InterruptMonitor?, saveEvery: Int? = nil,
         save: @escaping (TrainPosition) throws(CLIError) -> Void) {
        self.configuration = configuration
        self.trainer = trainer
        self.train = train
        self.test = test
        self.validation = validation
        self.position = start
        self.maxSteps = maxSteps
        self.reporter = reporter
        self.interrupts = interrupts
        self.saveEvery = saveEvery
        self.save = save
    }

    /// Trains from `position` until the last epoch ends, the step limit is reached, or a signal
    /// arrives; saves a checkpoint at each epoch end, after every `saveEvery` steps, and where it stops.
    /// - Throws: `CLIError.nonFiniteLoss` naming the step when the loss becomes NaN or infinite
    ///   (nothing is saved after it), and any error of `save`.
    func run() throws(CLIError) -> Outcome {
        let count = train.count
        let batchSize = min(configuration.batchSize, count)
        let targetColumns: Int? = configuration.loss == .meanSquaredError ? configuration.layers.last! : nil
        var full = BatchBuffer(rows: batchSize, featureCount: train.featureCount, targetColumns: targetColumns)
        let remainder = count % batchSize
        var tail = remainder > 0
            ? BatchBuffer(rows: remainder, featureCount: train.featureCount, targetColumns: targetColumns) : nil
        var order = [Int](0..<count)
        let clock = ContinuousClock()

        while position.epoch < configuration.epochs {
            // The order of this epoch, from the shuffler state saved at its start.
            var shuffler = EpochShuffler(count: count, seed: position.shuffleState)
            if configuration.shuffle { shuffler.nextEpoch(into: &order) }
            let nextEpochState = configuration.shuffle ? shuffler.state : position.shuffleState

            let epochNumber = position.epoch + 1
            let firstSample = position.sampleOffset
            reporter.beginEpoch(epochNumber, of: configuration.epochs, samples: count, alreadyDone: firstSample)
            let epochStart = clock.now
            var lossSum = 0.0
            var samplesTrained = 0

            while position.sampleOffset < count {
                if let outcome = try stopBeforeStep() { return outcome }
                let rows = min(batchSize, count - position.sampleOffset)
                let loss: Float
                if rows == batchSize {
                    loss = try step(&full, order: order)
                } else {
                    loss = try step(&tail!, order: order)
                }
                position.sampleOffset += rows
                samplesTrained += rows
                lossSum += Double(loss) * Double(rows)
                reporter.stepFinished(done: position.sampleOffset, loss: Float(lossSum / Double(samplesTrained)),
                                      step: trainer.stepCount)
                // --save-every: mid-epoch checkpoints (the epoch's last step saves at the epoch end below).
                if let saveEvery, trainer.stepCount % saveEvery == 0, position.sampleOffset < count {
                    try checkFinite()
                    try save(position)
                }
            }
            let trainSeconds = Self.seconds(clock.now - epochStart)
            position = TrainPosition(epoch: epochNumber, sampleOffset: 0, shuffleState: nextEpochState)
            let testScore = try score(test)
            let validationScore = try score(validation)
            try checkFinite()
            try save(position)
            let seconds = Self.seconds(clock.now - epochStart)
            reporter.endEpoch(EpochReport(
                epoch: epochNumber, totalEpochs: configuration.epochs, step: trainer.stepCount,
                trainLoss: samplesTrained > 0 ? Float(lossSum / Double(samplesTrained)) : nil,
                testLoss: testScore?.loss, testAccuracy: testScore?.accuracy,
                validationLoss: validationScore?.loss, validationAccuracy: validationScore?.accuracy,
                seconds: seconds, samplesPerSecond: trainSeconds > 0 ? Double(samplesTrained) / trainSeconds : 0))
        }
        return .finished
    }

    /// The stop due before the next step, if any, after saving the position.
    private func stopBeforeStep() throws(CLIError) -> Outcome? {
        if let signal = interrupts?.receivedSignal {
            try checkFinite()
            try save(position)
            return .interrupted(signal: signal)
        }
        if let maxSteps, trainer.stepCount >= maxSteps {
            try checkFinite()
            try save(position)
            return .reachedStepLimit
        }
        return nil
    }

    /// One optimizer step on the samples `order[position.sampleOffset ..< + batch.rows]`.
    private func step(_ batch: inout BatchBuffer, order: [Int]) throws(CLIError) -> Float {
        batch.gather(from: train, order: order, start: position.sampleOffset)
        do {
            let loss: Float
            if let targets = batch.targets {
                loss = try trainer.step(input: batch.input, targets: targets)
            } else {
                loss = try trainer.step(input: batch.input, labels: batch.labels)
            }
            guard loss.isFinite else { throw CLIError.nonFiniteLoss(step: trainer.stepCount, checkpoint: nil) }
            return loss
        } catch let error as BackpropError {
            if case .nonFiniteLoss = error { throw .nonFiniteLoss(step: trainer.stepCount + 1, checkpoint: nil) }
            throw .runtime("training step \(trainer.stepCount + 1) failed: \(error)")
        } catch let error as CLIError {
            throw error
        } catch {
            throw .runtime("training step \(trainer.stepCount + 1) failed: \(error)")
        }
    }

    /// Throws `nonFiniteLoss` when a weight or bias is NaN or infinite, so that no checkpoint
    /// ever holds them.
    private func checkFinite() throws(CLIError) {
        for layer in trainer.model.layers {
            let finite = layer.weight.withUnsafeBufferPointer { w in w.allSatisfy(\.isFinite) }
                && layer.bias.allSatisfy(\.isFinite)
            if !finite { throw .nonFiniteLoss(step: trainer.stepCount, checkpoint: nil) }
        }
    }

    private func score(_ data: Dataset?) throws(CLIError) -> Score? {
        guard let data, data.count > 0 else { return nil }
        do {
            return try trainer.model.score(on: data, loss: configuration.loss)
        } catch {
            throw .runtime("evaluation failed: \(error)")
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
