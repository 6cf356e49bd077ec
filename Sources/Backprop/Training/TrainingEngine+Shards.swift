// Phase `.shards`: one worker's forward and backward pass over its rows.

extension TrainingEngine {
    /// The forward and backward pass of shard `p`.
    func runShard(_ p: Int) {
        let worker = workers[p]
        let rows = worker.rows.count
        guard rows > 0 else { return }
        if reduction == .perWorkerTree { worker.useOwnStorage(outputSizes: outputSizes) }
        let workspace = worker.workspace!
        let first = worker.rows.lowerBound
        let start = monotonicSeconds()

        // Forward: a(l) = h(l-1)·W(l)ᵀ + b(l), h(l) = f(a(l)).
        var h = UnsafePointer(input! + first * sizes[0])
        for l in 0..<layerCount {
            let weight = layout.entries[2 * l], bias = layout.entries[2 * l + 1]
            let a = worker.preActivations[l]!, out = worker.activations[l]!
            Kernels.gemm(GEMMProblem(
                m: rows, n: sizes[l + 1], k: sizes[l],
                a: GEMMOperand(h, leadingDimension: sizes[l]),
                b: GEMMOperand(parameters + weight.offset, leadingDimension: sizes[l], transposed: true),
                c: a, cLeadingDimension: sizes[l + 1],
                epilogue: .biasActivation(bias: parameters + bias.offset, activation: activations[l],
                                          output: out, outputLeadingDimension: sizes[l + 1])),
                workspace: workspace, isa: isa)
            h = UnsafePointer(out)
        }
        let last = layerCount - 1
        let shardTargets: LossTargets
        switch targets! {
        case .labels(let labels): shardTargets = .labels(labels + first)
        case .values(let y, let ld): shardTargets = .values(y + first * ld, leadingDimension: ld)
        }
        loss.outputDelta(rows: 0..<rows, columns: sizes[last + 1], batchSize: batchSize,
                         activation: activations[last], preActivation: worker.preActivations[last]!,
                         output: worker.activations[last]!, targets: shardTargets,
                         delta: worker.deltas[last]!, rowLoss: rowLoss + first)
        let forwardEnd = monotonicSeconds()

        // Backward: delta(l-1) = (delta(l)·W(l)) ⊙ f'(a(l-1)); per-worker mode also
        // dW(l) = delta(l)ᵀ·h(l-1) and db(l) = Σ delta(l) over the shard.
        for l in stride(from: last, through: 0, by: -1) {
            let delta = worker.deltas[l]!
            let weight = layout.entries[2 * l]
            if reduction == .perWorkerTree {
                let gradient = worker.gradient!
                let hPrevious = l == 0 ? input! + first * sizes[0] : UnsafePointer(worker.activations[l - 1]!)
                Kernels.gemm(GEMMProblem(
                    m: sizes[l + 1], n: sizes[l], k: rows,
                    a: GEMMOperand(delta, leadingDimension: sizes[l + 1], transposed: true),
                    b: GEMMOperand(hPrevious, leadingDimension: sizes[l]),
                    c: gradient + weight.offset, cLeadingDimension: sizes[l]),
                    workspace: workspace, isa: isa)
                Kernels.columnSums(rows: rows, columns: sizes[l + 1], x: delta, leadingDimension: sizes[l + 1],
                                   into: gradient + layout.entries[2 * l + 1].offset, accumulate: false, isa: isa)
            }
            if l > 0 {
                Kernels.gemm(GEMMProblem(
                    m: rows, n: sizes[l], k: sizes[l + 1],
                    a: GEMMOperand(delta, leadingDimension: sizes[l + 1]),
                    b: GEMMOperand(parameters + weight.offset, leadingDimension: sizes[l]),
                    c: worker.deltas[l - 1]!, cLeadingDimension: sizes[l],
                    epilogue: .activationDerivative(activation: activations[l - 1],
                                                    preActivation: worker.preActivations[l - 1]!,
                                                    activationValues: worker.activations[l - 1]!,
                                                    leadingDimension: sizes[l])),
                    workspace: workspace, isa: isa)
            }
        }
        worker.forwardSeconds = forwardEnd - start
        worker.backwardSeconds = monotonicSeconds() - forwardEnd
    }
}
