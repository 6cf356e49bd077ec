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
/// 1. `.shards`: worker `p` runs the forward pass of its rows, the loss and `delta(L)`, and
///    propagates `delta` down to layer 1 (layer 0's input gradient is never needed); in
///    `.perWorkerTree` mode it also computes its shard's `dW`, `db`.
/// 2. `.weightGradients` (`.threadCountInvariant`): task `p` computes a block of output rows of
///    every `dW(l) = delta(l)ᵀ·h(l-1)` and `db(l)` over the whole batch; or `.reduce(level:)`
///    (`.perWorkerTree`): the levels of the tree reduction. The last of these phases also
///    checks that the gradients are finite and, when asked, sums the squares of every row.
/// 3. `.update`: the optimizer, parallel over chunks of whole rows.
final class TrainingEngine: ParallelTask, @unchecked Sendable {
    enum Phase {
        case prepare
        case shards
        case weightGradients
        case reduce(level: Int)
        case finalize
        case update
    }

    let layout: ParameterLayout
    /// Layer widths, input first.
    let sizes: [Int]
    /// `sizes.dropFirst()`.
    let outputSizes: [Int]
    let activations: [Activation]
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

    /// The parameters, in `layout`.
    let parameters: UnsafeMutablePointer<Float>
    /// Optimizer state, `stateCount · layout.parameterCount` floats.
    private(set) var state: UnsafeMutablePointer<Float>
    private(set) var stateCount: Int
    private(set) var optimizer: any Optimizer
    /// The gradient buffers: worker `p`'s at index `p` (`.perWorkerTree`), or the one shared
    /// buffer at index 0 (`.threadCountInvariant`). The step's gradients end in buffer 0.
    let gradientBuffers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// `.threadCountInvariant`: `a`, `h`, `delta` of the whole batch (`BatchBuffers` layout).
    var batchStorage: UnsafeMutablePointer<Float>?
    var batchCapacity = 0
    /// Each sample's loss.
    var rowLoss: UnsafeMutablePointer<Float>
    var rowLossCapacity = 0
    /// Per global row: sum of squares of the parameters (`[0, rowCount)`) and of the
    /// gradients (`[rowCount, 2·rowCount)`).
    let rowSquares: UnsafeMutablePointer<Double>
    /// Per tensor (layout entry), the step's norms.
    let norms: UnsafeMutablePointer<TensorNorms>
    /// Per task, at a stride of one cache line: 0 when its gradients were finite, else NaN.
    let taskProbes: UnsafeMutablePointer<Float>
    static let probeStride = 16

    // The step in progress (set by the caller before each phase).
    var phase = Phase.prepare
    var batchSize = 0
    var shardCount = 0
    var input: UnsafePointer<Float>?
    var targets: LossTargets?
    var tree = TreeReduction(bufferCount: 1)
    var normRequest: TensorNormRequest = []
    var optimizerStep = OptimizerStep(number: 0)
    var touchBatchRows = false
    var touchGradient = false
    var workerRowsNeeded = 0

    /// Optimizer steps taken.
    var stepCount = 0
    /// The last step's phase times.
    var timings = PhaseTimings()

    /// An engine for `model`'s shapes and weights, with `threads` workers and tasks, running at
    /// most `cores` threads at once.
    init(model: MLP, loss: Loss, optimizer: any Optimizer, threads: Int, cores: Int, options: TrainerOptions) {
        let layout = ParameterLayout(sizes: model.sizes)
        self.layout = layout
        sizes = model.sizes
        outputSizes = Array(model.sizes.dropFirst())
        activations = model.activations
        layerCount = model.layers.count
        self.loss = loss
        self.threads = threads
        reduction = options.reduction
        isa = InstructionSet.active
        workspaceCount = Kernels.workspaceCount(for: isa)
        executor = ParallelExecutor(kind: options.executor, tasks: threads, cores: cores)
        workers = (0..<threads).map { TrainingWorker(index: $0, layerCount: model.layers.count) }
        let rowBoundaries = layout.rowBoundaries(tasks: threads)
        self.rowBoundaries = rowBoundaries
        flatBoundaries = rowBoundaries.map { layout.offset(ofRow: $0) }

        parameters = allocateFloats(layout.count)
        parameters.initialize(repeating: 0, count: layout.count)
        self.optimizer = optimizer
        stateCount = optimizer.stateCountPerParameter
        state = allocateFloats(stateCount * layout.parameterCount)
        state.initialize(repeating: 0, count: max(stateCount * layout.parameterCount, 1))
        gradientBuffers = .allocate(capacity: threads)
        rowLoss = allocateFloats(0)
        rowSquares = .allocate(capacity: 2 * layout.rowCount)
        rowSquares.initialize(repeating: 0, count: 2 * layout.rowCount)
        norms = .allocate(capacity: layout.entries.count)
        norms.initialize(repeating: TensorNorms(), count: layout.entries.count)
        taskProbes = allocateFloats(threads * Self.probeStride)
        taskProbes.initialize(repeating: 0, count: threads * Self.probeStride)

        load(model)
        // Workers allocate their own workspace and gradient buffer; in the invariant mode,
        // the shared gradient buffer is first touched by the tasks that will write it.
        if reduction == .threadCountInvariant {
            let shared = allocateFloats(layout.count)
            gradientBuffers.initialize(repeating: shared, count: threads)
            touchGradient = true
        }
        phase = .prepare
        executor.run(iterations: threads, self)
        touchGradient = false
        if reduction == .perWorkerTree {
            for p in 0..<threads { (gradientBuffers + p).initialize(to: workers[p].gradient!) }
        }
    }

    deinit {
        freeFloats(parameters)
        freeFloats(state)
        if reduction == .threadCountInvariant { freeFloats(gradientBuffers[0]) }
        gradientBuffers.deallocate()
        freeFloats(batchStorage)
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
        freeFloats(state)
        stateCount = count
        state = allocateFloats(count * layout.parameterCount)
        state.initialize(repeating: 0, count: max(count * layout.parameterCount, 1))
    }

    /// The optimizer state of tensor `entry` (see `TrainingState.optimizerState`).
    func stateRegion(_ entry: Int) -> UnsafeMutableBufferPointer<Float> {
        let e = layout.entries[entry]
        return UnsafeMutableBufferPointer(start: state + stateCount * e.stateUnits, count: stateCount * e.tensor.count)
    }
}
