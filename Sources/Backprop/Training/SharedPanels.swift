/// Right operands of the step's GEMMs packed once into the GEMM's panel order and read by
/// every worker (`TrainerOptions.Packing.shared`).
///
/// - Weights: forward `W(l)ᵀ` (`k = in`, `n = out`) and propagation `W(l)` (`k = out`,
///   `n = in`, layers above the first); packed in a phase before the shards when stale, and
///   otherwise row by row as the update phase writes them (`packWeightRows`).
/// - Activations, before the weight gradients (`.threadCountInvariant`): `h(l-1)` of the whole
///   batch (`k = batch`, `n = in`) for `dW(l) = delta(l)ᵀ·h(l-1)`.
///
/// Only products with at least `Kernels.tileColumns` columns read panels (the GEMM tiles
/// narrower ones transposed). Each phase splits every operand's panels evenly over the tasks.
struct SharedPanels {
    /// One packed operand, at `offset` in the storage.
    struct Operand {
        var layer: Int
        var k: Int, n: Int
        var offset: Int
        var panels: Int
    }

    /// `forward[l]`, `propagation[l]`: the operand of layer `l`'s product, or nil.
    let forward: [Operand?]
    let propagation: [Operand?]
    /// Floats of the weights' operands; the activations' follow them.
    let weightCount: Int
    let sizes: [Int]
    let isa: InstructionSet
    let wide: Int

    /// The weights' operands of `sizes` (input first) on `isa`.
    init(sizes: [Int], isa: InstructionSet) {
        let wide = Kernels.tileColumns(for: isa)
        var offset = 0
        func operand(_ layer: Int, k: Int, n: Int) -> Operand? {
            guard n >= wide, k > 0 else { return nil }
            let o = Operand(layer: layer, k: k, n: n, offset: offset, panels: Kernels.panelCount(n: n, isa: isa))
            offset += Self.aligned(Kernels.packedBCount(k: k, n: n, isa: isa))
            return o
        }
        let layers = 0..<(sizes.count - 1)
        forward = layers.map { operand($0, k: sizes[$0], n: sizes[$0 + 1]) }
        propagation = layers.map { $0 == 0 ? nil : operand($0, k: sizes[$0 + 1], n: sizes[$0]) }
        weightCount = offset
        self.sizes = sizes
        self.isa = isa
        self.wide = wide
    }

    /// Whole 64-byte lines.
    private static func aligned(_ count: Int) -> Int { (count + 15) / 16 * 16 }

    /// The activations' operand of layer `l` for a batch of `batch` rows: `h(l-1)`, `k = batch`,
    /// `n = in(l)`; placed after the weights' and the lower layers'. Allocates nothing.
    func gradient(_ l: Int, batch: Int) -> Operand? {
        guard sizes[l] >= wide, batch > 0 else { return nil }
        var offset = weightCount
        for below in 0..<l where sizes[below] >= wide {
            offset += Self.aligned(Kernels.packedBCount(k: batch, n: sizes[below], isa: isa))
        }
        return Operand(layer: l, k: batch, n: sizes[l], offset: offset, panels: Kernels.panelCount(n: sizes[l], isa: isa))
    }

    /// Floats of storage for the weights' operands and, for `batch` rows, the activations'.
    func count(batch: Int) -> Int {
        guard let top = (0..<(sizes.count - 1)).last(where: { sizes[$0] >= wide }),
              let last = gradient(top, batch: batch) else { return weightCount }
        return last.offset + Self.aligned(Kernels.packedBCount(k: batch, n: last.n, isa: isa))
    }

    /// Packs rows `rows` of `W(layer)` (`out × in` at `weight`) into both of its operands: columns
    /// `rows` of the forward `W(l)ᵀ` and steps `rows` of the propagation `W(l)`. The update phase
    /// calls it for the rows it has just written, so the panels stay current with no pass over
    /// the weights of their own. Disjoint row ranges may be packed by different threads at once.
    func packWeightRows(layer l: Int, rows: Range<Int>, weight: UnsafePointer<Float>,
                        storage: UnsafeMutablePointer<Float>) {
        if let operand = forward[l] {
            Kernels.packB(GEMMOperand(weight, leadingDimension: sizes[l], transposed: true), k: operand.k, n: operand.n,
                          steps: 0..<operand.k, columns: rows, into: storage + operand.offset, isa: isa)
        }
        if let operand = propagation[l] {
            Kernels.packB(GEMMOperand(weight, leadingDimension: sizes[l]), k: operand.k, n: operand.n,
                          steps: rows, columns: 0..<operand.n, into: storage + operand.offset, isa: isa)
        }
    }

    /// Task `p` of `tasks` packs its share of `operand`'s panels of `b` into `storage`.
    static func pack(_ operand: Operand?, task p: Int, of tasks: Int, storage: UnsafeMutablePointer<Float>,
                     isa: InstructionSet, b: GEMMOperand) {
        guard let operand else { return }
        let panels = (operand.panels * p / tasks)..<(operand.panels * (p + 1) / tasks)
        guard !panels.isEmpty else { return }
        Kernels.packB(b, k: operand.k, n: operand.n, panels: panels, into: storage + operand.offset, isa: isa)
    }
}
