import CBackpropSupport

/// The CPU affinity of the calling thread, and pinning that is always undone.
///
/// Backprop pins the threads it starts for their whole life; a thread it borrows (the thread
/// that calls `Trainer.step`, a Dispatch pool thread) is pinned only inside a region and gets
/// its previous affinity back at the end, so nothing leaks into the caller's threads.
public enum ThreadAffinity {
    /// The CPUs the calling thread may run on, ascending (empty when they cannot be read).
    public static func current() -> [Int] {
        guard let mask = bp_affinity_create() else { return [] }
        defer { bp_affinity_destroy(mask) }
        let count = Int(bp_affinity_cpus(mask, nil, 0))
        var cpus = [Int32](repeating: 0, count: count)
        _ = bp_affinity_cpus(mask, &cpus, Int32(count))
        return cpus.map(Int.init)
    }

    /// The CPU the calling thread is running on now, or nil.
    public static func currentCPU() -> Int? {
        let cpu = bp_current_cpu()
        return cpu >= 0 ? Int(cpu) : nil
    }

    /// Runs `body` with the calling thread pinned to `cpus`, then restores the thread's
    /// previous affinity (also when `body` throws). When the pin is refused (a CPU outside the
    /// process's cpuset, say) `body` runs unpinned.
    public static func withPinned<R>(to cpus: [Int], _ body: () throws -> R) rethrows -> R {
        let pin = ThreadPin()
        pin?.pin(to: cpus)
        defer { pin?.restore() }
        return try body()
    }
}

/// Saves a thread's affinity, pins it, restores it; the masks are allocated once, so `pin`
/// and `restore` allocate nothing. Used by one thread at a time.
final class ThreadPin: @unchecked Sendable {
    private let saved: OpaquePointer
    private let scratch: OpaquePointer
    /// Whether `pin` changed the affinity (and `restore` must undo it).
    private(set) var isPinned = false

    init?() {
        guard let saved = bp_affinity_create() else { return nil }
        guard let scratch = bp_affinity_create() else {
            bp_affinity_destroy(saved)
            return nil
        }
        self.saved = saved
        self.scratch = scratch
    }

    deinit {
        bp_affinity_destroy(saved)
        bp_affinity_destroy(scratch)
    }

    /// Saves the calling thread's affinity and pins it to `cpu`. False when refused.
    @discardableResult
    func pin(to cpu: Int) -> Bool {
        var one = Int32(cpu)
        return pin(&one, count: 1)
    }

    /// Saves the calling thread's affinity and pins it to `cpus`. False when refused.
    @discardableResult
    func pin(to cpus: [Int]) -> Bool {
        let list = cpus.map(Int32.init)
        return list.withUnsafeBufferPointer { pin($0.baseAddress, count: list.count) }
    }

    private func pin(_ cpus: UnsafePointer<Int32>?, count: Int) -> Bool {
        precondition(!isPinned, "ThreadPin.pin called twice without restore")
        guard let cpus, count > 0, bp_affinity_save(saved) == 0 else { return false }
        isPinned = bp_affinity_pin(scratch, cpus, Int32(count)) == 0
        return isPinned
    }

    /// Gives the calling thread back the affinity saved by `pin` (nothing if `pin` failed).
    func restore() {
        guard isPinned else { return }
        _ = bp_affinity_restore(saved)
        isPinned = false
    }
}
