// libFuzzer target: mlp-train's command line. The input is the argument list, the arguments
// separated by NUL bytes (as in /proc/PID/cmdline), each decoded as UTF-8 (invalid bytes
// replaced), given to `TrainOptions.parse`.
import Backprop
import BackpropCLI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCLI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let arguments = fuzzBytes(data, size).split(separator: 0, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    let options: TrainOptions
    do {
        options = try TrainOptions.parse(arguments)
    } catch {
        // Every fault of the arguments is a usage error (exit status 2) with a message.
        check(error.isUsageError, "parse threw a non-usage error: \(error)")
        check(!error.description.isEmpty, "an empty error message")
        return 0
    }
    if options.help { return 0 }
    check(options.layers.map { $0.count >= 2 && $0.allSatisfy { $0 > 0 } } ?? true, "bad layers \(String(describing: options.layers))")
    for n in [options.epochs, options.batchSize, options.threads, options.maxSteps] {
        check((n ?? 1) > 0, "a non-positive count was accepted")
    }
    check(options.learningRate.map { $0.isFinite && $0 > 0 } ?? true, "a bad learning rate was accepted")
    check(options.validationFraction.map { $0 > 0 && $0 < 1 } ?? true, "a bad validation fraction was accepted")
    check(!(options.initPath != nil && options.resumePath != nil), "--init and --resume were both accepted")
    return 0
}
