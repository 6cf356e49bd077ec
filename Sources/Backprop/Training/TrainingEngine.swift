#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The machinery behind `Trainer`: flat parameter, gradient and state buffers, the workers,
/// and the phases of a step, each a parallel loop run by the executor.
///
/// A step (see `step(batchSize:input:targets:)`):
/// 0. `.packWeights` (`TrainerOptions.Packing.shared`, only while the packed weights are stale:
///    the first step, and after `load`): the tasks pack every `W(l)` once into the GEMM's panel
///    order for all workers' forward and propagation products (`SharedPanels`). Afterwards the
///    update phase repacks the rows of `W(l)` it has just written, while they are in cache.
/// 1. `.shards`: worker `p` runs the forward pass of its rows, the loss and `delta(L)`, and
///    propagates `delta` down to layer 1 (layer 0's input gradient is never needed); in
///    `.perWorkerTree` mode it also computes its shard's `dW`, `db`.
/// 2. `.packActivations` (shared activations, `sharesActivationPanels`): the tasks pack every
///    `h(l-1)` of the batch once for the weight gradients. Then `.weightGradients`: task `p`
///    computes a block of output rows (`WeightGradientSplit`) of every
///    `dW(l) = delta(l)ᵀ·h(l-1)` and `db(l)` over the whole batch; or `.reduce(level:)`
///    (`.perWorkerTree`): the levels of the tree reduction. The last of these phases also
///    checks that the gradients are finite and, when asked, sums the squares of every row.
/// 3. `.measure` (only for optimizers that request `.updates` norms): the optimizer's first
///    pass, which sums the squares of each row of its update direction.
/// 4. `.update`: the optimizer, parallel over chunks of whole rows (with shared packing, a
///    weight's rows in groups of `Kernels.tileColumns`, each repacked right after its update).
final class TrainingEngine: ParallelTask, @unchecked Sendable {
    enum Phase {
        case prepare
        case packWeights
        case shards
        case packActivations
        case weightGradients
        case reduce(level: Int)
        case finalize
        case measure
        case update
    }

    let layout: ParameterLayout
    /// Layer widths, input first.
    let sizes: [Int]
    /// `sizes.dropFirst()`.
    let outputSizes: [Int]
    let activations: [Activation]
    /// The layout of `a`, `h`, `delta` (which layers keep `a`).
    let batchBuffers: BatchBuffers
    let layerCount: Int
    let loss: Loss
    let threads: Int
    let reduction: TrainerOptions.Reduction
    let executor: ParallelExecutor
    let isa: InstructionSet
    let workspaceCount: Int
    let workers: [TrainingWorker]
    /// `threads + 1` global-row boundaries of the tasks of the reduction and update phases,
    /// and the matching flat offsets.
    let rowBoundaries: [Int]
    let flatBoundaries: [Int]
    /// The rows of each `dW(l)` each task computes (`.threadCountInvariant`).
    let gradientSplit: WeightGradientSplit

