import Backprop
import XCTest

/// Instruction sets this CPU runs: every kernel test covers each of them.
let supportedISAs = InstructionSet.allCases.filter(\.isSupported)

/// Prints which instruction set the run dispatches to, so that a log (e.g. the qemu
/// `-cpu Haswell` step of scripts/test) shows which kernels ran.
func announceInstructionSets(_ suite: String) {
    print("\(suite): InstructionSet.active = \(InstructionSet.active); supported: "
          + supportedISAs.map(\.rawValue).joined(separator: ", "))
}

/// `count` floats uniform in [-1, 1), reproducible from `seed`.
func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in rng.nextSignedUnitFloat() }
}

/// One product `C = op(A)·op(B)` with its stored operands, leading dimensions possibly
/// larger than the rows they hold (padding filled with values that must never be read).
struct GEMMCase {
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool
    let lda: Int, ldb: Int, ldc: Int
    var a: [Float], b: [Float]
    /// Initial `C`, padding included; the padding must come back unchanged.
    var c: [Float]

    /// A random case; `pad` extra elements on every stored row of A, B and C.
    init(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, pad: Int = 0, seed: UInt64 = 1) {
        self.m = m; self.n = n; self.k = k
        self.transposeA = transposeA; self.transposeB = transposeB
        let aRows = transposeA ? k : m, aColumns = transposeA ? m : k
        let bRows = transposeB ? n : k, bColumns = transposeB ? k : n
        lda = aColumns + pad; ldb = bColumns + pad; ldc = n + pad
        // Padding holds huge values: a kernel that read it would produce visible garbage.
        a = GEMMCase.padded(randomFloats(aRows * aColumns, seed: seed), rows: aRows, columns: aColumns, ld: lda)
        b = GEMMCase.padded(randomFloats(bRows * bColumns, seed: seed &+ 1), rows: bRows, columns: bColumns, ld: ldb)
        c = GEMMCase.padded(randomFloats(m * n, seed: seed &+ 2), rows: m, columns: n, ld: ldc)
    }

    static func padded(_ x: [Float], rows: Int, columns: Int, ld: Int) -> [Float] {
        var out = [Float](repeating: 1e30, count: max(rows * ld, 1))
        for i in 0..<rows { for j in 0..<columns { out[i * ld + j] = x[i * columns + j] } }
        return out
    }

    func opA(_ i: Int, _ l: Int) -> Float { transposeA ? a[l * lda + i] : a[i * lda + l] }
    func opB(_ l: Int, _ j: Int) -> Float { transposeB ? b[j * ldb + l] : b[l * ldb + j] }

    /// `(Σ_l op(A)[i,l]·op(B)[l,j] in Double, Σ_l |op(A)[i,l]·op(B)[l,j]|)`.
    func reference(_ i: Int, _ j: Int) -> (value: Double, magnitude: Double) {
        var sum = 0.0, magnitude = 0.0
        for l in 0..<k {
            let p = Double(opA(i, l)) * Double(opB(l, j))
            sum += p; magnitude += abs(p)
        }
        return (sum, magnitude)
    }

    /// Error bound for an element whose exact value has the given magnitude sum: relative
    /// 1e-5·√k of everything summed (products and the old `C`), about 80·ε·√k.
    func tolerance(magnitude: Double) -> Double {
        1e-5 * Double(max(k, 1)).squareRoot() * magnitude + 1e-30
    }

    /// Runs `Kernels.gemm` on a copy of `c` and returns it.
    func run(isa: InstructionSet, accumulate: Bool, epilogue: (UnsafeMutablePointer<Float>) -> GEMMEpilogue = { _ in .none },
             output: inout [Float]) -> [Float] {
        var result = c
        let workspace = AlignedBuffer(count: Kernels.workspaceCount(for: isa))
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                result.withUnsafeMutableBufferPointer { cp in
                    output.withUnsafeMutableBufferPointer { op in
                        Kernels.gemm(GEMMProblem(m: m, n: n, k: k,
                                                 a: GEMMOperand(ap.baseAddress!, leadingDimension: lda, transposed: transposeA),
                                                 b: GEMMOperand(bp.baseAddress!, leadingDimension: ldb, transposed: transposeB),
                                                 c: cp.baseAddress!, cLeadingDimension: ldc,
                                                 accumulate: accumulate, epilogue: epilogue(op.baseAddress!)),
                                     workspace: workspace.base, isa: isa)
                    }
                }
            }
        }
        return result
    }

    func run(isa: InstructionSet, accumulate: Bool) -> [Float] {
        var unused: [Float] = [0]
        return run(isa: isa, accumulate: accumulate, output: &unused)
    }

    /// The same product split into `rowCuts × columnCuts` blocks, one `Kernels.gemm` call each
    /// on offset pointers; returns the `C` they leave.
    func runSliced(isa: InstructionSet, accumulate: Bool, rowCuts: [Int], columnCuts: [Int]) -> [Float] {
        var result = c
        let workspace = AlignedBuffer(count: Kernels.workspaceCount(for: isa))
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                result.withUnsafeMutableBufferPointer { cp in
                    for (i0, i1) in zip(rowCuts, rowCuts.dropFirst()) {
                        for (j0, j1) in zip(columnCuts, columnCuts.dropFirst()) {
                            let aSlice = ap.baseAddress! + (transposeA ? i0 : i0 * lda)
                            let bSlice = bp.baseAddress! + (transposeB ? j0 * ldb : j0)
                            Kernels.gemm(GEMMProblem(m: i1 - i0, n: j1 - j0, k: k,
                                                     a: GEMMOperand(aSlice, leadingDimension: lda, transposed: transposeA),
                                                     b: GEMMOperand(bSlice, leadingDimension: ldb, transposed: transposeB),
                                                     c: cp.baseAddress! + i0 * ldc + j0, cLeadingDimension: ldc,
                                                     accumulate: accumulate),
                                         workspace: workspace.base, isa: isa)
                        }
                    }
                }
            }
        }
        return result
    }

    /// Elements of `result` outside the reference's tolerance (`op(A)·op(B)`, plus the old `C`
    /// when `accumulate`), plus padding elements of `C` that changed.
    func wrongElements(_ result: [Float], accumulate: Bool) -> Int {
        var failures = 0
        for i in 0..<m {
            for j in 0..<ldc {
                let index = i * ldc + j
                guard j < n else {
                    if result[index].bitPattern != c[index].bitPattern { failures += 1 }
                    continue
                }
                var (expected, magnitude) = reference(i, j)
                if accumulate { expected += Double(c[index]); magnitude += abs(Double(c[index])) }
                if !(abs(Double(result[index]) - expected) <= tolerance(magnitude: magnitude)) { failures += 1 }
            }
        }
        return failures
    }
}

/// Whether `x` and `y` hold the same floats bit for bit.
func bitwiseEqual(_ x: [Float], _ y: [Float]) -> Bool {
    x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern }
}

/// The three products training does, as (transposeA, transposeB, name).
let trainingForms: [(Bool, Bool, String)] = [
    (false, true, "forward H·Wᵀ"), (false, false, "propagation delta·W"), (true, false, "gradient deltaᵀ·H"),
]
