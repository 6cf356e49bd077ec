#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where a command writes: standard output (data: `--json` lines, per-epoch lines) and
/// standard error (progress, messages, errors), and whether standard error is a terminal
/// (which selects the redrawn progress bar over plain progress lines).
///
/// `Console.standard` writes to the process's descriptors, unbuffered, a whole string per
/// `write(2)` call; `Console.capturing()` keeps the text in memory for tests.
public struct Console: Sendable {
    /// Writes text to standard output.
    public var writeOutput: @Sendable (String) -> Void
    /// Writes text to standard error.
    public var writeError: @Sendable (String) -> Void
    /// Whether standard error is a terminal.
    public var errorIsTerminal: Bool

    public init(writeOutput: @escaping @Sendable (String) -> Void,
                writeError: @escaping @Sendable (String) -> Void,
                errorIsTerminal: Bool) {
        self.writeOutput = writeOutput
        self.writeError = writeError
        self.errorIsTerminal = errorIsTerminal
    }

    /// The process's standard output and standard error.
    public static var standard: Console {
        Console(writeOutput: { writeAll(1, $0) }, writeError: { writeAll(2, $0) },
                errorIsTerminal: isatty(2) == 1)
    }

    /// A console that records what is written; read it back from the returned `CapturedText`.
    public static func capturing(errorIsTerminal: Bool = false) -> (Console, CapturedText) {
        let text = CapturedText()
        let console = Console(writeOutput: { s in text.output.withLock { $0 += s } },
                              writeError: { s in text.error.withLock { $0 += s } },
                              errorIsTerminal: errorIsTerminal)
        return (console, text)
    }

    private static func writeAll(_ descriptor: Int32, _ string: String) {
        var bytes = Array(string.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n } else if n < 0, errno == EINTR { continue } else { return }
            }
        }
    }
}

/// The text a capturing `Console` received.
public final class CapturedText: Sendable {
    let output = Mutex("")
    let error = Mutex("")

    /// Everything written to standard output so far.
    public var standardOutput: String { output.withLock { $0 } }
    /// Everything written to standard error so far.
    public var standardError: String { error.withLock { $0 } }
}
