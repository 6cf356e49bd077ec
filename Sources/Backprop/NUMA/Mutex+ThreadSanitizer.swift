import CBackpropSupport
import Synchronization

extension Mutex where Value: ~Copyable {
    /// `withLock`, with the lock's hand-over from one holder to the next made visible to
    /// ThreadSanitizer (`swift build --sanitize=thread`); exactly `withLock` otherwise, plus two
    /// calls of empty C functions.
    ///
    /// Why: on Linux a contended `Mutex` is handed over inside libswiftSynchronization (a spin,
    /// then a priority-inheritance futex), which is not instrumented, so TSan sees no
    /// happens-before edge between one holder's writes and the next holder's reads and reports
    /// a race on every contended hand-over. (A two-thread program that inserts 20 000 keys
    /// each into a `Mutex`-guarded dictionary gets about ten such reports and the right count,
    /// 40 000; with this method, none.) The annotations state exactly what the lock
    /// guarantees, keyed by the mutex's address, so TSan still checks everything else.
    borrowing func withSanitizedLock<Result: Sendable>(
        _ body: (inout sending Value) throws -> Result
    ) rethrows -> Result {
        // A `Mutex` is never moved while borrowed (it is `@_staticExclusiveOnly`): its
        // address identifies it for as long as anyone can lock it.
        let key = withUnsafePointer(to: self) { UnsafeRawPointer($0) }
        return try withLock { value in
            bp_sanitizer_acquire(key)
            defer { bp_sanitizer_release(key) }
            return try body(&value)
        }
    }
}
