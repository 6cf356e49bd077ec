#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TEST-ONLY: a deliberate slowdown of `Kernels.gemm`, so that the CI performance gate can
/// prove it notices a slower kernel. Never set it outside that self-test.
///
/// When the environment variable `BACKPROP_KERNEL_SLOWDOWN` holds a number `s > 0` (e.g.
/// `0.3`), every `Kernels.gemm` call afterwards recomputes about `s·m·n` elements of its
/// product (real multiply-adds over the full `k`) into scratch space at the end of the
/// workspace, and discards them: about `s×` extra work, with results unchanged.
/// `Kernels.workspaceCount(for:)` then includes that scratch. The variable is read once,
/// at the first use; unset, empty, unparsable, negative or non-finite means no slowdown.
enum KernelSlowdown {
    /// `s`, or 0 for no slowdown.
    static let factor: Double = {
        guard let raw = getenv("BACKPROP_KERNEL_SLOWDOWN") else { return 0 }
        guard let s = Double(String(cString: raw)), s.isFinite, s > 0 else { return 0 }
        return s
    }()

    /// Rows and columns of the scratch block each recomputation writes.
    static let scratchRows = 64, scratchColumns = 512

    /// Floats of scratch `redo` needs after the kernel's own workspace.
    static func scratchCount(factor: Double = factor) -> Int {
        factor > 0 ? scratchRows * scratchColumns : 0
    }

    /// Recomputes about `factor·m·n` elements of `op(A)·op(B)` (row blocks from row 0,
    /// cycling) into the scratch that follows the kernel workspace, and discards them.
    /// `workspace` holds `Kernels.workspaceCount` floats including `scratchCount(factor:)`.
    static func redo(_ p: GEMMProblem, factor: Double, workspace: UnsafeMutablePointer<Float>,
                     isa: InstructionSet) {
        guard factor > 0, p.m > 0, p.n > 0, p.k > 0 else { return }
        let scratch = workspace + Kernels.kernelWorkspaceCount(for: isa)
        var remaining = Int((factor * Double(p.m) * Double(p.n)).rounded(.up))
        var row = 0
        while remaining > 0 {
            let rows = min(scratchRows, p.m - row, max(1, remaining / p.n))
            let columns = rows == 1 ? min(p.n, remaining) : p.n
            for j0 in stride(from: 0, to: columns, by: scratchColumns) {
                let a = p.a.transposed ? p.a.base + row : p.a.base + row * p.a.leadingDimension
                let b = p.b.transposed ? p.b.base + j0 * p.b.leadingDimension : p.b.base + j0
                let part = GEMMProblem(
                    m: rows, n: min(scratchColumns, columns - j0), k: p.k,
                    a: GEMMOperand(a, leadingDimension: p.a.leadingDimension, transposed: p.a.transposed),
                    b: GEMMOperand(b, leadingDimension: p.b.leadingDimension, transposed: p.b.transposed),
                    c: scratch, cLeadingDimension: scratchColumns)
                Kernels.kernelGEMM(part, workspace: workspace, isa: isa)
            }
            remaining -= rows * columns
            row = (row + rows) % p.m
        }
    }
}
