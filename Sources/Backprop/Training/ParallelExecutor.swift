import Dispatch

/// Runs the parallel loops of a training step on a `WorkerPool` or on
/// `DispatchQueue.concurrentPerform` (see `TrainerOptions.Executor`).
final class ParallelExecutor: @unchecked Sendable {
    let kind: TrainerOptions.Executor
    private let pool: WorkerPool?

    /// An executor for loops of up to `tasks` iterations on at most `cores` threads at once.
    init(kind: TrainerOptions.Executor, tasks: Int, cores: Int) {
        self.kind = kind
        switch kind {
        case .workerPool: pool = WorkerPool(workerCount: max(1, min(tasks, cores)))
        case .dispatch: pool = nil
        }
    }

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
            DispatchQueue.concurrentPerform(iterations: iterations) { i in task.runIteration(i) }
        }
    }
}
