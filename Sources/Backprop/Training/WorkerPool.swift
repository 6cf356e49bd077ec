import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of threads that run the iterations of a parallel loop, with static scheduling:
/// iteration `i` always runs on worker `i % workerCount`, where worker 0 is the calling thread
/// and workers `1..<workerCount` are threads started once, at `init`.
///
/// Why not `DispatchQueue.concurrentPerform`: on Linux each call allocates on the heap (two
/// allocations in the Swift overlay, which copies the closure into a block, and about 1.4 in
/// libdispatch's continuation cache when iterations run on several threads), and a training step
/// makes several such calls. This pool allocates nothing after `init`: a job is a task object
/// plus an iteration count, published through atomics; helpers spin
/// briefly and then sleep on a condition variable, so an idle pool costs no CPU.
///
/// A job is an object rather than a closure because Swift's `withoutActuallyEscaping`, the
/// only way to hand a non-escaping closure to another thread, allocates on every call.
///
/// Static scheduling also pins work to threads: iteration `p` of every job runs on the same
/// thread, so memory first touched by iteration `p` stays local to that thread's NUMA node.
///
/// `run` must not be called concurrently from several threads, nor from inside a job.
final class WorkerPool: @unchecked Sendable {
    /// Threads that run iterations, the caller included (at least 1).
    let workerCount: Int
    private let shared: Shared
    private var threads: [pthread_t] = []

    /// A pool of `workerCount` workers: the caller plus `workerCount − 1` started threads.
    init(workerCount: Int) {
        precondition(workerCount >= 1, "a pool needs at least one worker")
        self.workerCount = workerCount
        shared = Shared(workerCount: workerCount)
        for worker in 1..<workerCount {
            let context = Unmanaged.passRetained(HelperContext(shared: shared, worker: worker)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<HelperContext>.fromOpaque(raw!).takeRetainedValue()
                context.shared.helperLoop(worker: context.worker)
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed with \(status)")
            threads.append(thread)
        }
    }

    deinit {
        shared.shutdown()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `task.runIteration(i)` for every `i` in `0..<iterations`, iteration `i` on worker
    /// `i % workerCount`, and returns when all have finished. Writes made by an iteration are
    /// visible to the caller afterwards.
    func run(iterations: Int, _ task: any ParallelTask) {
        guard iterations > 0 else { return }
        if workerCount == 1 || iterations == 1 {
            for i in 0..<iterations { task.runIteration(i) }
            return
        }
        shared.run(task: task, iterations: iterations)
    }
}

/// The body of a parallel loop: `runIteration(i)` for `i` in `0..<iterations`, from several
/// threads at once, each `i` exactly once.
protocol ParallelTask: AnyObject, Sendable {
    func runIteration(_ index: Int)
}

private final class HelperContext {
    let shared: WorkerPool.Shared
    let worker: Int
    init(shared: WorkerPool.Shared, worker: Int) {
        self.shared = shared
        self.worker = worker
    }
}

extension WorkerPool {
    /// The state the caller and the helpers share.
    final class Shared: @unchecked Sendable {
        let workerCount: Int
        /// Bumped (releasing) once `job` and `iterations` describe a new job.
        let generation = Atomic<Int>(0)
        /// Helpers that have not finished the current job.
        let pending = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        /// Written by the caller before `generation` is bumped; read by helpers after.
        private var task: (any ParallelTask)?
        private var iterations = 0
        // Sleeping: helpers wait on `wake`, the caller on `finished`; both under `mutex`.
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let wake: UnsafeMutablePointer<pthread_cond_t>
        private let finished: UnsafeMutablePointer<pthread_cond_t>
        private var sleepingHelpers = 0
        private var callerSleeping = false

        /// Polls of an atomic before a thread goes to sleep (a few tens of microseconds).
        static let spinLimit = 4_000

        init(workerCount: Int) {
            self.workerCount = workerCount
            mutex = .allocate(capacity: 1)
            wake = .allocate(capacity: 1)
            finished = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(wake, nil)
            pthread_cond_init(finished, nil)
        }

        deinit {
            pthread_cond_destroy(finished)
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(mutex)
            finished.deallocate()
            wake.deallocate()
            mutex.deallocate()
        }

        func run(task: any ParallelTask, iterations: Int) {
            self.task = task
            self.iterations = iterations
            pending.store(workerCount - 1, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .releasing)
            pthread_mutex_lock(mutex)
            if sleepingHelpers > 0 { pthread_cond_broadcast(wake) }
            pthread_mutex_unlock(mutex)

            var i = 0
            while i < iterations {
                task.runIteration(i)
                i += workerCount
            }

            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                if spins < Shared.spinLimit {
                    spins += 1
                    if spins & 63 == 0 { sched_yield() }
                    continue
                }
                pthread_mutex_lock(mutex)
                callerSleeping = true
                while pending.load(ordering: .acquiring) != 0 { pthread_cond_wait(finished, mutex) }
                callerSleeping = false
                pthread_mutex_unlock(mutex)
            }
            self.task = nil
        }

        func helperLoop(worker: Int) {
            var seen = 0
            while true {
                var spins = 0
                var current = generation.load(ordering: .acquiring)
                while current == seen {
                    if stopping.load(ordering: .acquiring) { return }
                    if spins < Shared.spinLimit {
                        spins += 1
                        if spins & 63 == 0 { sched_yield() }
                    } else {
                        pthread_mutex_lock(mutex)
                        sleepingHelpers += 1
                        while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .acquiring) {
                            pthread_cond_wait(wake, mutex)
                        }
                        sleepingHelpers -= 1
                        pthread_mutex_unlock(mutex)
                    }
                    current = generation.load(ordering: .acquiring)
                }
                seen = current
                let task = self.task!
                let count = iterations
                var i = worker
                while i < count {
                    task.runIteration(i)
                    i += workerCount
                }
                if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    pthread_mutex_lock(mutex)
                    if callerSleeping { pthread_cond_signal(finished) }
                    pthread_mutex_unlock(mutex)
                }
            }
        }

        func shutdown() {
            pthread_mutex_lock(mutex)
            stopping.store(true, ordering: .releasing)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }
    }
}
