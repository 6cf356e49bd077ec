/// The order in which an epoch visits a data set's samples: a fresh uniformly random
/// permutation of `0..<count` per epoch, the same on every platform for the same seed.
///
/// Each epoch shuffles the identity permutation with Fisher–Yates, drawing from a
/// `SplitMix64` with Lemire's bias-free bounded draw (a 64×64→128-bit multiply with
/// rejection), so the whole state is the generator's `state`: save it after an epoch and a
/// shuffler rebuilt with it continues with the same epochs.
public struct EpochShuffler: Sendable, Hashable {
    /// Samples per epoch.
    public let count: Int
    /// The generator's state (`SplitMix64.state`); set it to resume a saved sequence.
    public var state: UInt64

    /// A shuffler for `count` samples (0 gives empty epochs) whose first epoch is determined by
    /// `seed`. A negative `count` is a programming error and traps.
    public init(count: Int, seed: UInt64) {
        precondition(count >= 0, "EpochShuffler count must be non-negative")
        self.count = count
        self.state = seed
    }

    /// The next epoch's permutation of `0..<count`.
    public mutating func nextEpoch() -> [Int] {
        var order: [Int] = []
        nextEpoch(into: &order)
        return order
    }

    /// Writes the next epoch's permutation into `order` (resized to `count`, without
    /// allocating when its capacity suffices): the same permutation `nextEpoch()` returns.
    public mutating func nextEpoch(into order: inout [Int]) {
        if order.count != count {
            order.removeAll(keepingCapacity: true)
            order.append(contentsOf: 0..<count)
        } else {
            for i in 0..<count { order[i] = i }
        }
        var generator = SplitMix64(seed: state)
        var i = count - 1
        while i > 0 {
            let j = Int(Self.uniform(below: UInt64(i + 1), using: &generator))
            order.swapAt(i, j)
            i -= 1
        }
        state = generator.state
    }

    /// A uniform integer in `0..<bound` (`bound > 0`), without modulo bias (Lemire 2019).
    static func uniform(below bound: UInt64, using generator: inout SplitMix64) -> UInt64 {
        var product = generator.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = generator.next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }
}
