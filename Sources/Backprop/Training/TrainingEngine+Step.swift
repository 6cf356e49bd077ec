// A training step in order: growing buffers, sharding the batch, running the phases, checks.

extension TrainingEngine {
    // MARK: - Step

    /// One training step on a validated batch: `batchSize` rows at `input` (leading
    /// dimension: the input size) with `targets`. Returns the mean loss before the update.
    /// - Throws: `BackpropError.nonFiniteLoss(step: stepCount)` when the loss or a gradient is
    ///   not finite; the parameters and state are then untouched.
    func step(batchSize: Int, input: UnsafePointer<Float>, targets: LossTargets) throws -> Float {
        let start = monotonicSeconds()
        reserve(batchSize: batchSize)
        configureShards(batchSize: batchSize)
        self.input = input
        self.targets = targets

        phase = .shards
        executor.run(iterations: shardCount, self)
        let shardsEnd = monotonicSeconds()
        var forward = 0.0
        for p in 0..<shardCount { forward = max(forward, workers[p].forwardSeconds) }
        let meanLoss = Loss.mean(rowLoss, count: batchSize)
        guard meanLoss.isFinite else {
            timings = PhaseTimings(forward: forward, backward: shardsEnd - start - forward)
            throw BackpropError.nonFiniteLoss(step: stepCount)
        }

        normRequest = optimizer.requestedNorms
        var reductionSeconds = 0.0
        var gradientSeconds = 0.0
        switch reduction {
        case .threadCountInvariant:
            phase = .weightGradients
            executor.run(iterations: threads, self)
            gradientSeconds = monotonicSeconds() - shardsEnd
        case .perWorkerTree:
            tree = TreeReduction(bufferCount: shardCount)
            if tree.levelCount == 0 {
                phase = .finalize
                executor.run(iterations: threads, self)
            }
            for level in 0..<tree.levelCount {
                phase = .reduce(level: level)
                executor.run(iterations: threads, self)
            }
            reductionSeconds = monotonicSeconds() - shardsEnd
        }
        let gradientsEnd = monotonicSeconds()
        let backward = shardsEnd - start - forward + gradientSeconds
        var probe: Float = 0
        for p in 0..<threads { probe += taskProbes[p * Self.probeStride] }
        guard probe == 0 else {
            timings = PhaseTimings(forward: forward, backward: backward, reduction: reductionSeconds)
            throw BackpropError.nonFiniteLoss(step: stepCount)
        }

        if !normRequest.isEmpty { combineNorms() }
        optimizerStep = optimizer.prepare(step: stepCount + 1)
        phase = .update
        executor.run(iterations: threads, self)
        stepCount += 1
        timings = PhaseTimings(forward: forward, backward: backward, reduction: reductionSeconds,
                               update: monotonicSeconds() - gradientsEnd)
        return meanLoss
    }

    /// Grows the buffers for a batch of `batchSize` (outside the steady state).
    func reserve(batchSize: Int) {
        if batchSize > rowLossCapacity {
            freeFloats(rowLoss)
            rowLoss = allocateFloats(batchSize)
            rowLoss.initialize(repeating: 0, count: batchSize)
            rowLossCapacity = batchSize
        }
        var grow = false
        switch reduction {
        case .threadCountInvariant:
            if batchSize > batchCapacity {
                freeFloats(batchStorage)
                batchStorage = allocateFloats(BatchBuffers.floatCount(rows: batchSize, outputSizes: outputSizes))
                batchCapacity = batchSize
                touchBatchRows = true
                grow = true
            }
        case .perWorkerTree:
            let shards = min(threads, batchSize)
            workerRowsNeeded = (batchSize + shards - 1) / shards
            for p in 0..<shards where workers[p].capacityRows < workerRowsNeeded { grow = true }
        }
        guard grow else { return }
        configureShards(batchSize: batchSize)
        phase = .prepare
        executor.run(iterations: threads, self)
        touchBatchRows = false
    }

    /// Splits the batch into `min(threads, batchSize)` shards and points the workers' views.
    func configureShards(batchSize: Int) {
        self.batchSize = batchSize
        shardCount = min(threads, batchSize)
        for p in 0..<threads {
            let worker = workers[p]
            worker.rows = p < shardCount ? (batchSize * p / shardCount)..<(batchSize * (p + 1) / shardCount) : 0..<0
            guard !worker.rows.isEmpty else { continue }
            switch reduction {
            case .threadCountInvariant:
                BatchBuffers.setViews(of: worker, base: batchStorage!, capacityRows: batchCapacity,
                                      firstRow: worker.rows.lowerBound, outputSizes: outputSizes)
            case .perWorkerTree:
                break  // the worker points its views at its own storage in `runShard`
            }
        }
    }
}
