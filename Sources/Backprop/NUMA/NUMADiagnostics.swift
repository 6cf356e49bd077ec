import Synchronization

/// The one informational line Backprop produces about NUMA, and the hook that receives it.
///
/// When placement falls back to uniform (one node, `numa_available()` < 0, or no
/// libnuma), Backprop never prints: it states why in one line, which is
/// `NUMATopology.note`, `PlacementReport.note`, and is passed once per process to the handler
/// installed here, if any, the first time a `Trainer` resolves its placement.
///
/// ```swift
/// NUMADiagnostics.setHandler { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
/// ```
public enum NUMADiagnostics {
    private static let state = Mutex<(handler: (@Sendable (String) -> Void)?, delivered: Bool)>((nil, false))

    /// Installs `handler` (nil removes it). It is called at most once per process, on the thread
    /// that creates the first `Trainer` whose placement fell back to uniform.
    public static func setHandler(_ handler: (@Sendable (String) -> Void)?) {
        state.withLock { $0.handler = handler }
    }

    /// Passes `line` to the handler unless a line was already delivered (or there is no handler).
    static func deliver(_ line: String) {
        let handler: (@Sendable (String) -> Void)? = state.withLock { state in
            guard !state.delivered, let handler = state.handler else { return nil }
            state.delivered = true
            return handler
        }
        handler?(line)
    }
}
