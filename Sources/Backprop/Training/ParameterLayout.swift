/// Where each parameter tensor of an MLP lives in the trainer's flat buffers.
///
/// Tensors are stored back to back in the order `layers[0].weight, layers[0].bias,
/// layers[1].weight, …`, each starting on a 64-byte boundary (the padding between them is
/// zero in every buffer). The same layout serves parameters and gradients; optimizer state
/// is stored without padding, `stateCountPerParameter · count` floats per tensor.
///
/// For splitting work, every tensor is seen as rows: a weight has `outputSize` rows of
/// `inputSize` elements, a bias `outputSize` rows of one element. "Global rows" number the
/// rows of all tensors in storage order.
struct ParameterLayout: Sendable {
    struct Entry: Sendable {
        /// The tensor.
        var tensor: ParameterTensor
        /// Offset of the tensor's element 0 in the flat buffers.
        var offset: Int
        /// Global row of the tensor's row 0.
        var firstRow: Int
        /// Parameters stored before this tensor (its state starts at `stateCount · stateUnits`).
        var stateUnits: Int
    }

    /// The tensors in storage order; entry `2l` is layer `l`'s weight, `2l + 1` its bias.
    let entries: [Entry]
    /// Floats in a flat buffer, padding included.
    let count: Int
    /// Parameters, padding excluded.
    let parameterCount: Int
    /// Global rows.
    let rowCount: Int

    /// Floats per alignment unit (64 bytes).
    static let alignment = 16

    init(sizes: [Int]) {
        var entries: [Entry] = []
        var offset = 0, row = 0, units = 0
        for l in 0..<(sizes.count - 1) {
            let tensors = [ParameterTensor(layer: l, kind: .weight, rows: sizes[l + 1], columns: sizes[l]),
                           ParameterTensor(layer: l, kind: .bias, rows: sizes[l + 1], columns: 1)]
            for tensor in tensors {
                entries.append(Entry(tensor: tensor, offset: offset, firstRow: row, stateUnits: units))
                offset += (tensor.count + Self.alignment - 1) / Self.alignment * Self.alignment
                row += tensor.rows
                units += tensor.count
            }
        }
        self.entries = entries
        count = offset
        parameterCount = units
        rowCount = row
    }

    /// Index of the entry holding global row `row`.
    @inline(__always)
    func entryIndex(containingRow row: Int) -> Int {
        var e = entries.count - 1
        while entries[e].firstRow > row { e -= 1 }
        return e
    }

    /// Flat offset of global row `row` (`count` for `row == rowCount`).
    func offset(ofRow row: Int) -> Int {
        guard row < rowCount else { return count }
        let entry = entries[entryIndex(containingRow: row)]
        return entry.offset + (row - entry.firstRow) * entry.tensor.columns
    }

    /// `tasks + 1` global-row boundaries that split the parameters into `tasks` ranges of
    /// whole rows with about equal numbers of elements (some may be empty). With
    /// `weightRowMultiple` above 1, a boundary inside a weight tensor moves to the nearest
    /// multiple of that many rows into the tensor (or its end): the update phase repacks a
    /// weight's rows in groups of a panel's width, and two tasks writing parts of one panel
    /// would share every cache line of it.
    func rowBoundaries(tasks: Int, weightRowMultiple multiple: Int = 1) -> [Int] {
        var prefix = [0]
        prefix.reserveCapacity(rowCount + 1)
        for entry in entries {
            for _ in 0..<entry.tensor.rows { prefix.append(prefix[prefix.count - 1] + entry.tensor.columns) }
        }
        let total = prefix[rowCount]
        var boundaries = [0]
        var row = 0
        for p in 1..<tasks {
            let target = total * p / tasks
            while row < rowCount && prefix[row] < target { row += 1 }
            boundaries.append(aligned(row, toMultipleOf: multiple))
        }
        boundaries.append(rowCount)
        return boundaries
    }

    /// `row`, or, inside a weight tensor, the nearest multiple of `multiple` rows into it (its
    /// end at most).
    private func aligned(_ row: Int, toMultipleOf multiple: Int) -> Int {
        guard multiple > 1, row < rowCount else { return row }
        let entry = entries[entryIndex(containingRow: row)]
        guard entry.tensor.kind == .weight else { return row }
        let local = row - entry.firstRow
        return entry.firstRow + min((local + multiple / 2) / multiple * multiple, entry.tensor.rows)
    }
}