    /// NUMA placement: pinning, node-placed buffers, the reduction order.
    let placement: PlacementRuntime
    /// The parameters, in `layout` (the master copy the optimizer updates).
    let parameters: UnsafeMutablePointer<Float>
    /// `.replicated` placement: one copy of the parameters per node with workers, refreshed
    /// chunk by chunk in the update phase; empty otherwise.
    let replicas: [UnsafeMutablePointer<Float>]
    /// The parameters worker `p` reads: its node's replica, or `parameters`.
    let workerWeights: [UnsafeMutablePointer<Float>]
    /// Whether the workers read the weights packed once (`TrainerOptions.Packing`; kept
    /// current by the update phase).
    let sharesPacking: Bool
    /// Whether the weight-gradient tasks read the batch's activations packed once, in a phase
    /// of their own (`TrainerOptions.Packing`, `.threadCountInvariant` only).
    let sharesActivationPanels: Bool
    /// With shared packing: the operands, and their storage for up to `panelCapacity` batch
    /// rows (grown with the batch, outside the steady state).
    private let panels: SharedPanels?
    private var panelStorage: UnsafeMutablePointer<Float>?
    private var panelCapacity = -1
    /// Whether the packed weights in `panelStorage` hold the current `parameters` (the update
    /// phase keeps them current; `load` makes them stale).
    private var weightPanelsCurrent = false
    /// The flat range of the per-worker gradients that iteration `i` sums in the reduction
    /// (a share of its node's steps), and whether these ranges are `flatBoundaries` (one node).
    let reductionRanges: [Range<Int>]
    let reductionMatchesTasks: Bool
    /// Optimizer state, `stateCount · layout.parameterCount` floats.
    private(set) var state: UnsafeMutablePointer<Float>
    private(set) var stateCount: Int
    private(set) var optimizer: any Optimizer
    /// The gradient buffers: worker `p`'s at index `p` (`.perWorkerTree`), or the one shared
    /// buffer at index 0 (`.threadCountInvariant`). The step's gradients end in buffer 0.
    let gradientBuffers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// `.threadCountInvariant`: `a`, `h`, `delta` of the whole batch (`BatchBuffers` layout).
    private var batchStorage: UnsafeMutablePointer<Float>?
    private var batchCapacity = 0
    /// With NUMA placement on: the batch's input, each worker's rows copied by the worker onto
    /// its node at the start of its shard (read again by the weight gradients).
    private var stagedInput: UnsafeMutablePointer<Float>?
    private var stagedCapacity = 0
    private var touchStagedRows = false
    /// Each sample's loss.
    private var rowLoss: UnsafeMutablePointer<Float>
    private var rowLossCapacity = 0
    /// Per global row: sum of squares of the parameters (`[0, rowCount)`), of the
    /// gradients (`[rowCount, 2·rowCount)`) and of the optimizer's update direction
    /// (`[2·rowCount, 3·rowCount)`).
    let rowSquares: UnsafeMutablePointer<Double>
    /// Per tensor (layout entry), the step's norms.
    let norms: UnsafeMutablePointer<TensorNorms>
    /// The step's norms of all tensors together.
    private var globalNorms = TensorNorms()
    /// Per task, at a stride of one cache line: 0 when its gradients were finite, else NaN.
    let taskProbes: UnsafeMutablePointer<Float>
    static let probeStride = 16

    // The step in progress (set by the caller before each phase).
    private(set) var phase = Phase.prepare
    private var batchSize = 0
    private var shardCount = 0
    private var input: UnsafePointer<Float>?
    private var targets: LossTargets?
    private var reductionPlan = ReductionPlan(bufferCount: 1)
    private var normRequest: TensorNormRequest = []
    private var optimizerStep = OptimizerStep(number: 0)
    private var touchBatchRows = false
    private var touchGradient = false
    private var workerRowsNeeded = 0

    /// Optimizer steps taken.
    var stepCount = 0
    /// The last step's phase times.
    private(set) var timings = PhaseTimings()

