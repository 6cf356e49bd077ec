import Backprop
import Foundation

/// One invocation of `mlp-train` once its arguments are parsed: checks the output paths,
/// loads the checkpoint and the data, builds the trainer, runs the `TrainingSession`, and
/// reports how it ended.
struct TrainRun {
    let options: TrainOptions
    let arguments: [String]
    let console: Console
    let catchSignals: Bool
    let reporter: ProgressReporter

    init(options: TrainOptions, arguments: [String], console: Console, catchSignals: Bool) {
        self.options = options
        self.arguments = arguments
        self.console = console
        self.catchSignals = catchSignals
        self.reporter = ProgressReporter(console: console, json: options.json, quiet: options.quiet)
    }

    /// Runs the whole command; returns the exit status.
    func execute() throws(CLIError) -> Int32 {
        // Fail fast, before any loading or training, on outputs that cannot be written.
        if let save = options.savePath { try OutputFile.checkWritable(save, flag: "--save") }
        if let predictions = options.predictionsPath { try OutputFile.checkWritable(predictions, flag: "--predictions-out") }

        let resumed = try options.resumePath.map { path throws(CLIError) in try TrainCheckpoint.read(path) }
        let initial = try options.initPath.map { path throws(CLIError) in try TrainCheckpoint.readModel(path) }
        let data = try TrainData.load(options.data, validationFraction: options.validationFraction)
        let configuration = try resolveConfiguration(data: data, resumed: resumed, initial: initial)
        try check(data: data, fits: configuration)

        let threads = options.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let placement = options.placement ?? .automatic
        // Made once, before any training, so that an optimizer flag that does not fit the run (a
        // warm-up longer than a cosine schedule) fails fast; its schedule follows the trainer's steps.
        let totalSteps = configuration.epochs * configuration.stepsPerEpoch(samples: data.train.count)
        let firstOptimizer = try configuration.makeOptimizer(totalSteps: totalSteps, samples: data.train.count)
        let trainer: Trainer
        let start: TrainPosition
        do {
            if let resumed {
                trainer = try Trainer(model: resumed.state.model, loss: configuration.loss,
                                      optimizer: firstOptimizer, threads: threads, placement: placement)
                try trainer.restore(resumed.state)
                guard resumed.trainCount == data.train.count else {
                    throw CLIError.mismatch(flag: "--resume", message:
                        "the checkpoint \(options.resumePath!) was trained on \(resumed.trainCount) samples but \(data.trainName) gives \(data.train.count) (resume with the same data and --validation)")
                }
                start = resumed.position
            } else {
                var model: MLP
                if let initial {
                    model = initial.model
                    // An explicit --activation replaces the file's hidden activations.
                    if let activation = options.activation {
                        for l in model.layers.indices.dropLast() { model.layers[l].activation = activation }
                    }
                } else {
                    model = try MLP(sizes: configuration.layers, activations: configuration.activations, seed: configuration.seed)
                }
                trainer = try Trainer(model: model, loss: configuration.loss,
                                      optimizer: firstOptimizer, threads: threads, placement: placement)
                // The first epoch's order comes from the seed; the weights use the same seed's own stream.
                start = TrainPosition(epoch: 0, sampleOffset: 0, shuffleState: Self.shuffleSeed(configuration.seed))
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw .runtime("cannot set up training: \(error)")
        }

        announce(configuration, data: data, threads: threads, start: start, trainer: trainer)
        if !options.quiet && !options.json { console.writeError("\(trainer.placementReport)\n") }
        if start.epoch >= configuration.epochs {
            reporter.message("the checkpoint has completed all \(configuration.epochs) epochs: nothing to train "
                + "(give a larger --epochs to continue)")
        }
        let interrupts = catchSignals ? InterruptMonitor() : nil
        interrupts?.start()
        defer { interrupts?.stop() }

        let savePath = options.savePath
        var saved: String?
        let trainCount = data.train.count
        let session = TrainingSession(
            configuration: configuration, trainer: trainer, train: data.train, test: data.test,
            validation: data.validation, start: start, maxSteps: options.maxSteps, reporter: reporter,
            interrupts: interrupts, saveEvery: options.saveEvery,
            save: { position throws(CLIError) in
                guard let savePath else { return }
                try TrainCheckpoint(configuration: configuration, position: position, state: trainer.exportState(),
                                    trainCount: trainCount).write(to: savePath, flag: "--save")
                saved = savePath
            })

        let outcome: TrainingSession.Outcome
        do throws(CLIError) {
            outcome = try session.run()
        } catch {
            reporter.clearBar()
            if case .nonFiniteLoss(let step, _) = error { throw .nonFiniteLoss(step: step, checkpoint: saved) }
            throw error
        }

        switch outcome {
        case .finished:
            try writePredictions(trainer.model, data: data)
            if let saved { reporter.message("saved \(saved)") }
            return 0
        case .reachedStepLimit:
            reporter.message("stopped at step \(trainer.stepCount) (--steps), epoch \(session.position.epoch + 1) "
                + "after \(session.position.sampleOffset) of \(data.train.count) samples")
            try writePredictions(trainer.model, data: data)
            if let saved { reporter.message("saved \(saved); continue with --resume \(saved)") }
            return 0
        case .interrupted(let signal):
            reporter.clearBar()
            var path = saved
            if path == nil {
                path = TrainOptions.Defaults.interruptedCheckpoint
                try OutputFile.checkWritable(path!, flag: "(interrupted checkpoint)")
                try TrainCheckpoint(configuration: configuration, position: session.position,
                                    state: trainer.exportState(), trainCount: data.train.count)
                    .write(to: path!, flag: "(interrupted checkpoint)")
            }
            reporter.message("\(InterruptMonitor.name(of: signal)): stopped at step \(trainer.stepCount), "
                + "saved \(path!); continue with: mlp-train \(resumeArguments(path!))", important: true)
            return InterruptMonitor.exitStatus(for: signal)
        }
    }

    /// The shuffler seed of a run's first epoch: a fixed function of `--seed` that differs
    /// from the weights' stream (`MLP(seed:)` uses `SplitMix64(seed:)` directly).
    static func shuffleSeed(_ seed: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: seed ^ 0x5348_5546_464C_4531) // "SHUFFLE1"
        return generator.next()
    }

