import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of threads that run the iterations of a parallel loop: worker 0 is the calling
/// thread, workers `1..<workerCount` are threads started once, at `init`.
///
/// Scheduling: iteration `i` belongs to worker `i % workerCount`, which runs its own iterations
/// first (so iteration `p` of every loop normally runs on the same thread, and memory it first
/// touched stays on that thread's NUMA node); a worker that has finished its own iterations
/// takes the ones not yet started from the others. Stealing matters on a busy machine: a
/// descheduled helper then delays a loop by at most the iteration it has started.
///
/// Why not `DispatchQueue.concurrentPerform`: on Linux each call allocates on the heap (two
/// allocations in the Swift overlay, which copies the closure into a block, and about 1.4 in
/// libdispatch's continuation cache when iterations run on several threads), and a training step
/// makes several such calls. This pool allocates nothing after `init`: a job is a task object
/// plus an iteration count, published through atomics; helpers spin briefly and then sleep on a
/// condition variable, so an idle pool costs no CPU. A job is an object rather than a closure
/// because Swift's `withoutActuallyEscaping`, the only way to hand a non-escaping closure to
/// another thread, allocates on every call.
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

    /// Runs `task.runIteration(i)` exactly once for every `i` in `0..<iterations` and returns
    /// when all have finished; writes made by the iterations are then visible to the caller.
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
    ///
    /// Each worker's list of iterations (`list`, `list + W`, `list + 2W`, … below the iteration
    /// count) has a claim counter, one atomic word `job · 2³² + length · 2¹⁶ + claimed`. A claim
    /// is a compare-and-swap that succeeds only while the word carries the claimant's job and
    /// `claimed < length`, both read from the same word; so a helper that wakes up late can never
    /// claim an iteration of another job, nor run past the end of a list. The task is read only
    /// after a successful claim, when the job cannot have ended.
    final class Shared: @unchecked Sendable {
        let workerCount: Int
        /// The job number, bumped (releasing) once the task and the counters describe a new job.
        let generation = Atomic<Int>(0)
        /// Iterations of the current job not yet finished.
        let remaining = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        /// Per worker, a claim counter, one cache line apart (`counterStride`).
        private let counters: UnsafeMutablePointer<Atomic<Int>>
        private static let counterStride = 16
        /// Iterations a list may hold (`length` and `claimed` have 16 bits each).
        static let maximumListLength = (1 << 16) - 1
        /// Written by the caller before it publishes a job; read after a successful claim.
        private unowned(unsafe) var task: (any ParallelTask)?
        private var job = 0
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
            counters = .allocate(capacity: workerCount * Self.counterStride)
            for i in 0..<(workerCount * Self.counterStride) { (counters + i).initialize(to: Atomic(0)) }
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
            counters.deinitialize(count: workerCount * Self.counterStride)
            counters.deallocate()
        }

        func run(task: any ParallelTask, iterations: Int) {
            precondition((iterations + workerCount - 1) / workerCount <= Self.maximumListLength,
                         "too many iterations for one parallel loop")
            job = (job + 1) & 0x7FFF_FFFF  // 31 bits: `job << 32` stays positive
            self.task = task
            remaining.store(iterations, ordering: .relaxed)
            for list in 0..<workerCount {
                let length = list < iterations ? (iterations - list + workerCount - 1) / workerCount : 0
                counters[list * Self.counterStride].store(job << 32 | length << 16, ordering: .releasing)
            }
            generation.store(job, ordering: .releasing)
            pthread_mutex_lock(mutex)
            if sleepingHelpers > 0 { pthread_cond_broadcast(wake) }
            pthread_mutex_unlock(mutex)

            participate(worker: 0, job: job)

            var spins = 0
            while remaining.load(ordering: .acquiring) != 0 {
                if spins < Shared.spinLimit {
                    spins += 1
                    if spins & 63 == 0 { sched_yield() }
                    continue
                }
                pthread_mutex_lock(mutex)
                callerSleeping = true
                while remaining.load(ordering: .acquiring) != 0 { pthread_cond_wait(finished, mutex) }
                callerSleeping = false
                pthread_mutex_unlock(mutex)
            }
        }

        /// Claims and runs iterations of job `job`: worker `worker`'s own first, then the others'.
        private func participate(worker: Int, job: Int) {
            for offset in 0..<workerCount {
                let list = (worker + offset) % workerCount
                let counter = counters + list * Self.counterStride
                var value = counter.pointee.load(ordering: .acquiring)
                while value >> 32 == job {
                    let claimed = value & 0xFFFF
                    guard claimed < (value >> 16) & 0xFFFF else { break }
                    let (exchanged, original) = counter.pointee.compareExchange(
                        expected: value, desired: value + 1, ordering: .acquiringAndReleasing)
                    guard exchanged else {
                        value = original
                        continue
                    }
                    task!.runIteration(list + claimed * workerCount)
                    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 && worker != 0 {
                        pthread_mutex_lock(mutex)
                        if callerSleeping { pthread_cond_signal(finished) }
                        pthread_mutex_unlock(mutex)
                    }
                    value = counter.pointee.load(ordering: .acquiring)
                }
            }
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
                // If a later job has been published meanwhile, every claim tagged `current`
                // fails and the next turn of the loop joins the later job.
                participate(worker: worker, job: current)
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