    /// An engine for `model`'s shapes and weights, with `threads` workers and tasks, running at
    /// most `cores` threads at once.
    init(model: MLP, loss: Loss, optimizer: any Optimizer, threads: Int, cores: Int, options: TrainerOptions,
         placement: PlacementRuntime) {
        let layout = ParameterLayout(sizes: model.sizes)
        self.layout = layout
        sizes = model.sizes
        outputSizes = Array(model.sizes.dropFirst())
        activations = model.activations
        batchBuffers = BatchBuffers(outputSizes: outputSizes, activations: activations)
        layerCount = model.layers.count
        self.loss = loss
        self.threads = threads
        reduction = options.reduction
        isa = InstructionSet.active
        workspaceCount = Kernels.workspaceCount(for: isa)
        self.placement = placement
        executor = ParallelExecutor(kind: options.executor, tasks: threads, cores: cores, placement: placement)
        workers = (0..<threads).map { TrainingWorker(index: $0, layerCount: model.layers.count, placement: placement) }
        let rowBoundaries = layout.rowBoundaries(tasks: threads, weightRowMultiple: Kernels.tileColumns(for: isa))
        self.rowBoundaries = rowBoundaries
        let flatBoundaries = rowBoundaries.map { layout.offset(ofRow: $0) }
        self.flatBoundaries = flatBoundaries
        gradientSplit = WeightGradientSplit(sizes: model.sizes, tasks: threads, granularity: Kernels.tileRows(for: isa))

        // The weights: interleaved, or a master whose update chunks sit on the nodes of the
        // tasks that update them plus one replica per node, or (no placement) heap memory.
        let copies = placement.plan.weightPlacements(placement.used)
        let master = placement.allocate(layout.count, placement.used == .interleaved ? copies[0] : .uniform,
                                        kind: .weights, name: "weights")
        if placement.used == .replicated {
            for i in 0..<threads {
                placement.place(master + flatBoundaries[i], count: flatBoundaries[i + 1] - flatBoundaries[i],
                                placement.iterationPlacement(i))
            }
            let replicas = copies.map { copy in
                placement.allocate(layout.count, copy, kind: .weightReplicas, name: "weights (\(copy))")
            }
            self.replicas = replicas
            workerWeights = (0..<threads).map { replicas[placement.plan.weightCopy(forWorker: $0, placement: .replicated)] }
        } else {
            replicas = []
            workerWeights = Array(repeating: master, count: threads)
        }
        parameters = master
        switch options.packing {
        case .shared:
            sharesPacking = replicas.isEmpty
            sharesActivationPanels = sharesPacking && reduction == .threadCountInvariant
        case .automatic:
            sharesPacking = replicas.isEmpty
            sharesActivationPanels = sharesPacking && reduction == .threadCountInvariant
                && threads >= TrainerOptions.sharedPackingThreads
        case .perWorker:
            sharesPacking = false
            sharesActivationPanels = false
        }
        panels = sharesPacking ? SharedPanels(sizes: model.sizes, isa: isa) : nil
        // Each iteration sums its node's reduction steps over a share of the gradient.
        var ranges: [Range<Int>] = []
        var boundariesByShare: [Int: [Int]] = [:]
        for i in 0..<threads {
            let share = placement.nodeIterationCounts[placement.iterationNodes[i]]
            if boundariesByShare[share] == nil {
                boundariesByShare[share] = layout.rowBoundaries(tasks: share, weightRowMultiple: Kernels.tileColumns(for: isa))
                    .map { layout.offset(ofRow: $0) }
            }
            let bounds = boundariesByShare[share]!
            ranges.append(bounds[placement.iterationRanks[i]]..<bounds[placement.iterationRanks[i] + 1])
        }
        reductionRanges = ranges
        reductionMatchesTasks = ranges == (0..<threads).map { flatBoundaries[$0]..<flatBoundaries[$0 + 1] }
        self.optimizer = optimizer
        stateCount = optimizer.stateCountPerParameter
        state = placement.allocate(stateCount * layout.parameterCount, .uniform, kind: .optimizerState,
                                   name: "optimizer state")
        gradientBuffers = .allocate(capacity: threads)
        rowLoss = allocateFloats(0)
        rowSquares = .allocate(capacity: 3 * layout.rowCount)
        rowSquares.initialize(repeating: 0, count: 3 * layout.rowCount)
        norms = .allocate(capacity: layout.entries.count)
        norms.initialize(repeating: TensorNorms(), count: layout.entries.count)
        taskProbes = allocateFloats(threads * Self.probeStride)
        taskProbes.initialize(repeating: 0, count: threads * Self.probeStride)

        load(model)
        // Workers allocate their own workspace and gradient buffer; in the invariant mode,
        // the shared gradient buffer is first touched by the tasks that will write it.
        placeState()
        if reduction == .threadCountInvariant {
            let shared = placement.allocate(layout.count, .uniform, kind: .gradients, name: "gradients (shared)")
            gradientBuffers.initialize(repeating: shared, count: threads)
            touchGradient = true
        }
        phase = .prepare
        if executor.pinsCaller { placement.beginCallerRegion() }
        executor.run(iterations: threads, self)
        if executor.pinsCaller { placement.endCallerRegion() }
        touchGradient = false
        if reduction == .perWorkerTree {
            for p in 0..<threads { (gradientBuffers + p).initialize(to: workers[p].gradient!) }
        }
    }

    deinit {
        placement.free(parameters)
        placement.free(panelStorage)
        for replica in replicas { placement.free(replica) }
        placement.free(state)
        if reduction == .threadCountInvariant { placement.free(gradientBuffers[0]) }
        gradientBuffers.deallocate()
        placement.free(batchStorage)
        placement.free(stagedInput)
        freeFloats(rowLoss)
        rowSquares.deallocate()
        norms.deallocate()
        freeFloats(taskProbes)
    }

    // MARK: - Parameters and state

