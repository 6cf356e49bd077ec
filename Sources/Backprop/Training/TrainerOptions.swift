/// How a `Trainer` splits and sums its work. The defaults suit most uses.
///
/// ## Shards, tasks and threads
/// A step cuts the batch of `B` samples into `S = min(threads, B)` shards of consecutive
/// rows (sizes differ by at most one; with `B < threads` some workers stay idle). Each shard is
/// one worker's forward and backward pass, from input to `delta(1)`, with no barrier between
/// layers. The later phases (weight gradients or reduction, then the update) are split into
/// `threads` tasks over the parameters. At most `min(threads, cores)` threads run at once, so
/// `threads` above the core count never oversubscribes: the extra shards and tasks run one after
/// another on the same threads.
///
/// ## Summation modes (`reduction`)
/// The forward pass, the loss of each sample and every `delta` row are bitwise independent of
/// the sharding (the GEMM computes each row of a product independently of the others), so only
/// the batch sums `dLoss/dW = deltaᵀ·H`, `dLoss/db = Σ delta` and the loss depend on how the
/// batch is split. The loss is always summed over the samples in increasing order, in `Double`.
///
/// - `.threadCountInvariant`: after the shards' forward and backward passes (which leave every
///   `delta(l)` of the whole batch in shared buffers), a second phase computes `dLoss/dW(l)` one
///   block of OUTPUT ROWS per task, each entry summed over the whole batch in sample order
///   inside one GEMM, and `dLoss/db` likewise by columns. No reduction is needed, and weights,
///   loss and norms are bitwise identical whatever `threads` is (1, 2, 3, 8, 16, …), and with
///   either executor. `PhaseTimings.reduction` is 0: the batch sums are part of `backward`.
/// - `.perWorkerTree`: each worker also computes its shard's gradients into its own buffer, and
///   the `S` buffers are summed by a pairwise tree (level `s` adds buffer `i + 2ˢ` into buffer
///   `i`; `⌈log₂ S⌉` levels, each parallel over chunks of the gradient). Results are bitwise
///   reproducible run to run for a given thread count, but change in the last bits with it.
///   Costs `S` gradient buffers.
///
/// Cost, measured with `TrainerBenchmarkTests` on the 2-vCPU AVX-512 development machine
/// (release build, SGD, 784-1024-1024-10 with batch 1024 and 784-256-256-10 with batch 256,
/// 1 and 2 threads, interleaved rounds, medians): with 1 thread the modes tie (step-time ratio
/// invariant / tree 0.97–1.03); with 2 threads the invariant mode took 0–3 % more wall time
/// and 0.5–2 % more CPU time (every task packs all of `h(l-1)`). That is within the 5 % allowed
/// for making the reproducible mode the default.
public struct TrainerOptions: Sendable, Hashable {
    /// How the batch sums of the gradients are formed (see the type's documentation).
    public enum Reduction: String, Sendable, Hashable, CaseIterable {
        /// Weight gradients parallel over output rows, each summed over the whole batch in
        /// order: bitwise identical results for every thread count.
        case threadCountInvariant
        /// Per-worker gradients summed by a pairwise tree: reproducible for a fixed thread count.
        case perWorkerTree
    }

    /// What runs the parallel loops.
    public enum Executor: String, Sendable, Hashable, CaseIterable {
        /// The trainer's own `min(threads, cores)` threads, started once and parked between
        /// steps; worker `p` runs on the same thread step after step unless another thread,
        /// idle first, takes its turn (so its buffers normally stay on its NUMA node); a step
        /// allocates nothing.
        case workerPool
        /// `DispatchQueue.concurrentPerform`, one call per phase. On Linux each call allocates
        /// about three small heap blocks inside Dispatch, so a step is not allocation-free.
        case dispatch
    }

