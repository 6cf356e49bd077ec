@testable import Backprop
import XCTest

/// The weight-gradient phase's split of the `dW` rows among tasks: complete, ordered, on
/// tile boundaries, and balanced by cost across layers.
final class WeightGradientSplitTests: XCTestCase {
    /// The cost (Σ rows × inputs) task `p` gets.
    private func cost(_ split: WeightGradientSplit, sizes: [Int], task p: Int) -> Int {
        (0..<(sizes.count - 1)).reduce(0) { $0 + (split.boundaries[$1][p + 1] - split.boundaries[$1][p]) * sizes[$1] }
    }

    func testEveryRowOnceOnTileBoundaries() {
        for sizes in [[784, 1024, 1024, 10], [784, 256, 256, 10], [4096, 4096, 4096, 10], [3, 5, 1], [97, 1, 97]] {
            for tasks in [1, 2, 3, 7, 16] {
                for granularity in [1, 4, 6, 8] {
                    let split = WeightGradientSplit(sizes: sizes, tasks: tasks, granularity: granularity)
                    XCTAssertEqual(split.boundaries.count, sizes.count - 1)
                    for (l, cuts) in split.boundaries.enumerated() {
                        XCTAssertEqual(cuts.count, tasks + 1)
                        XCTAssertEqual(cuts.first, 0)
                        XCTAssertEqual(cuts.last, sizes[l + 1], "\(sizes) layer \(l): every row")
                        XCTAssertEqual(cuts, cuts.sorted(), "\(sizes) layer \(l): ordered")
                        for cut in cuts where cut != sizes[l + 1] {
                            XCTAssertEqual(cut % granularity, 0, "\(sizes) layer \(l) tasks \(tasks): cut \(cut) inside a tile")
                        }
                    }
                }
            }
        }
    }

    /// Each share is within half a tile of rows (of the widest layer) of its target at either
    /// end. Config B at 2 tasks: the per-layer split this replaced (504/520 rows of each layer,
    /// the 10-row layer to one task) was 39,168 multiply-adds per sample out of balance (4%).
    func testBalancedAcrossLayers() {
        for (sizes, tasks) in [([784, 1024, 1024, 10], 2), ([784, 1024, 1024, 10], 16), ([4096, 4096, 4096, 10], 2),
                               ([784, 256, 256, 10], 2), ([784, 256, 256, 10], 3)] {
            let granularity = 8
            let split = WeightGradientSplit(sizes: sizes, tasks: tasks, granularity: granularity)
            let costs = (0..<tasks).map { cost(split, sizes: sizes, task: $0) }
            let total = (0..<(sizes.count - 1)).reduce(0) { $0 + sizes[$1 + 1] * sizes[$1] }
            XCTAssertEqual(costs.reduce(0, +), total)
            let tolerance = 2 * granularity * sizes.dropLast().max()!  // each share: half a tile off at each end
            XCTAssertLessThanOrEqual(costs.max()! - costs.min()!, tolerance, "\(sizes) at \(tasks): \(costs)")
        }
        let b = WeightGradientSplit(sizes: [784, 1024, 1024, 10], tasks: 2, granularity: 8)
        XCTAssertEqual(b.boundaries, [[0, 1024, 1024], [0, 128, 1024], [0, 0, 10]])
    }
}
