/// A dense row-major matrix of `Float`s in 64-byte-aligned storage, with value semantics.
///
/// `x[row, column]` reads and writes one element; copies share storage until one is
/// written (copy-on-write). A matrix may have zero rows or zero columns.
public struct Matrix: Sendable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns (also the leading dimension: rows are stored back to back).
    public let columns: Int
    @usableFromInline var storage: AlignedBuffer

    /// A `rows × columns` matrix of zeros. Negative sizes are a programming error and trap.
    public init(rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "Matrix sizes must be non-negative")
        self.rows = rows
        self.columns = columns
        storage = AlignedBuffer(count: rows * columns)
    }

    /// A `rows × columns` matrix holding `values` in row-major order.
    /// - Throws: `BackpropError.shapeMismatch` when `values.count != rows * columns` or a size is negative.
    public init(rows: Int, columns: Int, values: [Float]) throws {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw BackpropError.shapeMismatch(
                "Matrix(rows: \(rows), columns: \(columns)) needs \(max(rows, 0) * max(columns, 0)) values, got \(values.count)")
        }
        self.init(rows: rows, columns: columns)
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { storage.base.update(from: s, count: values.count) }
        }
    }

    /// A `rows × columns` matrix whose element `[i, j]` is `element(i, j)`.
    public init(rows: Int, columns: Int, _ element: (Int, Int) throws -> Float) rethrows {
        self.init(rows: rows, columns: columns)
        for i in 0..<rows {
            for j in 0..<columns { storage.base[i * columns + j] = try element(i, j) }
        }
    }

    /// Number of elements, `rows * columns`.
    @inlinable public var count: Int { rows * columns }

    /// The shape as `(rows, columns)`.
    @inlinable public var shape: (rows: Int, columns: Int) { (rows, columns) }

    /// The element at `row`, `column`. Out-of-range indices trap, as `Array` subscripts do.
    @inlinable
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            return storage.base[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            makeUnique()
            storage.base[row * columns + column] = newValue
        }
    }

    /// All elements in row-major order.
    public var values: [Float] { Array(UnsafeBufferPointer(start: storage.base, count: count)) }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Float] {
        precondition(i >= 0 && i < rows, "Matrix row out of range")
        return Array(UnsafeBufferPointer(start: storage.base + i * columns, count: columns))
    }

    /// Calls `body` with the elements in row-major order.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: count))
    }

    /// Calls `body` with the elements in row-major order, for writing.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: count))
    }

    /// The rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "Matrix row range out of range")
        let out = Matrix(rows: range.count, columns: columns)
        out.storage.base.update(from: storage.base + range.lowerBound * columns, count: range.count * columns)
        return out
    }

    /// The transpose, `columns × rows`.
    public var transposed: Matrix {
        let out = Matrix(rows: columns, columns: rows)
        for i in 0..<rows {
            for j in 0..<columns { out.storage.base[j * rows + i] = storage.base[i * columns + j] }
        }
        return out
    }

    @inlinable
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = AlignedBuffer(count: count)
            copy.base.update(from: storage.base, count: count)
            storage = copy
        }
    }

    /// The largest `|self[i,j] − other[i,j]|`; `.infinity` when the shapes differ.
    public func maxAbsoluteDifference(_ other: Matrix) -> Float {
        guard rows == other.rows, columns == other.columns else { return .infinity }
        var worst: Float = 0
        for i in 0..<count { worst = max(worst, abs(storage.base[i] - other.storage.base[i])) }
        return worst
    }
}

extension Matrix: Equatable {
    /// Equal shapes and elementwise `==` (so a matrix holding NaN is not equal to itself).
    public static func == (lhs: Matrix, rhs: Matrix) -> Bool {
        guard lhs.rows == rhs.rows, lhs.columns == rhs.columns else { return false }
        for i in 0..<lhs.count where lhs.storage.base[i] != rhs.storage.base[i] { return false }
        return true
    }
}

extension Matrix: CustomStringConvertible {
    /// The shape, then the values row by row when there are at most 64 of them:
    /// `Matrix(2×2) [[1.0, 2.0], [3.0, 4.0]]`; larger matrices print their shape only.
    public var description: String {
        let shape = "Matrix(\(rows)×\(columns))"
        guard count <= 64 else { return shape }
        return shape + " " + rowArrays.description
    }
}
