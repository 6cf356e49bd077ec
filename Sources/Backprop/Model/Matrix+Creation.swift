extension Matrix {
    /// A matrix from nested arrays, one inner array per row: `try Matrix([[1, 2], [3, 4]])`
    /// is 2×2. An empty outer array gives a 0×0 matrix; `[[]]` gives 1×0.
    /// - Throws: `BackpropError.shapeMismatch` naming the first row whose length differs from
    ///   row 0's.
    public init(_ rows: [[Float]]) throws {
        let columns = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() where row.count != columns {
            throw BackpropError.shapeMismatch(
                "Matrix rows must have equal lengths: row \(i) has \(row.count) values but row 0 has \(columns)")
        }
        self.init(rows: rows.count, columns: columns)
        for (i, row) in rows.enumerated() {
            row.withUnsafeBufferPointer { src in
                if let s = src.baseAddress { (storage.base + i * columns).update(from: s, count: columns) }
            }
        }
    }

    /// A `rows × columns` matrix of zeros (the same as `Matrix(rows:columns:)`). Negative sizes
    /// are a programming error and trap.
    public static func zeros(rows: Int, columns: Int) -> Matrix {
        Matrix(rows: rows, columns: columns)
    }

    /// A `rows × columns` matrix of values drawn uniformly from `range`, in row-major order,
    /// one `generator.nextUnitFloat()` each: `lower + (upper − lower)·u`, clamped to `range`.
    /// Bitwise the same on every platform for the same generator state. A one-point range
    /// gives that value everywhere; non-finite bounds give non-finite values. Negative sizes
    /// trap, as in `Matrix(rows:columns:)`.
    public static func random(rows: Int, columns: Int, in range: ClosedRange<Float>,
                              generator: inout SplitMix64) -> Matrix {
        var m = Matrix(rows: rows, columns: columns)
        let lower = range.lowerBound, width = range.upperBound - range.lowerBound
        m.withUnsafeMutableBufferPointer { values in
            for i in values.indices {
                let x = lower + width * generator.nextUnitFloat()
                values[i] = min(max(x, range.lowerBound), range.upperBound)
            }
        }
        return m
    }

    /// The rows as nested arrays, the inverse of `Matrix(_:)` (a matrix with no rows gives `[]`).
    public var rowArrays: [[Float]] {
        (0..<rows).map { row($0) }
    }
}
