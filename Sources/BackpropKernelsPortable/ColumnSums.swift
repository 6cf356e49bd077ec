// Column sums: the bias gradient. Compiled once per instruction set, like GEMM.swift.

/// `out[j] = Σ_i X[i,j]` over `rows` rows (plus the old `out[j]` when `accumulate`), summed
/// in increasing `i`: the bias gradient `dLoss/db = Σ delta`. Each column is summed on its
/// own, so `out[j]` does not depend on `columns` or on how a caller splits the columns.
/// `rows == 0` leaves `out` as it was (with `accumulate`) or zero.
public func columnSums(rows: Int, columns: Int, x: UnsafePointer<Float>, leadingDimension ld: Int,
                       into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
    guard columns > 0 else { return }
    if !accumulate { out.update(repeating: 0, count: columns) }
    let w = Vector.scalarCount
    for i in 0..<rows {
        let row = x + i &* ld
        var j = 0
        while j &+ w <= columns {
            storeVector(loadVector(out + j) + loadVector(row + j), out + j)
            j &+= w
        }
        while j < columns { out[j] += row[j]; j &+= 1 }
    }
}
