import Backprop

/// A preallocated batch: `input` rows, labels and (for `.meanSquaredError`) target rows,
/// filled in place from a data set by `gather`, so the training loop allocates nothing per step.
struct BatchBuffer {
    /// The batch's inputs, `rows × featureCount`.
    var input: Matrix
    /// The batch's class labels (labelled data), `rows` of them.
    var labels: [Int]
    /// The batch's float targets, `rows × outputs`: the data set's targets, or the one-hot
    /// encoding of its labels for `.meanSquaredError`; `nil` for cross-entropy.
    var targets: Matrix?

    var rows: Int { input.rows }

    /// A buffer of `rows` samples for `data`; `targetColumns` is the target width when the
    /// loss needs float targets (`nil` for class labels).
    init(rows: Int, featureCount: Int, targetColumns: Int?) {
        input = Matrix(rows: rows, columns: featureCount)
        labels = [Int](repeating: 0, count: rows)
        targets = targetColumns.map { Matrix(rows: rows, columns: $0) }
    }

    /// Copies the samples `order[start ..< start + rows]` of `data` into the buffer.
    /// `order` must hold valid indices of `data`; `data` has labels or targets as the buffer needs.
    mutating func gather(from data: Dataset, order: [Int], start: Int) {
        let n = input.columns
        let count = rows
        order.withUnsafeBufferPointer { order in
            data.features.withUnsafeBufferPointer { src in
                input.withUnsafeMutableBufferPointer { dst in
                    for k in 0..<count {
                        (dst.baseAddress! + k * n).update(from: src.baseAddress! + order[start + k] * n, count: n)
                    }
                }
            }
            if let dataLabels = data.labels {
                dataLabels.withUnsafeBufferPointer { src in
                    labels.withUnsafeMutableBufferPointer { dst in
                        for k in 0..<count { dst[k] = src[order[start + k]] }
                    }
                }
            }
            guard targets != nil else { return }
            let m = targets!.columns
            if let dataTargets = data.targets {
                dataTargets.withUnsafeBufferPointer { src in
                    targets!.withUnsafeMutableBufferPointer { dst in
                        for k in 0..<count {
                            (dst.baseAddress! + k * m).update(from: src.baseAddress! + order[start + k] * m, count: m)
                        }
                    }
                }
            } else {
                labels.withUnsafeBufferPointer { labels in
                    targets!.withUnsafeMutableBufferPointer { dst in
                        dst.update(repeating: 0)
                        for k in 0..<count { dst[k * m + labels[k]] = 1 }
                    }
                }
            }
        }
    }
}