    /// Copies `model`'s weights into the flat parameters (shapes already validated).
    func load(_ model: MLP) {
        for (l, layer) in model.layers.enumerated() {
            layer.weight.withUnsafeBufferPointer { w in
                (parameters + layout.entries[2 * l].offset).update(from: w.baseAddress!, count: w.count)
            }
            layer.bias.withUnsafeBufferPointer { b in
                (parameters + layout.entries[2 * l + 1].offset).update(from: b.baseAddress!, count: b.count)
            }
        }
        for replica in replicas { replica.update(from: parameters, count: layout.count) }
        weightPanelsCurrent = false
    }

    /// `model` (same shapes) with the current weights.
    func snapshot(of model: MLP) -> MLP {
        var result = model
        for l in result.layers.indices {
            result.layers[l].weight.withUnsafeMutableBufferPointer { w in
                w.baseAddress!.update(from: parameters + layout.entries[2 * l].offset, count: w.count)
            }
            result.layers[l].bias.withUnsafeMutableBufferPointer { b in
                b.baseAddress!.update(from: parameters + layout.entries[2 * l + 1].offset, count: b.count)
            }
        }
        return result
    }

    /// Replaces the optimizer; resets the state to zeros when its size changes.
    func setOptimizer(_ newValue: any Optimizer) {
        optimizer = newValue
        let count = newValue.stateCountPerParameter
        guard count != stateCount else { return }
        placement.free(state)
        stateCount = count
        state = placement.allocate(count * layout.parameterCount, .uniform, kind: .optimizerState, name: "optimizer state")
        placeState()
    }

    /// With NUMA placement on, puts each update task's part of the optimizer state on the
    /// node of the thread that updates it (state vector `v` of a tensor's elements `e₀..<e₁`).
    private func placeState() {
        guard placement.isActive, stateCount > 0 else { return }
        for p in 0..<threads {
            var row = rowBoundaries[p]
            while row < rowBoundaries[p + 1] {
                let entry = layout.entries[layout.entryIndex(containingRow: row)]
                let segmentEnd = min(rowBoundaries[p + 1], entry.firstRow + entry.tensor.rows)
                let first = (row - entry.firstRow) * entry.tensor.columns
                let count = (segmentEnd - row) * entry.tensor.columns
                for v in 0..<stateCount {
                    placement.place(state + stateCount * entry.stateUnits + v * entry.tensor.count + first, count: count,
                                    placement.iterationPlacement(p))
                }
                row = segmentEnd
            }
        }
    }

    /// The optimizer state of tensor `entry` (see `TrainingState.optimizerState`).
    func stateRegion(_ entry: Int) -> UnsafeMutableBufferPointer<Float> {
        let e = layout.entries[entry]
        return UnsafeMutableBufferPointer(start: state + stateCount * e.stateUnits, count: stateCount * e.tensor.count)
    }

    // MARK: - Step