    /// Flags, checkpoint and defaults combined.
    private func resolveConfiguration(data: TrainData, resumed: TrainCheckpoint?,
                                      initial: TrainCheckpoint.Weights?) throws(CLIError) -> TrainConfiguration {
        let saved = resumed?.configuration
        let layers: [Int]
        if let saved {
            if let given = options.layers, given != saved.layers {
                throw .mismatch(flag: "--layers", message: "\(Self.list(given)) differs from the checkpoint \(options.resumePath!), which has \(Self.list(saved.layers))")
            }
            layers = saved.layers
        } else if let initial {
            let sizes = initial.model.sizes
            if let given = options.layers, given != sizes {
                throw .mismatch(flag: "--layers", message: "\(Self.list(given)) differs from the weights in \(options.initPath!), which have \(Self.list(sizes))")
            }
            layers = sizes
        } else {
            layers = options.layers ?? [data.train.featureCount] + TrainOptions.Defaults.hiddenLayers + [data.outputCount]
        }
        let activation = options.activation ?? saved?.activation ?? initial?.hiddenActivation ?? .relu
        if let saved, activation != saved.activation {
            throw .mismatch(flag: "--activation", message: "the checkpoint \(options.resumePath!) was trained with \(saved.activation.name)")
        }
        let loss = options.loss ?? saved?.loss ?? (data.train.labels == nil ? .meanSquaredError : .softmaxCrossEntropy)
        if let saved, loss != saved.loss {
            throw .mismatch(flag: "--loss", message: "the checkpoint \(options.resumePath!) was trained with \(saved.loss.name)")
        }
        if loss == .softmaxCrossEntropy, data.train.labels == nil {
            throw .mismatch(flag: "--loss", message: "cross_entropy needs integer class labels, but \(data.trainName) has float targets (use --loss mse)")
        }
        return TrainConfiguration(
            layers: layers, activation: activation, loss: loss,
            epochs: options.epochs ?? saved?.epochs ?? TrainOptions.Defaults.epochs,
            batchSize: options.batchSize ?? saved?.batchSize ?? TrainOptions.Defaults.batchSize,
            learningRate: options.learningRate ?? saved?.learningRate ?? TrainOptions.Defaults.learningRate,
            schedule: options.usesOptimizerSchedule ? .constant
                : options.schedule ?? saved?.schedule ?? TrainOptions.Defaults.schedule,
            seed: options.seed ?? saved?.seed ?? TrainOptions.Defaults.seed,
            shuffle: options.shuffle ?? saved?.shuffle ?? true,
            optimizer: try resolveOptimizer(saved: saved))
    }

