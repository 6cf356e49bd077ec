import Backprop
import Foundation

/// `mlp-train`: trains an MLP on MNIST-style, NPY or CSV data from the command line.
///
/// All of the tool is here, so that it is testable in-process; `Sources/mlp-train/main.swift`
/// only calls `TrainCommand.main(_:)` and exits with its status. See `TrainOptions.helpText`.
public enum TrainCommand {
    /// Runs `mlp-train` with `arguments` (without the program name) on the process's standard
    /// output and error, catching SIGINT and SIGTERM while training.
    /// - Returns: the exit status: 0 when done, 1 for a data or runtime error, 2 for a usage
    ///   error, 130 after SIGINT and 143 after SIGTERM (once the checkpoint is saved).
    public static func main(_ arguments: [String]) -> Int32 {
        main(arguments, console: .standard, catchSignals: true)
    }

    /// Runs `mlp-train` with `arguments` on `console`; `catchSignals` installs the SIGINT and
    /// SIGTERM handling for the duration of training. Never traps on bad input: every fault
    /// prints one line `mlp-train: …` on standard error and returns its exit status.
    public static func main(_ arguments: [String], console: Console, catchSignals: Bool) -> Int32 {
        do {
            let options = try TrainOptions.parse(arguments)
            if options.help {
                console.writeOutput(TrainOptions.helpText + "\n")
                return 0
            }
            let run = TrainRun(options: options, arguments: arguments, console: console, catchSignals: catchSignals)
            return try run.execute()
        } catch {
            console.writeError("mlp-train: \(error)" + (error.isUsageError ? " (see mlp-train --help)" : "") + "\n")
            return error.exitStatus
        }
    }
}
