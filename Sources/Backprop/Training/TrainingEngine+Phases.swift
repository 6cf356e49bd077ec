// The body of every parallel loop (dispatch on the phase), buffer preparation, the update.

extension TrainingEngine {
    /// Runs iteration `index` of the current phase.
    func runIteration(_ index: Int) {
        switch phase {
        case .prepare: prepare(index)
        case .shards: runShard(index)
        case .weightGradients: computeWeightGradients(task: index)
        case .reduce(let level): reduce(level: level, task: index)
        case .finalize: finishRows(task: index)
        case .update: update(task: index)
        }
    }

    /// Worker `p` allocates (and first touches) what it owns; see `reserve(batchSize:)`.
    func prepare(_ p: Int) {
        let worker = workers[p]
        worker.prepare(workspaceCount: workspaceCount, gradientCount: reduction == .perWorkerTree ? layout.count : 0)
        switch reduction {
        case .threadCountInvariant:
            if touchGradient {
                let range = flatBoundaries[p]..<flatBoundaries[p + 1]
                (gradientBuffers[0] + range.lowerBound).initialize(repeating: 0, count: range.count)
            }
            if touchBatchRows && !worker.rows.isEmpty {
                for l in 0..<layerCount {
                    let n = worker.rows.count * outputSizes[l]
                    worker.preActivations[l]!.initialize(repeating: 0, count: n)
                    worker.activations[l]!.initialize(repeating: 0, count: n)
                    worker.deltas[l]!.initialize(repeating: 0, count: n)
                }
            }
        case .perWorkerTree:
            if !worker.rows.isEmpty { worker.reserveRows(workerRowsNeeded, outputSizes: outputSizes) }
        }
    }


    /// The optimizer on the chunks of task `p`: its global rows, one chunk per tensor.
    func update(task p: Int) {
        let optimizer = self.optimizer
        let step = optimizerStep
        var row = rowBoundaries[p]
        let end = rowBoundaries[p + 1]
        while row < end {
            let e = layout.entryIndex(containingRow: row)
            let entry = layout.entries[e]
            let segmentEnd = min(end, entry.firstRow + entry.tensor.rows)
            let columns = entry.tensor.columns
            let first = (row - entry.firstRow) * columns
            let elements = first..<((segmentEnd - entry.firstRow) * columns)
            optimizer.update(ParameterChunk(
                tensor: entry.tensor, elements: elements,
                parameters: parameters + entry.offset + first,
                gradients: gradientBuffers[0] + entry.offset + first,
                state: state + stateCount * entry.stateUnits + first, stateStride: entry.tensor.count,
                norms: norms[e]), step: step)
            row = segmentEnd
        }
    }
}
