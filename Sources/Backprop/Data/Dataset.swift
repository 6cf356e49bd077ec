/// A data set held in memory: one row of `features` per sample, with class `labels` (for
/// `.softmaxCrossEntropy`) or float `targets` (for `.meanSquaredError`).
///
/// ```swift
/// let (train, test) = try MNISTDirectory.load(MNISTDirectory.fashionMNISTDefault)
/// let (fit, validation) = try train.split(validationFraction: 0.1)
/// ```
public struct Dataset: Sendable {
    /// `count × featureCount` inputs, a row per sample.
    public var features: Matrix
    /// The class label of each sample (`0..<classCount`), or `nil` for a data set with float targets.
    public var labels: [Int]?
    /// `count × outputCount` float targets, a row per sample, or `nil` for a labelled data set.
    public var targets: Matrix?

    /// Number of samples (rows of `features`).
    public var count: Int { features.rows }
    /// Inputs per sample (columns of `features`).
    public var featureCount: Int { features.columns }

    /// A labelled data set.
    /// - Throws: `BackpropError.shapeMismatch` naming both counts when `labels.count !=
    ///   features.rows`; `BackpropError.labelOutOfRange` (with `classes` the would-be
    ///   class count) for a negative label.
    public init(features: Matrix, labels: [Int]) throws {
        guard labels.count == features.rows else {
            throw BackpropError.shapeMismatch("the features have \(features.rows) rows but there are \(labels.count) labels")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 }) {
            throw BackpropError.labelOutOfRange(label: labels[bad], sample: bad, classes: (labels.max() ?? 0) + 1)
        }
        self.features = features
        self.labels = labels
        self.targets = nil
    }

    /// A data set with float targets.
    /// - Throws: `BackpropError.shapeMismatch` naming both row counts when `targets.rows != features.rows`.
    public init(features: Matrix, targets: Matrix) throws {
        guard targets.rows == features.rows else {
            throw BackpropError.shapeMismatch("the features have \(features.rows) rows but the targets have \(targets.rows) rows")
        }
        self.features = features
        self.labels = nil
        self.targets = targets
    }

    /// `max(labels) + 1`; `0` for an empty labelled set; `nil` when there are no labels.
    public var classCount: Int? {
        labels.map { ($0.max() ?? -1) + 1 }
    }

    /// The samples at `indices`, in that order (an index may repeat). An index outside
    /// `0..<count` is a programming error and traps, as an `Array` subscript does.
    public func subset(_ indices: some Collection<Int>) -> Dataset {
        let n = features.columns
        var x = Matrix(rows: indices.count, columns: n)
        var y = targets.map { Matrix(rows: indices.count, columns: $0.columns) }
        let rows = features.rows
        x.withUnsafeMutableBufferPointer { dst in
            features.withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rows, "Dataset.subset: index \(i) out of range 0..<\(rows)")
                    if n > 0 { (dst.baseAddress! + k * n).update(from: src.baseAddress! + i * n, count: n) }
                }
            }
        }
        if let targets, y != nil {
            let m = targets.columns
            y!.withUnsafeMutableBufferPointer { dst in
                targets.withUnsafeBufferPointer { src in
                    for (k, i) in indices.enumerated() where m > 0 {
                        (dst.baseAddress! + k * m).update(from: src.baseAddress! + i * m, count: m)
                    }
                }
            }
        }
        var result = self
        result.features = x
        result.targets = y
        result.labels = labels.map { all in indices.map { all[$0] } }
        return result
    }

    /// Splits off the last `validationFraction` of the rows (rounded to the nearest row) as a
    /// validation set; the rest, in order, is the training set. Deterministic: shuffle first
    /// (with `subset`) for a random split. A fraction of 0 gives an empty validation set.
    /// - Throws: `BackpropError.invalidConfiguration` when the fraction is not in `[0, 1)`
    ///   or leaves no training rows in a non-empty set.
    public func split(validationFraction: Double) throws -> (train: Dataset, validation: Dataset) {
        guard validationFraction >= 0, validationFraction < 1 else {
            throw BackpropError.invalidConfiguration("the validation fraction must be in [0, 1), got \(validationFraction)")
        }
        let validationCount = Int((validationFraction * Double(count)).rounded(.toNearestOrAwayFromZero))
        let trainCount = count - validationCount
        guard trainCount > 0 || count == 0 else {
            throw BackpropError.invalidConfiguration(
                "a validation fraction of \(validationFraction) leaves none of the \(count) samples for training")
        }
        return (subset(0..<trainCount), subset(trainCount..<count))
    }
}
