/// Prints `mlp-train`'s progress and per-epoch results.
///
/// - On a terminal (standard error is a TTY): one progress bar line on standard error,
///   redrawn in place with `\r` at most every `terminalInterval` seconds, with samples/s,
///   the running training loss of the epoch and the run's ETA (at the epoch's rate so far).
/// - Otherwise: a plain progress line on standard error after the run's first step and then
///   at most every `plainInterval` seconds.
/// - At each epoch end: the human line (`EpochReport.humanLine`) on standard output, or with
///   `--json` the JSON line on standard output and the human line on standard error.
/// - `--quiet`: no progress and no human lines; `--json` lines are still written.
final class ProgressReporter {
    let console: Console
    let json: Bool
    let quiet: Bool
    /// Seconds between redraws of the terminal progress bar.
    var terminalInterval = 0.1
    /// Seconds between plain progress lines.
    var plainInterval = 10.0

    private let clock = ContinuousClock()
    private var lastDraw: ContinuousClock.Instant?
    private var barVisible = false
    private var printedFirstLine = false
    private var epochStart = ContinuousClock.now
    private var epoch = 0, totalEpochs = 0, epochSamples = 0, startSamples = 0

    init(console: Console, json: Bool, quiet: Bool) {
        self.console = console
        self.json = json
        self.quiet = quiet
    }

    /// A human message (notes, where a checkpoint went): standard output without `--json`,
    /// standard error with it; suppressed by `--quiet` unless `important`.
    func message(_ text: String, important: Bool = false) {
        if quiet && !important { return }
        clearBar()
        if json || important { console.writeError(text + "\n") } else { console.writeOutput(text + "\n") }
    }

    /// An epoch begins: `samples` training samples in all, of which the first `alreadyDone`
    /// were trained on before (a resumed run).
    func beginEpoch(_ epoch: Int, of totalEpochs: Int, samples: Int, alreadyDone: Int) {
        self.epoch = epoch
        self.totalEpochs = totalEpochs
        self.epochSamples = samples
        self.startSamples = alreadyDone
        epochStart = clock.now
        lastDraw = nil
    }

    /// A step finished: `done` of the epoch's samples are trained on, the epoch's running mean
    /// loss is `loss`, at optimizer step `step`.
    func stepFinished(done: Int, loss: Float, step: Int) {
        if quiet { return }
        let now = clock.now
        let interval = console.errorIsTerminal ? terminalInterval : plainInterval
        if printedFirstLine, let last = lastDraw, seconds(now - last) < interval, done < epochSamples { return }
        if !console.errorIsTerminal && printedFirstLine && done >= epochSamples { return }
        lastDraw = now
        printedFirstLine = true
        let elapsed = seconds(now - epochStart)
        let rate = elapsed > 0 ? Double(done - startSamples) / elapsed : 0
        // The whole run's ETA at this epoch's rate: the rest of this epoch and the epochs after it.
        let remaining = Double(epochSamples - done) + Double(max(totalEpochs - epoch, 0)) * Double(epochSamples)
        let eta = rate > 0 ? remaining / rate : .infinity
        let percent = epochSamples > 0 ? Double(done) / Double(epochSamples) : 1
        var line = "epoch \(epoch)/\(totalEpochs) "
        if console.errorIsTerminal {
            let width = 24
            let filled = min(width, Int(percent * Double(width)))
            line += "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "] "
        }
        line += "\(Format.fixed(percent * 100, 0))%  \(done)/\(epochSamples)  step \(step)  "
            + "\(Format.rate(rate)) samples/s  loss \(Format.fixed(loss, 4))  ETA \(Format.duration(eta))"
        if console.errorIsTerminal {
            console.writeError("\r\u{1B}[K" + line)
            barVisible = true
        } else {
            console.writeError(line + "\n")
        }
    }

    /// An epoch ended: prints its results.
    func endEpoch(_ report: EpochReport) {
        clearBar()
        if json { console.writeOutput(report.jsonLine + "\n") }
        if quiet { return }
        if json { console.writeError(report.humanLine + "\n") } else { console.writeOutput(report.humanLine + "\n") }
    }

    /// Erases the progress bar so that the next line starts clean.
    func clearBar() {
        if barVisible {
            console.writeError("\r\u{1B}[K")
            barVisible = false
        }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
