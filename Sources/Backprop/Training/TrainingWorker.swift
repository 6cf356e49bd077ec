/// One worker of a `Trainer`: the buffers of one shard of the batch.
///
/// Everything a worker owns is allocated, and first touched, by the worker itself during a
/// preparation phase (iteration `index` of a parallel loop), so with the worker pool (which
/// always runs iteration `index` on the same thread) the pages live on that thread's NUMA node.
final class TrainingWorker: @unchecked Sendable {
    /// The shard this worker computes (iteration index of the shard phase).
    let index: Int
    let layerCount: Int
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

    init(index: Int, layerCount: Int) {
        self.index = index
        self.layerCount = layerCount
        preActivations = .allocate(capacity: layerCount)
        activations = .allocate(capacity: layerCount)
        deltas = .allocate(capacity: layerCount)
        for pointers in [preActivations, activations, deltas] { pointers.initialize(repeating: nil, count: layerCount) }
    }

    deinit {
        freeFloats(workspace)
        freeFloats(gradient)
        freeFloats(storage)
        preActivations.deallocate()
        activations.deallocate()
        deltas.deallocate()
    }

    /// Allocates the workspace and, when `gradientCount > 0`, a zeroed gradient buffer, unless
    /// already there. Called by the worker's own iteration.
    func prepare(workspaceCount: Int, gradientCount: Int) {
        if workspace == nil {
            workspace = allocateFloats(workspaceCount)
            workspace!.initialize(repeating: 0, count: max(workspaceCount, 1))
        }
        if gradientCount > 0 && gradient == nil {
            gradient = allocateFloats(gradientCount)
            gradient!.initialize(repeating: 0, count: gradientCount)
        }
    }

    /// Grows the private `a`, `h`, `delta` storage to `rows` rows (zeroed) when smaller.
    func reserveRows(_ rows: Int, outputSizes: [Int]) {
        guard rows > capacityRows else { return }
        freeFloats(storage)
        let count = BatchBuffers.floatCount(rows: rows, outputSizes: outputSizes)
        storage = allocateFloats(count)
        storage!.initialize(repeating: 0, count: count)
        capacityRows = rows
    }

    /// Points the views at the private storage.
    func useOwnStorage(outputSizes: [Int]) {
        BatchBuffers.setViews(of: self, base: storage!, capacityRows: capacityRows, firstRow: 0, outputSizes: outputSizes)
    }
}

/// The layout of `a(l)`, `h(l)`, `delta(l)` of every layer for `rows` rows in one allocation:
/// for each layer, `a` then `h` then `delta`, each `rows × outputSize(l)`.
enum BatchBuffers {
    static func floatCount(rows: Int, outputSizes: [Int]) -> Int {
        3 * rows * outputSizes.reduce(0, +)
    }

    /// `(a, h, delta)` of layer `l`, row 0.
    @inline(__always)
    static func layer(_ l: Int, base: UnsafeMutablePointer<Float>, capacityRows: Int, outputSizes: [Int])
        -> (a: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, delta: UnsafeMutablePointer<Float>) {
        var offset = 0
        for j in 0..<l { offset += 3 * capacityRows * outputSizes[j] }
        let a = base + offset
        let h = a + capacityRows * outputSizes[l]
        return (a, h, h + capacityRows * outputSizes[l])
    }

    /// Sets `worker`'s views to row `firstRow` of the buffers at `base`.
    static func setViews(of worker: TrainingWorker, base: UnsafeMutablePointer<Float>, capacityRows: Int,
                         firstRow: Int, outputSizes: [Int]) {
        for l in 0..<worker.layerCount {
            let (a, h, d) = layer(l, base: base, capacityRows: capacityRows, outputSizes: outputSizes)
            let shift = firstRow * outputSizes[l]
            worker.preActivations[l] = a + shift
            worker.activations[l] = h + shift
            worker.deltas[l] = d + shift
        }
    }
}

/// `count` uninitialised floats (at least one), 64-byte aligned.
func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                     alignment: AlignedBuffer.alignment)
        .bindMemory(to: Float.self, capacity: max(count, 1))
}

/// Frees what `allocateFloats` returned (nothing for `nil`).
func freeFloats(_ pointer: UnsafeMutablePointer<Float>?) {
    if let pointer { UnsafeMutableRawPointer(pointer).deallocate() }
}