    /// The optimizer flags given applied on top of the checkpoint's (a flag given replaces the
    /// checkpoint's value of it); `nil` for plain SGD.
    private func resolveOptimizer(saved: TrainConfiguration?) throws(CLIError) -> OptimizerConfiguration? {
        guard let savedOptimizer = saved?.optimizer else { return options.optimizer }
        let optimizer: OptimizerConfiguration
        do {
            optimizer = try OptimizerConfiguration(arguments: savedOptimizer.arguments + options.optimizerArguments)
        } catch {
            throw CLIError(error)
        }
        if optimizer.kind != savedOptimizer.kind {
            throw .mismatch(flag: "--optimizer", message: "\(optimizer.kind.rawValue) differs from the checkpoint \(options.resumePath!), which was trained with \(savedOptimizer.kind.rawValue)")
        }
        if options.schedule != nil, optimizer.arguments.contains("--schedule") {
            throw .conflictingFlags("--lr-schedule", "--schedule")
        }
        return optimizer
    }

    /// Checks that the layer widths fit the data: the first is the feature count, the last
    /// covers every class (or equals the target width).
    private func check(data: TrainData, fits configuration: TrainConfiguration) throws(CLIError) {
        let flag = options.layers != nil ? "--layers" : (options.resumePath != nil ? "--resume" : (options.initPath != nil ? "--init" : "--layers"))
        let first = configuration.layers[0], last = configuration.layers[configuration.layers.count - 1]
        if first != data.train.featureCount {
            throw .mismatch(flag: flag, message: "the first layer takes \(first) inputs but the samples in \(data.trainName) have \(data.train.featureCount) features")
        }
        if let targets = data.train.targets {
            if last != targets.columns {
                throw .mismatch(flag: flag, message: "the last layer has \(last) outputs but the targets in \(data.trainName) have \(targets.columns) columns")
            }
        } else if last < data.outputCount {
            throw .mismatch(flag: flag, message: "the last layer has \(last) outputs but the labels in \(data.trainName) need \(data.outputCount) classes (0..<\(data.outputCount))")
        }
    }

    private func announce(_ configuration: TrainConfiguration, data: TrainData, threads: Int,
                          start: TrainPosition, trainer: Trainer) {
        let samples = "\(data.train.count) training samples" + (data.validation.map { ", \($0.count) validation" } ?? "")
            + (data.test.map { ", \($0.count) test" } ?? ", no test set")
        reporter.message("mlp-train: \(Self.list(configuration.layers)) \(configuration.activation.name) MLP "
            + "(\(trainer.model.parameterCount) parameters), \(configuration.loss.name), \(samples); "
            + "\(configuration.epochs) epoch\(configuration.epochs == 1 ? "" : "s"), batch \(configuration.batchSize), "
            + "lr \(configuration.learningRate) \(configuration.schedule.rawValue), "
            + (configuration.optimizer.map { "optimizer \($0), " } ?? "")
            + "seed \(configuration.seed), \(threads) thread\(threads == 1 ? "" : "s")")
        if options.resumePath != nil {
            reporter.message("resuming at step \(trainer.stepCount): epoch \(start.epoch + 1), sample \(start.sampleOffset)")
        }
    }

    private func writePredictions(_ model: MLP, data: TrainData) throws(CLIError) {
        guard let path = options.predictionsPath else { return }
        guard let test = data.test ?? data.validation else {
            throw .missingFlag(flag: "--predictions-out", requires: "a test set (--test-images, --test-npy, --test-csv) or --validation")
        }
        let output: Matrix
        do { output = try model.predict(test.features) } catch { throw .runtime("predicting the test set failed: \(error)") }
        do {
            try NPY.write(output, to: path)
        } catch let error as DataError {
            throw .unwritableFile(path: path, flag: "--predictions-out", message: error.fault)
        } catch {
            throw .unwritableFile(path: path, flag: "--predictions-out", message: "\(error)")
        }
        reporter.message("wrote predictions (\(output.rows)×\(output.columns) float32) to \(path)")
    }

    /// The arguments that continue this run from `checkpoint`: the original ones without
    /// `--resume`, `--init` and their values, plus `--resume checkpoint`.
    private func resumeArguments(_ checkpoint: String) -> String {
        var kept: [String] = []
        var skipNext = false
        for argument in arguments {
            if skipNext { skipNext = false; continue }
            if argument == "--resume" || argument == "--init" { skipNext = true; continue }
            if argument.hasPrefix("--resume=") || argument.hasPrefix("--init=") { continue }
            kept.append(argument)
        }
        kept += ["--resume", checkpoint]
        return kept.map(Self.shellQuoted).joined(separator: " ")
    }

    static func shellQuoted(_ s: String) -> String {
        let safe = s.allSatisfy { $0.isLetter || $0.isNumber || "-_./,=:+".contains($0) }
        return safe && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func list(_ sizes: [Int]) -> String { sizes.map(String.init).joined(separator: ",") }
}
