/// One worker of a `Trainer`: the buffers of one shard of the batch.
///
/// Everything a worker owns is allocated, and first touched, by the worker itself during a
/// preparation phase (iteration `index` of a parallel loop), so with the worker pool (which
/// runs iteration `index` on the same thread unless another one steals it) the pages normally
/// live on the NUMA node of the thread that computes the shard.
/// With NUMA placement on, the buffers are moreover allocated on the worker's node
/// (`PlacementRuntime.workerPlacement`), whoever touches them.
final class TrainingWorker: @unchecked Sendable {
    /// The shard this worker computes (iteration index of the shard phase).
    let index: Int
    let layerCount: Int
    /// Allocates the worker's buffers where its node is.
    let placement: PlacementRuntime
    let memoryPlacement: MemoryPlacement
    /// GEMM scratch space, `Kernels.workspaceCount()` floats.
    private(set) var workspace: UnsafeMutablePointer<Float>?
    /// `.perWorkerTree` mode: this shard's gradients, in the `ParameterLayout`.
    private(set) var gradient: UnsafeMutablePointer<Float>?
    /// `.perWorkerTree` mode: this worker's own `a`, `h` and `delta` of every layer.
    private var storage: UnsafeMutablePointer<Float>?
    /// Rows `storage` has room for.
    private(set) var capacityRows = 0

    /// Where this step's shard reads and writes `a(l)`, `h(l)`, `delta(l)` of layer `l`
    /// (row 0 of the shard; leading dimension: the layer's output size).
    let preActivations: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let activations: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let deltas: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// The rows of the batch in this step's shard (empty when the worker is idle).
    var rows: Range<Int> = 0..<0
    /// Seconds of the last shard's forward pass (with the loss) and backward pass.
    var forwardSeconds = 0.0
    var backwardSeconds = 0.0

    init(index: Int, layerCount: Int, placement: PlacementRuntime) {
        self.index = index
        self.layerCount = layerCount
        self.placement = placement
        memoryPlacement = placement.workerPlacement(index)
        preActivations = .allocate(capacity: layerCount)
        activations = .allocate(capacity: layerCount)
        deltas = .allocate(capacity: layerCount)
        for pointers in [preActivations, activations, deltas] { pointers.initialize(repeating: nil, count: layerCount) }
    }

    deinit {
        placement.free(workspace)
        placement.free(gradient)
        placement.free(storage)
        preActivations.deallocate()
        activations.deallocate()
        deltas.deallocate()
    }

    /// Allocates the workspace and, when `gradientCount > 0`, a zeroed gradient buffer, unless
    /// already there. Called by the worker's own iteration.
    func prepare(workspaceCount: Int, gradientCount: Int) {
        if workspace == nil {
            workspace = placement.allocate(workspaceCount, memoryPlacement, kind: .workspace,
                                           name: "workspace (worker \(index))")
        }
        if gradientCount > 0 && gradient == nil {
            gradient = placement.allocate(gradientCount, memoryPlacement, kind: .gradients,
                                          name: "gradients (worker \(index))")
        }
    }

    /// Grows the private `a`, `h`, `delta` storage to `rows` rows (zeroed) when smaller.
    func reserveRows(_ rows: Int, buffers: BatchBuffers) {
        guard rows > capacityRows else { return }
        placement.free(storage)
        let count = buffers.floatCount(rows: rows)
        storage = placement.allocate(count, memoryPlacement, kind: .activations, name: "activations (worker \(index))")
        capacityRows = rows
    }

    /// Points the views at the private storage.
    func useOwnStorage(buffers: BatchBuffers) {
        buffers.setViews(of: self, base: storage!, capacityRows: capacityRows, firstRow: 0)
    }
}

/// The layout of `a(l)`, `h(l)`, `delta(l)` of every layer for `rows` rows in one allocation:
/// for each layer, `a` then `h` then `delta`, each `rows × outputSize(l)`, except that a hidden
/// layer whose `f'` follows from `h` alone (`Activation.derivativeNeedsPreActivation` false:
/// ReLU, leaky ReLU with a slope ≥ 0, tanh, sigmoid, identity) keeps no `a`: its `a` view is
/// its `h`. The forward product then writes the pre-activation there and the activation over
/// it, and the backward epilogue evaluates `f'` from `h`, bitwise as from `a` (ReLU: `a > 0`
/// exactly when `h > 0`, NaN and −0 included). The output layer keeps `a` (the loss reads it).
/// Saves a third of the batch's buffers for such layers (config C: 64 MB of 535 MB).
struct BatchBuffers {
    let outputSizes: [Int]
    /// Whether layer `l` has an `a` buffer of its own.
    let keepsPreActivation: [Bool]

    /// The buffers of layers with `outputSizes` and `activations` (one per layer).
    init(outputSizes: [Int], activations: [Activation]) {
        self.outputSizes = outputSizes
        let last = outputSizes.count - 1
        keepsPreActivation = outputSizes.indices.map { $0 == last || activations[$0].derivativeNeedsPreActivation }
    }

    /// Floats of the buffers for `rows` rows.
    func floatCount(rows: Int) -> Int {
        var count = 0
        for l in outputSizes.indices { count += buffersPerRow(l) * rows * outputSizes[l] }
        return count
    }

    /// Buffers of layer `l`: `a`, `h`, `delta`, or `h` (also `a`) and `delta`.
    @inline(__always)
    private func buffersPerRow(_ l: Int) -> Int { keepsPreActivation[l] ? 3 : 2 }

    /// `(a, h, delta)` of layer `l`, row 0 (`a == h` when the layer keeps no `a`).
    @inline(__always)
    func layer(_ l: Int, base: UnsafeMutablePointer<Float>, capacityRows: Int)
        -> (a: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, delta: UnsafeMutablePointer<Float>) {
        var offset = 0
        for j in 0..<l { offset += buffersPerRow(j) * capacityRows * outputSizes[j] }
        let a = base + offset
        let h = keepsPreActivation[l] ? a + capacityRows * outputSizes[l] : a
        return (a, h, h + capacityRows * outputSizes[l])
    }

    /// Sets `worker`'s views to row `firstRow` of the buffers at `base`.
    func setViews(of worker: TrainingWorker, base: UnsafeMutablePointer<Float>, capacityRows: Int, firstRow: Int) {
        for l in 0..<worker.layerCount {
            let (a, h, d) = layer(l, base: base, capacityRows: capacityRows)
            let shift = firstRow * outputSizes[l]
            worker.preActivations[l] = a + shift
            worker.activations[l] = h + shift
            worker.deltas[l] = d + shift
        }
    }
}

/// `count` uninitialised floats (at least one), 64-byte aligned; from 2 MiB up, advised onto huge
/// pages (`AlignedBuffer.allocateStorage`).
func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    AlignedBuffer.allocateStorage(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        .bindMemory(to: Float.self, capacity: max(count, 1))
}

/// Frees what `allocateFloats` returned (nothing for `nil`).
func freeFloats(_ pointer: UnsafeMutablePointer<Float>?) {
    if let pointer { UnsafeMutableRawPointer(pointer).deallocate() }
}
