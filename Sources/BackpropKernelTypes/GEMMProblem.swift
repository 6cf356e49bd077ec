/// One operand of a matrix product, stored row-major.
///
/// `op(X)` is `X` itself when `transposed` is false, else `Xᵀ`. `leadingDimension` is the
/// distance in elements between the starts of consecutive stored rows (at least the stored
/// row length).
public struct GEMMOperand {
    /// First element of the stored matrix.
    public var base: UnsafePointer<Float>
    /// Elements between consecutive stored rows.
    public var leadingDimension: Int
    /// Whether the product uses the transpose of the stored matrix.
    public var transposed: Bool

    /// The stored matrix at `base`, rows `leadingDimension` apart; `op(X) = Xᵀ` when `transposed`.
    public init(_ base: UnsafePointer<Float>, leadingDimension: Int, transposed: Bool = false) {
        self.base = base
        self.leadingDimension = leadingDimension
        self.transposed = transposed
    }
}

/// What happens to each finished block of `C` while it is still in cache (the kernels apply
/// it to each register tile right after its last multiply-add). Elementwise, so it never
/// changes the determinism of `GEMMProblem`. `output`, `preActivation` and `activationValues`
/// are indexed like `C` (row `i`, column `j`) with their own leading dimension.
public enum GEMMEpilogue {
    /// Nothing: `C` holds the product.
    case none
    /// Forward layer: `C[i,j] += bias[j]` (when `bias` is non-nil), then
    /// `output[i,j] = f(C[i,j])` (when `output` is non-nil). `C` keeps the pre-activation.
    case biasActivation(bias: UnsafePointer<Float>?, activation: Activation,
                        output: UnsafeMutablePointer<Float>?, outputLeadingDimension: Int)
    /// Backward error propagation: `C[i,j] *= f'(a[i,j])`, where `preActivation` holds `a`
    /// and `activation` holds `h = f(a)`, both with leading dimension `leadingDimension`.
    case activationDerivative(activation: Activation, preActivation: UnsafePointer<Float>,
                              activationValues: UnsafePointer<Float>, leadingDimension: Int)
}

/// `C[m×n] = op(A)[m×k]·op(B)[k×n]` (plus the old `C` when `accumulate`), then the epilogue.
///
/// Shapes: `op(A)` is `A` (stored `m × k`) or `Aᵀ` (stored `k × m`), `op(B)` is `B` (stored
/// `k × n`) or `Bᵀ` (stored `n × k`); all row-major with the operands' leading dimensions, and
/// `C` row-major with `cLeadingDimension ≥ n`. Training uses three forms: forward
/// `A = H·Wᵀ` (`b.transposed`), propagation `delta·W` (neither) and weight gradient
/// `deltaᵀ·H` (`a.transposed`). Only `C[i, 0..<n]` of each row is written.
///
/// Edge cases: `m`, `n` or `k` may be any non-negative size; with `m == 0` or `n == 0`
/// nothing is touched; with `k == 0` the product is zero (so `C` becomes `0`, or stays as it
/// was with `accumulate`) and the epilogue still runs.
///
/// Determinism contract (the trainer relies on it): each `C[i,j]` is one multiply-add chain
/// over `k` in increasing order, starting from the old `C[i,j]` (with `accumulate`) or from
/// zero. The kernel works in blocks of `k` of a fixed size per instruction set; between
/// blocks the running sum is stored in `C` as a `Float` and reloaded, which changes nothing.
/// So, for a given instruction set, `C[i,j]` depends only on row `i` of `op(A)`, column `j`
/// of `op(B)` and the old `C[i,j]`: bitwise independent of `m`, `n`, which other rows or
/// columns share the call, and how a caller splits `m` or `n` across calls or threads.
/// Different instruction sets may round differently (FMA or not).
public struct GEMMProblem {
    /// Rows of `C` and of `op(A)`.
    public var m: Int
    /// Columns of `C` and of `op(B)`.
    public var n: Int
    /// Columns of `op(A)`, rows of `op(B)`: the length of each multiply-add chain.
    public var k: Int
    /// The left operand, `op(A)` of `m × k`.
    public var a: GEMMOperand
    /// The right operand, `op(B)` of `k × n`.
    public var b: GEMMOperand
    /// `C[0,0]`; row `i` starts at `c + i·cLeadingDimension`.
    public var c: UnsafeMutablePointer<Float>
    /// Elements between consecutive rows of `C` (at least `n`).
    public var cLeadingDimension: Int
    /// Whether the product is added to the old `C` (`C += op(A)·op(B)`) instead of replacing it.
    public var accumulate: Bool
    /// What happens to each finished tile of `C`.
    public var epilogue: GEMMEpilogue
    /// `op(B)` already packed (by `Kernels.packB`, for this `k` and `n`, on the same instruction
    /// set), or `nil`: the GEMM then reads these panels instead of packing `b` itself. Callers
    /// that multiply many row blocks by one `B` from many threads (every worker's shard by the
    /// same weights) pack it once. Ignored, and `b` packed as usual, when the GEMM tiles `Cᵀ`
    /// (fewer columns than `Kernels.tileColumns`). Never changes results.
    public var packedB: UnsafePointer<Float>?

    /// A problem; see the properties.
    public init(m: Int, n: Int, k: Int, a: GEMMOperand, b: GEMMOperand,
                c: UnsafeMutablePointer<Float>, cLeadingDimension: Int,
                accumulate: Bool = false, epilogue: GEMMEpilogue = .none,
                packedB: UnsafePointer<Float>? = nil) {
        self.m = m; self.n = n; self.k = k
        self.a = a; self.b = b
        self.c = c; self.cLeadingDimension = cLeadingDimension
        self.accumulate = accumulate
        self.epilogue = epilogue
        self.packedB = packedB
    }
}
