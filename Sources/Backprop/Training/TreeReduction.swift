/// The pairwise tree that sums per-worker gradient buffers in `.perWorkerTree` mode.
///
/// With `S` buffers, level `s` (`0 ≤ s < ⌈log₂ S⌉`) adds buffer `i + 2ˢ` into buffer `i` for
/// every `i` that is a multiple of `2ˢ⁺¹` with `i + 2ˢ < S`; buffer 0 ends up holding the
/// sum. The tree, and so the order of every floating-point addition, depends only on `S`;
/// within a level, the pairs and the element ranges are independent, so a level runs in
/// parallel over chunks of the buffers with bitwise the same result however it is split.
struct TreeReduction: Sendable {
    /// `S`, the buffers summed.
    let bufferCount: Int

    init(bufferCount: Int) {
        precondition(bufferCount >= 1, "a reduction needs at least one buffer")
        self.bufferCount = bufferCount
    }

    /// `⌈log₂ S⌉` (0 for one buffer).
    var levelCount: Int {
        var levels = 0
        while (1 << levels) < bufferCount { levels += 1 }
        return levels
    }

    /// Performs level `level` on elements `range` of every buffer: `buffers[i][range] +=
    /// buffers[i + 2ˢ][range]`.
    func runLevel(_ level: Int, buffers: UnsafePointer<UnsafeMutablePointer<Float>>, range: Range<Int>) {
        let step = 1 << level
        var target = 0
        while target + step < bufferCount {
            Self.add(buffers[target + step] + range.lowerBound, into: buffers[target] + range.lowerBound,
                     count: range.count)
            target += 2 * step
        }
    }

    /// `target[0..<count] += source[0..<count]`.
    @inline(__always)
    static func add(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        for j in 0..<count { target[j] += source[j] }
    }

    /// Sums `buffers[0..<bufferCount]` (each `length` floats) into `buffers[0]`, every level
    /// split into `tasks` element ranges run by `executor`. The trainer runs the same levels
    /// inside its own phases; this entry point is the one the tests drive.
    func reduce(buffers: UnsafePointer<UnsafeMutablePointer<Float>>, length: Int, tasks: Int,
                executor: ParallelExecutor) {
        let task = LevelTask(reduction: self, buffers: buffers, length: length, tasks: tasks)
        for level in 0..<levelCount {
            task.level = level
            executor.run(iterations: tasks, task)
        }
    }

    private final class LevelTask: ParallelTask, @unchecked Sendable {
        let reduction: TreeReduction
        let buffers: UnsafePointer<UnsafeMutablePointer<Float>>
        let length: Int
        let tasks: Int
        var level = 0

        init(reduction: TreeReduction, buffers: UnsafePointer<UnsafeMutablePointer<Float>>, length: Int, tasks: Int) {
            self.reduction = reduction
            self.buffers = buffers
            self.length = length
            self.tasks = tasks
        }

        func runIteration(_ index: Int) {
            reduction.runLevel(level, buffers: buffers,
                               range: (length * index / tasks)..<(length * (index + 1) / tasks))
        }
    }
}
