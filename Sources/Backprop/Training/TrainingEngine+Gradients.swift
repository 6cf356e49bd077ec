// The batch sums of the gradients (by output rows, or the tree reduction), the finiteness
// check and the per-row squares behind the tensor norms.

extension TrainingEngine {
    /// `.threadCountInvariant`: rows `[r0, r1)` of every `dW(l)` and `db(l)`, over the whole batch.
    func computeWeightGradients(task p: Int) {
        let workspace = workers[p].workspace!
        let gradient = gradientBuffers[0]
        var probe: Float = 0
        for l in 0..<layerCount {
            let outputs = sizes[l + 1], inputs = sizes[l]
            let r0 = rowSplit(outputs, p), r1 = rowSplit(outputs, p + 1)
            guard r0 < r1 else { continue }
            let hPrevious = l == 0 ? input! : layerBuffers(l - 1).h
            let delta = layerBuffers(l).delta
            let weight = layout.entries[2 * l], bias = layout.entries[2 * l + 1]
            Kernels.gemm(GEMMProblem(
                m: r1 - r0, n: inputs, k: batchSize,
                a: GEMMOperand(delta + r0, leadingDimension: outputs, transposed: true),
                b: GEMMOperand(hPrevious, leadingDimension: inputs),
                c: gradient + weight.offset + r0 * inputs, cLeadingDimension: inputs),
                workspace: workspace, isa: isa)
            Kernels.columnSums(rows: batchSize, columns: r1 - r0, x: delta + r0, leadingDimension: outputs,
                               into: gradient + bias.offset + r0, accumulate: false, isa: isa)
            probe += finish(entry: 2 * l, rows: r0..<r1)
            probe += finish(entry: 2 * l + 1, rows: r0..<r1)
        }
        taskProbes[p * Self.probeStride] = probe
    }

    /// Boundary `p` of `threads` blocks of `rows` rows, on multiples of 24 rows (a whole number
    /// of the GEMM's register tiles, 4 to 12 rows high): any split gives the same bits.
    @inline(__always)
    func rowSplit(_ rows: Int, _ p: Int) -> Int {
        p >= threads ? rows : rows * p / threads / 24 * 24
    }

    /// `.threadCountInvariant`: `h(l)` and `delta(l)` of the whole batch.
    @inline(__always)
    func layerBuffers(_ l: Int) -> (h: UnsafePointer<Float>, delta: UnsafeMutablePointer<Float>) {
        let (_, h, d) = BatchBuffers.layer(l, base: batchStorage!, capacityRows: batchCapacity, outputSizes: outputSizes)
        return (UnsafePointer(h), d)
    }

    /// `.perWorkerTree`: level `level` of the tree on task `p`'s chunk; the last level also
    /// finishes the chunk's rows.
    func reduce(level: Int, task p: Int) {
        tree.runLevel(level, buffers: gradientBuffers, range: flatBoundaries[p]..<flatBoundaries[p + 1])
        if level == tree.levelCount - 1 { finishRows(task: p) }
    }

    /// Finishes the global rows of task `p` (finiteness probe, squares).
    func finishRows(task p: Int) {
        var probe: Float = 0
        var row = rowBoundaries[p]
        let end = rowBoundaries[p + 1]
        while row < end {
            let e = layout.entryIndex(containingRow: row)
            let entry = layout.entries[e]
            let segmentEnd = min(end, entry.firstRow + entry.tensor.rows)
            probe += finish(entry: e, rows: (row - entry.firstRow)..<(segmentEnd - entry.firstRow))
            row = segmentEnd
        }
        taskProbes[p * Self.probeStride] = probe
    }

    /// For rows `rows` of tensor `entry` of the final gradient: returns 0 when every gradient
    /// is finite (NaN otherwise) and stores each row's sums of squares when norms are requested.
    @inline(__always)
    func finish(entry e: Int, rows: Range<Int>) -> Float {
        let entry = layout.entries[e]
        let columns = entry.tensor.columns
        let offset = entry.offset + rows.lowerBound * columns
        let gradient = gradientBuffers[0] + offset
        let probe = nonFiniteProbe(gradient, count: rows.count * columns)
        if !normRequest.isEmpty {
            let weights = parameters + offset
            for r in 0..<rows.count {
                let globalRow = entry.firstRow + rows.lowerBound + r
                if normRequest.contains(.parameters) {
                    rowSquares[globalRow] = sumOfSquares(weights + r * columns, count: columns)
                }
                if normRequest.contains(.gradients) {
                    rowSquares[layout.rowCount + globalRow] = sumOfSquares(gradient + r * columns, count: columns)
                }
            }
        }
        return probe
    }

    /// The norms of every tensor from the rows' sums of squares, in row order.
    func combineNorms() {
        for (e, entry) in layout.entries.enumerated() {
            var parameterSquares = 0.0, gradientSquares = 0.0
            for row in entry.firstRow..<(entry.firstRow + entry.tensor.rows) {
                parameterSquares += rowSquares[row]
                gradientSquares += rowSquares[layout.rowCount + row]
            }
            norms[e] = TensorNorms(
                parameters: normRequest.contains(.parameters) ? Float(parameterSquares.squareRoot()) : 0,
                gradients: normRequest.contains(.gradients) ? Float(gradientSquares.squareRoot()) : 0)
        }
    }
}