    /// One training step on a validated batch: `batchSize` rows at `input` (leading
    /// dimension: the input size) with `targets`. Returns the mean loss before the update.
    /// - Throws: `BackpropError.nonFiniteLoss(step: stepCount)` when the loss or a gradient is
    ///   not finite; the parameters and state are then untouched.
    func step(batchSize: Int, input: UnsafePointer<Float>, targets: LossTargets) throws -> Float {
        let start = monotonicSeconds()
        // The caller's thread is pool worker 0: pinned for the step, then given its affinity back.
        if executor.pinsCaller { placement.beginCallerRegion() }
        defer { if executor.pinsCaller { placement.endCallerRegion() } }
        reserve(batchSize: batchSize)
        configureShards(batchSize: batchSize)
        self.input = input
        self.targets = targets

        var packSeconds = 0.0
        if sharesPacking && !weightPanelsCurrent {
            phase = .packWeights
            executor.run(iterations: threads, self)
            packSeconds = monotonicSeconds() - start
        }
        phase = .shards
        // With more workers than threads, iteration i computes worker iterationWorkers[i]:
        // run them all (idle workers return at once).
        executor.run(iterations: placement.mapsIterationsToWorkers ? threads : shardCount, self)
        let shardsEnd = monotonicSeconds()
        var forward = packSeconds
        for p in 0..<shardCount { forward = max(forward, packSeconds + workers[p].forwardSeconds) }
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
            if sharesActivationPanels {
                phase = .packActivations
                executor.run(iterations: threads, self)
            }
            phase = .weightGradients
            executor.run(iterations: threads, self)
            gradientSeconds = monotonicSeconds() - shardsEnd
        case .perWorkerTree:
            // Within each NUMA node first, then across nodes (`ReductionPlan`); the order
            // depends only on the topology and the shard count, never on the placement.
            reductionPlan = placement.reduction(shards: shardCount)
            for level in reductionPlan.levels.indices {
                phase = .reduce(level: level)
                executor.run(iterations: threads, self)
            }
            if reductionPlan.levels.isEmpty || !reductionMatchesTasks {
                phase = .finalize
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
        optimizerStep = optimizer.prepare(step: stepCount + 1, globalNorms: globalNorms)
        if normRequest.contains(.updates) {
            phase = .measure
            executor.run(iterations: threads, self)
            combineUpdateNorms()
        }
        phase = .update
        executor.run(iterations: threads, self)
        weightPanelsCurrent = sharesPacking
        stepCount += 1
        timings = PhaseTimings(forward: forward, backward: backward, reduction: reductionSeconds,
                               update: monotonicSeconds() - gradientsEnd)
        return meanLoss
    }

    /// Grows the buffers for a batch of `batchSize` (outside the steady state).
    private func reserve(batchSize: Int) {
        if batchSize > rowLossCapacity {
            freeFloats(rowLoss)
            rowLoss = allocateFloats(batchSize)
            rowLoss.initialize(repeating: 0, count: batchSize)
            rowLossCapacity = batchSize
        }
        if let panels, panelStorage == nil || (sharesActivationPanels && batchSize > panelCapacity) {
            // The activations' panels, when shared, grow with the batch (k = batch rows).
            placement.free(panelStorage)
            let count = panels.count(batch: sharesActivationPanels ? batchSize : 0)
            panelStorage = placement.allocate(count, .uniform, kind: .packedOperands, name: "packed operands")
            panelCapacity = batchSize
            weightPanelsCurrent = false
        }
        var grow = false
        if placement.isActive && batchSize > stagedCapacity {
            placement.free(stagedInput)
            stagedInput = placement.allocate(batchSize * sizes[0], .uniform, kind: .input, name: "input (batch)")
            stagedCapacity = batchSize
            touchStagedRows = true
            grow = true
        }
        switch reduction {
        case .threadCountInvariant:
            if batchSize > batchCapacity {
                placement.free(batchStorage)
                batchStorage = placement.allocate(batchBuffers.floatCount(rows: batchSize),
                                                  .uniform, kind: .activations, name: "activations (batch)")
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
        touchStagedRows = false
    }

    /// Splits the batch into `min(threads, batchSize)` shards and points the workers' views.
    private func configureShards(batchSize: Int) {
        self.batchSize = batchSize
        shardCount = min(threads, batchSize)
        for p in 0..<threads {
            let worker = workers[p]
            worker.rows = p < shardCount ? (batchSize * p / shardCount)..<(batchSize * (p + 1) / shardCount) : 0..<0
            guard !worker.rows.isEmpty else { continue }
            switch reduction {
            case .threadCountInvariant:
                batchBuffers.setViews(of: worker, base: batchStorage!, capacityRows: batchCapacity,
                                      firstRow: worker.rows.lowerBound)
            case .perWorkerTree:
                break  // the worker points its views at its own storage in `runShard`
            }
        }
    }

    // MARK: - Phases

    func runIteration(_ index: Int) {
        switch phase {
        case .prepare: prepare(index)
        case .packWeights: packWeights(task: index)
        case .shards: runShard(index)
        case .packActivations: packActivations(task: index)
        case .weightGradients: computeWeightGradients(task: index)
        case .reduce(let level): reduce(level: level, task: index)
        case .finalize: finishRows(task: index)
        case .measure: update(task: index, measuring: true)
        case .update: update(task: index, measuring: false)
        }
    }

    private func prepare(_ p: Int) {
        let worker = workers[placement.worker(ofIteration: p)]
        worker.prepare(workspaceCount: workspaceCount, gradientCount: reduction == .perWorkerTree ? layout.count : 0)
        if touchStagedRows && !worker.rows.isEmpty {
            let rows = stagedInput! + worker.rows.lowerBound * sizes[0]
            placement.place(rows, count: worker.rows.count * sizes[0], worker.memoryPlacement)
            rows.initialize(repeating: 0, count: worker.rows.count * sizes[0])
        }
        switch reduction {
        case .threadCountInvariant:
            if touchGradient {
                let range = flatBoundaries[p]..<flatBoundaries[p + 1]
                placement.place(gradientBuffers[0] + range.lowerBound, count: range.count, placement.iterationPlacement(p))
                (gradientBuffers[0] + range.lowerBound).initialize(repeating: 0, count: range.count)
            }
            if touchBatchRows && !worker.rows.isEmpty {
                for l in 0..<layerCount {
                    let n = worker.rows.count * outputSizes[l]
                    // `a` is `h` itself where the layer keeps none (`BatchBuffers`).
                    var buffers = [worker.activations[l]!, worker.deltas[l]!]
                    if batchBuffers.keepsPreActivation[l] { buffers.append(worker.preActivations[l]!) }
                    for rows in buffers {
                        placement.place(rows, count: n, worker.memoryPlacement)
                        rows.initialize(repeating: 0, count: n)
                    }
                }
            }
        case .perWorkerTree:
            if !worker.rows.isEmpty { worker.reserveRows(workerRowsNeeded, buffers: batchBuffers) }
        }
    }

    /// The forward and backward pass of shard `p`.
    private func runShard(_ iteration: Int) {
        let p = placement.worker(ofIteration: iteration)
        let worker = workers[p]
        let rows = worker.rows.count
        guard rows > 0 else { return }
        if reduction == .perWorkerTree { worker.useOwnStorage(buffers: batchBuffers) }
        let workspace = worker.workspace!
        let first = worker.rows.lowerBound
        let parameters = workerWeights[p]
        let start = monotonicSeconds()
        // With NUMA placement on, the worker first copies its rows of the input to its node.
        let shardInput: UnsafePointer<Float>
        if let stagedInput {
            (stagedInput + first * sizes[0]).update(from: input! + first * sizes[0], count: rows * sizes[0])
            shardInput = UnsafePointer(stagedInput + first * sizes[0])
        } else {
            shardInput = input! + first * sizes[0]
        }

        // Forward: a(l) = h(l-1)·W(l)ᵀ + b(l), h(l) = f(a(l)).
        var h = shardInput
        for l in 0..<layerCount {
            let weight = layout.entries[2 * l], bias = layout.entries[2 * l + 1]
            let a = worker.preActivations[l]!, out = worker.activations[l]!
            Kernels.gemm(GEMMProblem(
                m: rows, n: sizes[l + 1], k: sizes[l],
                a: GEMMOperand(h, leadingDimension: sizes[l]),
                b: GEMMOperand(parameters + weight.offset, leadingDimension: sizes[l], transposed: true),
                c: a, cLeadingDimension: sizes[l + 1],
                epilogue: .biasActivation(bias: parameters + bias.offset, activation: activations[l],
                                          output: out, outputLeadingDimension: sizes[l + 1]),
                packedB: packed(panels?.forward[l])),
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
                let hPrevious = l == 0 ? shardInput : UnsafePointer(worker.activations[l - 1]!)
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
                                                    leadingDimension: sizes[l]),
                    packedB: packed(panels?.propagation[l])),
                    workspace: workspace, isa: isa)
            }
        }
        worker.forwardSeconds = forwardEnd - start
        worker.backwardSeconds = monotonicSeconds() - forwardEnd
    }

