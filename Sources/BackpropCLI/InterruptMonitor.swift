import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Turns SIGINT and SIGTERM into a flag the training loop polls between steps.
///
/// While started, the signals' default action is replaced: a `DispatchSource` receives each
/// one on a dispatch queue (never in signal-handler context) and stores its number in an
/// `Atomic`. The first signal only sets the flag, so the current step finishes and a
/// checkpoint is saved; a second SIGINT or SIGTERM restores the default action and re-raises
/// it, ending the process at once for a user who does not want to wait. `stop()` restores the
/// default actions.
final class InterruptMonitor: @unchecked Sendable {
    /// The signal received (SIGINT or SIGTERM), or 0. Read with `receivedSignal`.
    private let received = Atomic<Int32>(0)
    // Written only by start() and stop(), which are called from one thread.
    private var sources: [any DispatchSourceSignal] = []

    init() {}

    /// The first signal received since `start()`, or `nil`.
    var receivedSignal: Int32? {
        let s = received.load(ordering: .acquiring)
        return s == 0 ? nil : s
    }

    /// Starts catching SIGINT and SIGTERM.
    func start() {
        guard sources.isEmpty else { return }
        for number in [SIGINT, SIGTERM] {
            _ = signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let (exchanged, _) = self.received.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
                if !exchanged {
                    // A second signal: give up at once, with the signal's own exit status.
                    _ = signal(number, SIG_DFL)
                    raise(number)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops catching the signals and restores their default actions.
    func stop() {
        for source in sources { source.cancel() }
        sources.removeAll()
        _ = signal(SIGINT, SIG_DFL)
        _ = signal(SIGTERM, SIG_DFL)
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
