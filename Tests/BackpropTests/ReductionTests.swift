@testable import Backprop
import XCTest

/// The pairwise tree reduction of the per-worker mode.
final class ReductionTests: XCTestCase {
    /// The tree's order written out independently: level s adds buffer i + 2ˢ into buffer i.
    private func treeOrderSum(_ values: [[Float]], element j: Int) -> Float {
        var partial = values.map { $0[j] }
        var step = 1
        while step < partial.count {
            var i = 0
            while i + step < partial.count {
                partial[i] += partial[i + step]
                i += 2 * step
            }
            step *= 2
        }
        return partial[0]
    }

    private func reduce(_ values: [[Float]], tasks: Int, executor: ParallelExecutor) -> [Float] {
        let length = values[0].count
        let buffers = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: values.count)
        defer { buffers.deallocate() }
        for (i, v) in values.enumerated() {
            (buffers + i).initialize(to: .allocate(capacity: length))
            buffers[i].initialize(from: v, count: length)
        }
        defer { for i in values.indices { buffers[i].deallocate() } }
        TreeReduction(bufferCount: values.count).reduce(buffers: buffers, length: length, tasks: tasks, executor: executor)
        return Array(UnsafeBufferPointer(start: buffers[0], count: length))
    }

    func testLevelCount() {
        XCTAssertEqual((1...9).map { TreeReduction(bufferCount: $0).levelCount }, [0, 1, 2, 2, 3, 3, 3, 3, 4])
    }

    func testEqualsPlainSumAndFixedTreeForOneToNineBuffers() {
        let length = 1003
        for buffers in 1...9 {
            let values = (0..<buffers).map { b in
                TrainerFixture.matrix(rows: 1, columns: length, seed: UInt64(b), scale: 100).values
            }
            for executor in [ParallelExecutor(kind: .workerPool, tasks: 4, cores: 2),
                             ParallelExecutor(kind: .dispatch, tasks: 4, cores: 2)] {
                for tasks in [1, 2, 3, 4] {
                    let result = reduce(values, tasks: tasks, executor: executor)
                    for j in 0..<length {
                        let plain = values.reduce(0.0) { $0 + Double($1[j]) }
                        XCTAssertEqual(Double(result[j]), plain, accuracy: 1e-5 * max(1, abs(plain)) * Double(buffers),
                                       "buffers \(buffers) element \(j)")
                        XCTAssertEqual(result[j].bitPattern, treeOrderSum(values, element: j).bitPattern,
                                       "buffers \(buffers) tasks \(tasks) element \(j)")
                    }
                    // Deterministic: again, bitwise the same.
                    XCTAssertEqual(reduce(values, tasks: tasks, executor: executor).map(\.bitPattern),
                                   result.map(\.bitPattern))
                }
            }
        }
    }

    func testParameterLayoutSplitsWholeRows() {
        let layout = ParameterLayout(sizes: [5, 9, 7, 4])
        XCTAssertEqual(layout.entries.map(\.offset), [0, 48, 64, 128, 144, 176])
        XCTAssertEqual(layout.count, 192)
        XCTAssertEqual(layout.parameterCount, 9 * 5 + 9 + 7 * 9 + 7 + 4 * 7 + 4)
        XCTAssertEqual(layout.rowCount, 9 + 9 + 7 + 7 + 4 + 4)
        for tasks in 1...12 {
            let boundaries = layout.rowBoundaries(tasks: tasks)
            XCTAssertEqual(boundaries.count, tasks + 1)
            XCTAssertEqual(boundaries.first, 0)
            XCTAssertEqual(boundaries.last, layout.rowCount)
            XCTAssertEqual(boundaries, boundaries.sorted())
        }
    }

    /// Aligned to panels: a boundary inside a weight tensor sits a multiple of the panel width
    /// into it (the update repacks whole panels per task); bias rows and tensor ends are free.
    func testWeightBoundariesAlignToPanels() {
        let layout = ParameterLayout(sizes: [784, 256, 256, 10])
        for tasks in 1...16 {
            let boundaries = layout.rowBoundaries(tasks: tasks, weightRowMultiple: 32)
            XCTAssertEqual(boundaries.count, tasks + 1)
            XCTAssertEqual(boundaries.first, 0)
            XCTAssertEqual(boundaries.last, layout.rowCount)
            XCTAssertEqual(boundaries, boundaries.sorted(), "tasks \(tasks)")
            for b in boundaries where b < layout.rowCount {
                let entry = layout.entries[layout.entryIndex(containingRow: b)]
                if entry.tensor.kind == .weight {
                    XCTAssertEqual((b - entry.firstRow) % 32, 0, "tasks \(tasks) boundary \(b)")
                }
            }
        }
        // Unaligned, two tasks cut config A's first weight 172 rows in (not a multiple of 32).
        let plain = layout.rowBoundaries(tasks: 2)[1]
        XCTAssertNotEqual(plain % 32, 0)
        XCTAssertEqual(layout.rowBoundaries(tasks: 2, weightRowMultiple: 32)[1] % 32, 0)
    }
}