    /// Shared packing: task `p`'s panels of every `W(l)ᵀ` (forward) and `W(l)` (propagation).
    private func packWeights(task p: Int) {
        guard let panels, let storage = panelStorage else { return }
        for l in 0..<layerCount {
            let weight = parameters + layout.entries[2 * l].offset
            SharedPanels.pack(panels.forward[l], task: p, of: threads, storage: storage, isa: isa,
                              b: GEMMOperand(weight, leadingDimension: sizes[l], transposed: true))
            SharedPanels.pack(panels.propagation[l], task: p, of: threads, storage: storage, isa: isa,
                              b: GEMMOperand(weight, leadingDimension: sizes[l]))
        }
    }

    /// Shared packing, `.threadCountInvariant`: task `p`'s panels of every `h(l-1)`.
    private func packActivations(task p: Int) {
        guard let panels, let storage = panelStorage else { return }
        for l in 0..<layerCount {
            SharedPanels.pack(panels.gradient(l, batch: batchSize), task: p, of: threads, storage: storage, isa: isa,
                              b: GEMMOperand(previousActivations(l), leadingDimension: sizes[l]))
        }
    }

    /// `h(l-1)` of the whole batch (`.threadCountInvariant`): the input for `l = 0`.
    @inline(__always)
    private func previousActivations(_ l: Int) -> UnsafePointer<Float> {
        l == 0 ? (stagedInput.map { UnsafePointer($0) } ?? input!) : layerBuffers(l - 1).h
    }

