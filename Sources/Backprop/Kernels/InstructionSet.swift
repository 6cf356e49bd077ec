import BackpropKernelTypes
import BackpropKernelsAVX2
import BackpropKernelsAVX512
import BackpropKernelsPortable
import CBackpropSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public typealias Activation = BackpropKernelTypes.Activation
public typealias GEMMOperand = BackpropKernelTypes.GEMMOperand
public typealias GEMMEpilogue = BackpropKernelTypes.GEMMEpilogue
public typealias GEMMProblem = BackpropKernelTypes.GEMMProblem

/// The instruction set a kernel was compiled for. Backprop compiles its kernels once per
/// instruction set and picks one at run time.
public enum InstructionSet: String, Sendable, CaseIterable, CustomStringConvertible {
    /// x86-64 with AVX-512 F/CD/BW/DQ/VL (Skylake-SP, Ice Lake, Zen 4 and later).
    case avx512
    /// x86-64 with AVX2 and FMA3 (Haswell, Zen 1 and later).
    case avx2
    /// The architecture's baseline: SSE2 on x86-64, NEON on arm64.
    case portable

    /// Whether this CPU can run kernels compiled for `self`.
    public var isSupported: Bool {
        switch self {
        case .avx512: return bp_cpu_has_avx512() != 0
        case .avx2: return bp_cpu_has_avx2_fma() != 0
        case .portable: return true
        }
    }

    /// The best instruction set this CPU supports, unless the environment variable
    /// `BACKPROP_ISA` (`avx512`, `avx2` or `portable`) names a supported one; an unknown or
    /// unsupported name is ignored.
    public static let active: InstructionSet = select(forced: getenv("BACKPROP_ISA").map { String(cString: $0) })

    /// The instruction set `active` resolves to when `BACKPROP_ISA` is `forced` (`nil`: unset):
    /// the named one, case-insensitively, when this CPU supports it; otherwise `best`.
    static func select(forced: String?, best: InstructionSet = best) -> InstructionSet {
        if let forced, let named = InstructionSet(rawValue: forced.lowercased()), named.isSupported {
            return named
        }
        return best
    }

    /// The fastest instruction set this CPU supports, whatever the environment says.
    public static var best: InstructionSet { allCases.first { $0.isSupported } ?? .portable }

    public var description: String { rawValue }
}

/// The matrix kernels training needs, dispatched to the instruction set's compiled copy.
public enum Kernels {
    /// Floats of per-thread scratch space `gemm` needs for `isa` (plus the test-only
    /// `BACKPROP_KERNEL_SLOWDOWN` scratch when that variable is set; see `KernelSlowdown`).
    public static func workspaceCount(for isa: InstructionSet = .active) -> Int {
        kernelWorkspaceCount(for: isa) + KernelSlowdown.scratchCount()
    }

