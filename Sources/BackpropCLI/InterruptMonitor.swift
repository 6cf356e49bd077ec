#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The signal number the handler received (SIGINT or SIGTERM), or 0. Only the signal handler
/// writes it; the training loop reads it between steps.
private let pendingSignal = Atomic<Int32>(0)

/// The handler `sigaction` installs: records the first signal and returns. Nothing else happens
/// in signal context, except that a second signal restores the default action and re-raises
/// it (both async-signal-safe), ending the process at once for a user who does not want to
/// wait for the checkpoint.
private func recordSignal(_ number: Int32) {
    let (exchanged, _) = pendingSignal.compareExchange(expected: 0, desired: number, ordering: .sequentiallyConsistent)
    if !exchanged {
        _ = signal(number, SIG_DFL)
        _ = raise(number)
    }
}

/// Turns SIGINT and SIGTERM into a flag the training loop polls between steps.
///
/// `start()` installs a `sigaction` handler for both signals that only stores the signal's
/// number in an `Atomic` (the handler is armed when `start()` returns, so no early signal is
/// lost); the loop reads it with `receivedSignal` before each step, so the current step
/// finishes and a checkpoint is saved. A second signal ends the process at once with the
/// signal's default action. `stop()` restores the previous actions. One monitor at a time.
final class InterruptMonitor: @unchecked Sendable {
    // Written only by start() and stop(), which are called from one thread.
    private var previous: [(Int32, sigaction)] = []

    init() {}

    /// The first signal received since `start()`, or `nil`.
    var receivedSignal: Int32? {
        let s = pendingSignal.load(ordering: .sequentiallyConsistent)
        return s == 0 ? nil : s
    }

    /// Starts catching SIGINT and SIGTERM.
    func start() {
        guard previous.isEmpty else { return }
        pendingSignal.store(0, ordering: .sequentiallyConsistent)
        for number in [SIGINT, SIGTERM] {
            var action = sigaction()
            #if canImport(Darwin)
            action.__sigaction_u.__sa_handler = { recordSignal($0) }
            #else
            action.__sigaction_handler.sa_handler = { recordSignal($0) }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            var old = sigaction()
            if sigaction(number, &action, &old) == 0 { previous.append((number, old)) }
        }
    }

    /// Stops catching the signals and restores the actions they had before `start()`.
    func stop() {
        for (number, old) in previous {
            var action = old
            _ = sigaction(number, &action, nil)
        }
        previous.removeAll()
    }

    /// The exit status of a process ended by `signal`: 128 + its number (130 for SIGINT, 143 for SIGTERM).
    static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }

    /// The signal's conventional name.
    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}
