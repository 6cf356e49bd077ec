// mlp-bench: training-step and GEMM benchmarks, and the performance-regression gate.
// The logic lives in BackpropCLI (BenchCommand); this target only links the allocation
// counter, which must never be linked into the library.
import BackpropCLI
import CAllocationCounter
import Foundation

let probe = AllocationProbe(count: { bp_allocation_count() }, setCounting: { bp_allocation_counting($0 ? 1 : 0) })
exit(BenchCommand.main(Array(CommandLine.arguments.dropFirst()), allocationProbe: probe))
