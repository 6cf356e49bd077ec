// This file is compiled three times, once per instruction set (see Package.swift):
// BackpropKernelsAVX512, BackpropKernelsAVX2 and BackpropKernelsPortable hold symbolic
// links to it. Each module exports the same names; Backprop picks one at run time.
import BackpropKernelTypes

/// Floats of scratch space `gemm` needs for its packed panels.
public let gemmWorkspaceCount: Int = 0

/// Computes the `GEMMProblem` (see its documentation): `C = op(A)·op(B) (+ C)`, then the epilogue.
/// `workspace` must hold `gemmWorkspaceCount` floats, 64-byte aligned, owned by the caller's thread.
public func gemm(_ p: GEMMProblem, workspace: UnsafeMutablePointer<Float>) {
    // Reference implementation (placeholder until the blocked kernel lands).
    let lda = p.a.leadingDimension, ldb = p.b.leadingDimension
    for i in 0..<p.m {
        for j in 0..<p.n {
            var sum: Float = 0
            for l in 0..<p.k {
                let x = p.a.transposed ? p.a.base[l * lda + i] : p.a.base[i * lda + l]
                let y = p.b.transposed ? p.b.base[j * ldb + l] : p.b.base[l * ldb + j]
                sum += x * y
            }
            let c = p.c + i * p.cLeadingDimension + j
            c.pointee = p.accumulate ? c.pointee + sum : sum
        }
    }
    applyEpilogue(p.epilogue, rows: 0..<p.m, columns: 0..<p.n, c: p.c, ldc: p.cLeadingDimension)
}

/// Applies `epilogue` to the block `rows × columns` of `C`.
@inline(__always)
func applyEpilogue(_ epilogue: GEMMEpilogue, rows: Range<Int>, columns: Range<Int>,
                   c: UnsafeMutablePointer<Float>, ldc: Int) {
    switch epilogue {
    case .none:
        return
    case .biasActivation(let bias, let f, let output, let ldo):
        for i in rows {
            let row = c + i * ldc
            if let bias { for j in columns { row[j] += bias[j] } }
            if let output {
                let out = output + i * ldo
                for j in columns { out[j] = f(row[j]) }
            }
        }
    case .activationDerivative(let f, let a, let h, let ld):
        for i in rows {
            let row = c + i * ldc
            for j in columns { row[j] *= f.derivative(preActivation: a[i * ld + j], activation: h[i * ld + j]) }
        }
    }
}

/// `out[j] = Σ_i X[i,j]` over `rows` rows (plus the old `out[j]` when `accumulate`), summed
/// in increasing `i`: the bias gradient `dLoss/db = Σ delta`.
public func columnSums(rows: Int, columns: Int, x: UnsafePointer<Float>, leadingDimension ld: Int,
                       into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
    if !accumulate { out.update(repeating: 0, count: columns) }
    for i in 0..<rows {
        let row = x + i * ld
        for j in 0..<columns { out[j] += row[j] }
    }
}
