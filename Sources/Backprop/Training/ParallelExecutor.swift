import Dispatch

/// Runs the parallel loops of a training step on a `WorkerPool` or on
/// `DispatchQueue.concurrentPerform` (see `TrainerOptions.Executor`).
final class ParallelExecutor: @unchecked Sendable {
    let kind: TrainerOptions.Executor
    private let pool: WorkerPool?
    /// Pins the pool's threads, or each Dispatch iteration's thread, when NUMA placement is on.
    private let placement: PlacementRuntime?

    /// An executor for loops of up to `tasks` iterations on at most `cores` threads at once.
    init(kind: TrainerOptions.Executor, tasks: Int, cores: Int, placement: PlacementRuntime? = nil) {
        self.kind = kind
        let pinning = placement?.isActive == true ? placement : nil
        self.placement = pinning
        switch kind {
        case .workerPool:
            var threadStart: (@Sendable (Int) -> Void)?
            if let pinning { threadStart = { thread in pinning.pinOwnThread(thread) } }
            let workers = max(1, min(tasks, cores))
            pool = WorkerPool(workerCount: workers, threadStart: threadStart,
                              stealOrder: pinning.map { runtime in (0..<workers).map { runtime.plan.stealOrder(thread: $0) } })
        case .dispatch: pool = nil
        }
    }

    /// Whether the caller's thread runs iterations of `run` (as pool worker 0) and must be
    /// pinned around the work: true for the pool with NUMA placement on.
    var pinsCaller: Bool { pool != nil && placement != nil }

    /// Threads that may run iterations at once (1 when everything runs on the caller).
    var concurrency: Int { pool?.workerCount ?? Int.max }

    /// `task.runIteration(i)` for every `i` in `0..<iterations`; returns when all have finished.
    @inline(__always)
    func run(iterations: Int, _ task: any ParallelTask) {
        if let pool {
            pool.run(iterations: iterations, task)
        } else if iterations == 1 {
            task.runIteration(0)
        } else if iterations > 1 {
            if let placement {
                // Dispatch's threads are borrowed: pinned for the iteration, then restored.
                DispatchQueue.concurrentPerform(iterations: iterations) { i in
                    placement.beginIteration(i)
                    task.runIteration(i)
                    placement.endIteration(i)
                }
            } else {
                DispatchQueue.concurrentPerform(iterations: iterations) { i in task.runIteration(i) }
            }
        }
    }
}