    /// The storage of a shared operand, or nil (none: the GEMM packs for itself).
    @inline(__always)
    private func packed(_ operand: SharedPanels.Operand??) -> UnsafePointer<Float>? {
        guard let operand = operand ?? nil, let storage = panelStorage else { return nil }
        return UnsafePointer(storage + operand.offset)
    }

    /// `.threadCountInvariant`: rows `[r0, r1)` of every `dW(l)` and `db(l)`, over the whole batch.
    private func computeWeightGradients(task p: Int) {
        let workspace = workers[placement.worker(ofIteration: p)].workspace!
        let gradient = gradientBuffers[0]
        var probe: Float = 0
        for l in 0..<layerCount {
            let outputs = sizes[l + 1], inputs = sizes[l]
            let r0 = gradientSplit.boundaries[l][p], r1 = gradientSplit.boundaries[l][p + 1]
            guard r0 < r1 else { continue }
            let hPrevious = previousActivations(l)
            let delta = layerBuffers(l).delta
            let weight = layout.entries[2 * l], bias = layout.entries[2 * l + 1]
            Kernels.gemm(GEMMProblem(
                m: r1 - r0, n: inputs, k: batchSize,
                a: GEMMOperand(delta + r0, leadingDimension: outputs, transposed: true),
                b: GEMMOperand(hPrevious, leadingDimension: inputs),
                c: gradient + weight.offset + r0 * inputs, cLeadingDimension: inputs,
                packedB: sharesActivationPanels ? packed(panels?.gradient(l, batch: batchSize)) : nil),
                workspace: workspace, isa: isa)
            Kernels.columnSums(rows: batchSize, columns: r1 - r0, x: delta + r0, leadingDimension: outputs,
                               into: gradient + bias.offset + r0, accumulate: false, isa: isa)
            probe += finish(entry: 2 * l, rows: r0..<r1)
            probe += finish(entry: 2 * l + 1, rows: r0..<r1)
        }
        taskProbes[p * Self.probeStride] = probe
    }

    /// `.threadCountInvariant`: `a`, `h`, `delta` of layer `l` for the whole batch.
    @inline(__always)
    private func layerBuffers(_ l: Int) -> (h: UnsafePointer<Float>, delta: UnsafeMutablePointer<Float>) {
        let (_, h, d) = batchBuffers.layer(l, base: batchStorage!, capacityRows: batchCapacity)
        return (UnsafePointer(h), d)
    }

    /// `.perWorkerTree`: the steps of level `level` on iteration `p`'s node, over its share of
    /// the elements; on one node (shares = task chunks) the last level also finishes the rows.
    private func reduce(level: Int, task p: Int) {
        placement.runLevel(level, of: reductionPlan, buffers: gradientBuffers, iteration: p, range: reductionRanges[p])
        if reductionMatchesTasks && level == reductionPlan.levels.count - 1 { finishRows(task: p) }
    }

    /// Finishes the global rows of task `p` (finiteness probe, squares).
    private func finishRows(task p: Int) {
        var probe: Float = 0
        var row = rowBoundaries[p]
        let end = rowBoundaries[p + 1]
        while row < end {
            let e = layout.entryIndex(containingRow: row)
            let entry = layout.entries[e]
            let segmentEnd = min(end, entry.firstRow + entry.tensor.rows)
            probe += finish(entry: e, rows: (row - entry.firstRow)..<(segmentEnd - entry.firstRow))
            row = segmentEnd
        }
        taskProbes[p * Self.probeStride] = probe
    }

    /// For rows `rows` of tensor `entry` of the final gradient: returns 0 when every gradient
    /// is finite (NaN otherwise) and stores each row's sums of squares when norms are requested.
    @inline(__always)
    private func finish(entry e: Int, rows: Range<Int>) -> Float {
        let entry = layout.entries[e]
        let columns = entry.tensor.columns
        let offset = entry.offset + rows.lowerBound * columns
        let gradient = gradientBuffers[0] + offset
        let probe = Kernels.nonFiniteProbe(gradient, count: rows.count * columns, isa: isa)
        if !normRequest.isEmpty {
            let weights = parameters + offset
            for r in 0..<rows.count {
                let globalRow = entry.firstRow + rows.lowerBound + r
                if normRequest.contains(.parameters) {
                    rowSquares[globalRow] = sumOfSquares(weights + r * columns, count: columns)
                }
                if normRequest.contains(.gradients) {
                    rowSquares[layout.rowCount + globalRow] = sumOfSquares(gradient + r * columns, count: columns)
                }
            }
        }
        return probe
    }

