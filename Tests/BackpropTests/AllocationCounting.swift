import CAllocationCounter

/// Heap allocations made by the whole process (every thread) while `body` runs, counted by
/// the `CAllocationCounter` interposer.
func processAllocations(_ body: () throws -> Void) rethrows -> UInt64 {
    bp_allocation_counting(1)
    let before = bp_allocation_count()
    defer { bp_allocation_counting(0) }
    try body()
    return UInt64(bp_allocation_count() - before)
}

/// The fewest allocations over three runs of `body`: what a steady-state check asserts on.
/// The counter sees every thread of the test process, and under `swift test --parallel` a
/// libdispatch worker thread of the harness was caught allocating during the window (about one
/// suite run in 15, backtrace through libdispatch's thread start, not through Backprop). A
/// steady-state step is deterministic, so an allocation of ours shows in every run.
func fewestProcessAllocations(_ body: () throws -> Void) rethrows -> UInt64 {
    var fewest = UInt64.max
    for _ in 0..<3 { fewest = min(fewest, try processAllocations(body)) }
    return fewest
}