    /// Floats of packing space the compiled kernel for `isa` needs.
    static func kernelWorkspaceCount(for isa: InstructionSet) -> Int {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.gemmWorkspaceCount
        case .avx2: return BackpropKernelsAVX2.gemmWorkspaceCount
        case .portable: return BackpropKernelsPortable.gemmWorkspaceCount
        }
    }

    /// Rows of the register tile of `isa`'s GEMM: callers that split a product's rows among
    /// threads cut on multiples of it, so no thread computes a partial tile.
    public static func tileRows(for isa: InstructionSet = .active) -> Int {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.gemmTileRows
        case .avx2: return BackpropKernelsAVX2.gemmTileRows
        case .portable: return BackpropKernelsPortable.gemmTileRows
        }
    }

    /// Columns of the register tile of `isa`'s GEMM: products with fewer columns ignore
    /// `GEMMProblem.packedB`.
    public static func tileColumns(for isa: InstructionSet = .active) -> Int {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.gemmTileColumns
        case .avx2: return BackpropKernelsAVX2.gemmTileColumns
        case .portable: return BackpropKernelsPortable.gemmTileColumns
        }
    }

    /// Floats of a whole packed `op(B)` of `k × n` for `isa` (see `packB`).
    public static func packedBCount(k: Int, n: Int, isa: InstructionSet = .active) -> Int {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.gemmPackedBCount(k: k, n: n)
        case .avx2: return BackpropKernelsAVX2.gemmPackedBCount(k: k, n: n)
        case .portable: return BackpropKernelsPortable.gemmPackedBCount(k: k, n: n)
        }
    }

    /// Column panels of an `op(B)` with `n` columns: the units `packB` packs.
    public static func panelCount(n: Int, isa: InstructionSet = .active) -> Int {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.gemmPanelCount(n: n)
        case .avx2: return BackpropKernelsAVX2.gemmPanelCount(n: n)
        case .portable: return BackpropKernelsPortable.gemmPanelCount(n: n)
        }
    }

    /// Packs column panels `panels` (of `panelCount(n:)`) of `op(B)` (`k × n`) into `dst`
    /// (`packedBCount(k:n:)` floats) for `GEMMProblem.packedB`: pack a `B` once, multiply by
    /// it from many threads. Threads may pack disjoint panel ranges at once; panels outside
    /// `0..<panelCount(n:)` are ignored. Allocates nothing.
    public static func packB(_ b: GEMMOperand, k: Int, n: Int, panels: Range<Int>, into dst: UnsafeMutablePointer<Float>,
                             isa: InstructionSet = .active) {
        switch isa {
        case .avx512: BackpropKernelsAVX512.gemmPackB(b, k: k, n: n, panels: panels, into: dst)
        case .avx2: BackpropKernelsAVX2.gemmPackB(b, k: k, n: n, panels: panels, into: dst)
        case .portable: BackpropKernelsPortable.gemmPackB(b, k: k, n: n, panels: panels, into: dst)
        }
    }

    /// Packs the block `op(B)[steps, columns]` (`k × n`) into its place in a whole packed
    /// `op(B)` at `dst` (`packedBCount(k:n:)` floats), as `packB(_:k:n:panels:into:isa:)`
    /// would: blocks that cover `op(B)` pack all of it. Threads may pack disjoint blocks at
    /// once (a trainer packs the rows of `W` each update task has just written). The last
    /// panel's zero padding is written with the blocks that hold column `n − 1`; steps and
    /// columns outside `op(B)` are ignored. Allocates nothing.
    public static func packB(_ b: GEMMOperand, k: Int, n: Int, steps: Range<Int>, columns: Range<Int>,
                             into dst: UnsafeMutablePointer<Float>, isa: InstructionSet = .active) {
        switch isa {
        case .avx512: BackpropKernelsAVX512.gemmPackB(b, k: k, n: n, steps: steps, columns: columns, into: dst)
        case .avx2: BackpropKernelsAVX2.gemmPackB(b, k: k, n: n, steps: steps, columns: columns, into: dst)
        case .portable: BackpropKernelsPortable.gemmPackB(b, k: k, n: n, steps: steps, columns: columns, into: dst)
        }
    }

    /// `C = op(A)·op(B) (+ C)`, then the epilogue (see `GEMMProblem`). `workspace` holds
    /// `workspaceCount(for: isa)` floats, 64-byte aligned, used by one thread at a time.
    /// Allocates nothing. Results are bitwise reproducible for a given `isa` (see `GEMMProblem`).
    /// Test-only: with `BACKPROP_KERNEL_SLOWDOWN=s` set, each call also does about `s×` extra,
    /// discarded work (see `KernelSlowdown`), for the CI performance gate's self-test.
    @inline(__always)
    public static func gemm(_ problem: GEMMProblem, workspace: UnsafeMutablePointer<Float>,
                            isa: InstructionSet = .active) {
        kernelGEMM(problem, workspace: workspace, isa: isa)
        if KernelSlowdown.factor > 0 {
            KernelSlowdown.redo(problem, factor: KernelSlowdown.factor, workspace: workspace, isa: isa)
        }
    }

    /// The compiled kernel for `isa`, without the test-only slowdown.
    @inline(__always)
    static func kernelGEMM(_ problem: GEMMProblem, workspace: UnsafeMutablePointer<Float>, isa: InstructionSet) {
        switch isa {
        case .avx512: BackpropKernelsAVX512.gemm(problem, workspace: workspace)
        case .avx2: BackpropKernelsAVX2.gemm(problem, workspace: workspace)
        case .portable: BackpropKernelsPortable.gemm(problem, workspace: workspace)
        }
    }

    /// `Σ x[i]·0`: `±0` when all `count` floats at `x` are finite, NaN when any is NaN or ±∞.
    @inline(__always)
    public static func nonFiniteProbe(_ x: UnsafePointer<Float>, count: Int, isa: InstructionSet = .active) -> Float {
        switch isa {
        case .avx512: return BackpropKernelsAVX512.nonFiniteProbe(x, count: count)
        case .avx2: return BackpropKernelsAVX2.nonFiniteProbe(x, count: count)
        case .portable: return BackpropKernelsPortable.nonFiniteProbe(x, count: count)
        }
    }

    /// `out[j] (+)= Σ_i X[i,j]`, summed in increasing `i`: the bias gradient `Σ delta`.
    @inline(__always)
    public static func columnSums(rows: Int, columns: Int, x: UnsafePointer<Float>, leadingDimension: Int,
                                  into out: UnsafeMutablePointer<Float>, accumulate: Bool,
                                  isa: InstructionSet = .active) {
        switch isa {
        case .avx512:
            BackpropKernelsAVX512.columnSums(rows: rows, columns: columns, x: x, leadingDimension: leadingDimension,
                                             into: out, accumulate: accumulate)
        case .avx2:
            BackpropKernelsAVX2.columnSums(rows: rows, columns: columns, x: x, leadingDimension: leadingDimension,
                                           into: out, accumulate: accumulate)
        case .portable:
            BackpropKernelsPortable.columnSums(rows: rows, columns: columns, x: x, leadingDimension: leadingDimension,
                                               into: out, accumulate: accumulate)
        }
    }
}