    /// The norms of every tensor from the rows' sums of squares, in row order, and the global
    /// norms from the tensors' sums of squares, in tensor order.
    private func combineNorms() {
        var totalParameterSquares = 0.0, totalGradientSquares = 0.0
        for (e, entry) in layout.entries.enumerated() {
            var parameterSquares = 0.0, gradientSquares = 0.0
            for row in entry.firstRow..<(entry.firstRow + entry.tensor.rows) {
                parameterSquares += rowSquares[row]
                gradientSquares += rowSquares[layout.rowCount + row]
            }
            totalParameterSquares += parameterSquares
            totalGradientSquares += gradientSquares
            norms[e] = TensorNorms(
                parameters: normRequest.contains(.parameters) ? Float(parameterSquares.squareRoot()) : 0,
                gradients: normRequest.contains(.gradients) ? Float(gradientSquares.squareRoot()) : 0)
        }
        globalNorms = TensorNorms(
            parameters: normRequest.contains(.parameters) ? Float(totalParameterSquares.squareRoot()) : 0,
            gradients: normRequest.contains(.gradients) ? Float(totalGradientSquares.squareRoot()) : 0)
    }

    /// Each tensor's `updates` norm from the rows' sums of squares of the `.measure` pass.
    private func combineUpdateNorms() {
        for (e, entry) in layout.entries.enumerated() {
            var squares = 0.0
            for row in entry.firstRow..<(entry.firstRow + entry.tensor.rows) {
                squares += rowSquares[2 * layout.rowCount + row]
            }
            norms[e].updates = Float(squares.squareRoot())
        }
    }

    /// The optimizer on the chunks of task `p`: its global rows, one chunk per tensor;
    /// `measure` calls `Optimizer.measure` instead of `update`.
    private func update(task p: Int, measuring: Bool) {
        let optimizer = self.optimizer
        let step = optimizerStep
        var row = rowBoundaries[p]
        let end = rowBoundaries[p + 1]
        while row < end {
            let e = layout.entryIndex(containingRow: row)
            let entry = layout.entries[e]
            let segmentEnd = min(end, entry.firstRow + entry.tensor.rows)
            let columns = entry.tensor.columns
            // With shared packing, a weight's rows go in groups of one panel's width: each group
            // is repacked as soon as it is updated, while it is in cache.
            let group = panels != nil && !measuring && entry.tensor.kind == .weight ? Kernels.tileColumns(for: isa) : 0
            while row < segmentEnd {
                let local = row - entry.firstRow
                let chunkEnd = group > 0 ? min(segmentEnd, entry.firstRow + (local / group + 1) * group) : segmentEnd
                let first = local * columns
                let elements = first..<((chunkEnd - entry.firstRow) * columns)
                let chunk = ParameterChunk(
                    tensor: entry.tensor, elements: elements,
                    parameters: parameters + entry.offset + first,
                    gradients: gradientBuffers[0] + entry.offset + first,
                    state: state + stateCount * entry.stateUnits + first, stateStride: entry.tensor.count,
                    norms: norms[e])
                if measuring {
                    optimizer.measure(chunk, step: step, rowSquares: rowSquares + 2 * layout.rowCount + row)
                } else {
                    optimizer.update(chunk, step: step)
                }
                if group > 0, let panels, let storage = panelStorage {
                    panels.packWeightRows(layer: entry.tensor.layer, rows: local..<(chunkEnd - entry.firstRow),
                                          weight: parameters + entry.offset, storage: storage)
                }
                row = chunkEnd
            }
        }
        // `.replicated`: refresh this chunk of every node's copy.
        for replica in replicas {
            (replica + flatBoundaries[p]).update(from: parameters + flatBoundaries[p],
                                                 count: flatBoundaries[p + 1] - flatBoundaries[p])
        }
    }
}

/// `Σ x[j]²` in `Double`, in increasing `j`.
@inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var sum = 0.0
    for j in 0..<count { sum += Double(x[j]) * Double(x[j]) }
    return sum
}

/// Seconds of a monotonic clock; allocation-free.
@inline(__always)
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