    /// Who packs the operands every shard multiplies by (the GEMM's right operands).
    ///
    /// Every worker's forward and propagation products use the same `W(l)`, and in
    /// `.threadCountInvariant` mode every weight-gradient task reads all of `h(l-1)`. Packed by
    /// each worker or task for itself, each of `P` threads packs all of them, for `1/P` of the
    /// multiply-adds: with many threads that is a large part of a step. Shared, the weights are
    /// packed once and all workers read them: the update phase repacks the rows of `W(l)` it
    /// has just written, while they are in cache (and a phase before the shards packs them when
    /// they are stale: the first step, after `Trainer.restore`). Shared activations are packed
    /// in a phase of their own before the weight gradients. Never changes results.
    public enum Packing: String, Sendable, Hashable, CaseIterable {
        /// The weights shared (unless `.replicated`), which costs twice their memory (packed
        /// for the forward and for the propagation products); the activations shared from
        /// `sharedPackingThreads` threads up, packed by each task below that.
        case automatic
        /// Both shared. Costs memory: a packed copy of the weights (two, forward and
        /// propagation) and of the batch's activations. With `.replicated` weights (a copy per
        /// NUMA node) it falls back to `.perWorker`.
        case shared
        /// Each worker or task packs what it multiplies.
        case perWorker
    }

    /// The thread count from which `.automatic` packing shares the activations. Measured (both
    /// shared, the weights then packed in a phase of their own) ÷ per-worker samples/s, medians
    /// of interleaved rounds: on the 2-core development machine at 2 threads A 1.03, B 1.00,
    /// C 1.00; on a 16-vCPU Xeon (model 207) at 8 threads B 0.89, C 0.86, D 1.09 (each task's
    /// own panels stay in its L2, where a shared pass writes them all to memory and reads them
    /// back) and at 16 threads B 1.21, C 1.04, D 1.22.
    public static let sharedPackingThreads = 16

    /// Default `.threadCountInvariant`.
    public var reduction: Reduction
    /// Default `.workerPool`.
    public var executor: Executor
    /// Default `.automatic`.
    public var packing: Packing

    public init(reduction: Reduction = .threadCountInvariant, executor: Executor = .workerPool,
                packing: Packing = .automatic) {
        self.reduction = reduction
        self.executor = executor
        self.packing = packing
    }
}

/// Wall-clock seconds of the phases of the last training step.
///
/// `forward` is the slowest worker's forward pass (with the loss and `delta(L)`); `backward` is
/// the rest of the shard phase (error propagation, and the shard's gradients in
/// `.perWorkerTree` mode) plus, in `.threadCountInvariant` mode, the weight-gradient phase;
/// `reduction` is the tree reduction with the finiteness check (0 in `.threadCountInvariant`
/// mode, whose check is part of `backward`); `update` is the norms, `Optimizer.prepare` and
/// the parallel update. Their sum is the step's time minus input validation.
public struct PhaseTimings: Sendable, Hashable, Codable {
    public var forward: Double
    public var backward: Double
    public var reduction: Double
    public var update: Double

    public init(forward: Double = 0, backward: Double = 0, reduction: Double = 0, update: Double = 0) {
        self.forward = forward
        self.backward = backward
        self.reduction = reduction
        self.update = update
    }

    /// `forward + backward + reduction + update`.
    public var total: Double { forward + backward + reduction + update }
}

/// Everything needed to continue training exactly where a `Trainer` stopped.
public struct TrainingState: Sendable, Equatable {
    /// The weights.
    public var model: MLP
    /// Optimizer steps taken.
    public var stepCount: Int
    /// The optimizer's per-parameter state: one array per parameter tensor, in the order
    /// `layers[0].weight, layers[0].bias, layers[1].weight, …`, each of
    /// `stateCountPerParameter × tensor size` floats (state vector 0 of the whole tensor in
    /// row-major order, then vector 1, …). Empty arrays for SGD.
    public var optimizerState: [[Float]]

    public init(model: MLP, stepCount: Int, optimizerState: [[Float]]) {
        self.model = model
        self.stepCount = stepCount
        self.optimizerState = optimizerState
    }
}
