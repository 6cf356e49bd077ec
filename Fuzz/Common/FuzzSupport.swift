// Shared by every fuzz target (scripts/fuzz compiles it with the target's own file).
@testable import Backprop

/// The path every fuzz target gives the parsers: each error must name it.
let fuzzPath = "/fuzz/input"

/// The fuzzer's input as an array.
func fuzzBytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// Runs `body` on one input. Refusing the input with a `DataError` that names `fuzzPath` on one
/// line is correct; any other error is a finding and traps (so libFuzzer saves the input).
/// Returns the result, or `nil` when the input was refused.
func parse<T>(_ what: String, _ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch let error as DataError {
        precondition(error.file == fuzzPath, "\(what): the DataError names '\(error.file)', not the input's path")
        precondition(!error.description.contains("\n"), "\(what): the DataError's description is not one line")
        return nil
    } catch {
        fatalError("\(what): threw \(type(of: error)) '\(error)' instead of a DataError naming the file")
    }
}

/// Traps with `message` unless `condition` holds: an invariant of a successful parse.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    precondition(condition, message())
}

/// The product of `dims`, or `nil` when a partial product (zeros ignored) overflows `Int`.
func checkedProduct(_ dims: [Int]) -> Int? {
    var product = 1
    var zero = false
    for d in dims {
        if d == 0 { zero = true; continue }
        let (p, overflow) = product.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        product = p
    }
    return zero ? 0 : product
}
