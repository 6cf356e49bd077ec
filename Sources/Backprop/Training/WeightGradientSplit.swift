/// Which rows of each `dLoss/dW(l)` (and `dLoss/db(l)`) each task computes in the
/// thread-count-invariant weight-gradient phase, `dW = deltaᵀ·h(l-1)` over the whole batch.
///
/// A row of `dW(l)` costs about `in(l)` multiply-adds per sample, so the tasks get equal
/// shares of `Σ_l out(l)·in(l)`, cut through the layers in order: one task may finish layer
/// `l` and start layer `l+1`. A split per layer would leave the narrow output layer (10 rows)
/// to one task and cut wide layers unevenly. Cuts fall on multiples of `granularity` rows
/// (the GEMM's register-tile height), so no task computes a partial tile; a layer narrower
/// than a tile goes whole to one task.
///
/// The split never changes results: each element of `dW` is one multiply-add chain over the
/// batch whichever task computes it (see `GEMMProblem`).
struct WeightGradientSplit: Equatable {
    /// `boundaries[l]` holds `tasks + 1` non-decreasing row boundaries of layer `l`: task `p`
    /// computes rows `boundaries[l][p] ..< boundaries[l][p + 1]` (often empty).
    let boundaries: [[Int]]

    /// - Parameters:
    ///   - sizes: the layer sizes, input first (`sizes[l]` inputs, `sizes[l+1]` outputs of layer `l`).
    ///   - tasks: the number of tasks (at least 1).
    ///   - granularity: cuts inside a layer are multiples of this many rows (at least 1).
    init(sizes: [Int], tasks: Int, granularity: Int) {
        precondition(tasks >= 1 && granularity >= 1, "WeightGradientSplit: tasks and granularity must be positive")
        let layers = sizes.count - 1
        let total = (0..<layers).reduce(0) { $0 + sizes[$1 + 1] * sizes[$1] }
        var start = 0  // the cost of the layers before `l`
        var boundaries: [[Int]] = []
        for l in 0..<layers {
            let rows = sizes[l + 1], cost = max(sizes[l], 1)
            var cuts = [0]
            for p in 1..<tasks {
                let target = total * p / tasks - start  // cost into this layer where task p starts
                // Nearest multiple of `granularity` to target / cost, clamped to the layer.
                let row = (target * 2 + cost * granularity) / (2 * cost * granularity) * granularity
                cuts.append(target <= 0 ? 0 : min(row, rows))
            }
            cuts.append(rows)
            boundaries.append(cuts)
            start += rows * sizes[l]
        }
        self.boundaries = boundaries
    }
}
