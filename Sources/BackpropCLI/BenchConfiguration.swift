/// One MLP training setup the benchmark measures: layer sizes, batch and step counts.
public struct BenchConfiguration: Codable, Equatable, Sendable {
    /// Short name: a suite letter (`A`…`D`) or `custom`.
    public var name: String
    /// Layer sizes from input to output, e.g. `[784, 1024, 1024, 10]`.
    public var sizes: [Int]
    /// Samples per step.
    public var batch: Int
    /// Timed steps per repeat.
    public var steps: Int
    /// Untimed steps before the first repeat (each repeat also runs one untimed step first).
    public var warmup: Int

    public init(name: String, sizes: [Int], batch: Int, steps: Int, warmup: Int) {
        self.name = name
        self.sizes = sizes
        self.batch = batch
        self.steps = steps
        self.warmup = warmup
    }

    /// Layer shapes `(input, output)`, one per layer.
    public var layers: [(input: Int, output: Int)] {
        zip(sizes.dropLast(), sizes.dropFirst()).map { (input: $0, output: $1) }
    }

    /// Floating-point operations of one training step: `6 · Σ in·out · batch` (2 each for the
    /// forward product, the error propagation and the weight gradient; the first layer's
    /// propagation, which training skips, is counted too, as is conventional).
    public var flopsPerStep: Double {
        6 * Double(batch) * layers.reduce(0.0) { $0 + Double($1.input) * Double($1.output) }
    }

    /// Floating-point operations a training step really executes: `flopsPerStep` less the
    /// first layer's error propagation (`2 · batch · in₀ · out₀`), which backpropagation never
    /// needs. The fraction of peak is computed from this, so it cannot exceed 1 because of the
    /// counting convention (for A, 784-256-256-10, the convention counts 33% more than runs).
    public var executedFlopsPerStep: Double {
        guard let first = layers.first else { return 0 }
        return flopsPerStep - 2 * Double(batch) * Double(first.input) * Double(first.output)
    }

    /// `784-1024-1024-10`.
    public var sizesDescription: String { sizes.map(String.init).joined(separator: "-") }
}

/// The default benchmark suite, and the quick subset the regression gate runs.
public enum BenchSuite {
    /// A: small; B: MNIST-sized wide; C: B with a large batch; D: wide hidden layers.
    /// Step counts are sized so the whole suite runs in a few minutes on 2 cores.
    public static let all: [BenchConfiguration] = [
        BenchConfiguration(name: "A", sizes: [784, 256, 256, 10], batch: 256, steps: 40, warmup: 5),
        BenchConfiguration(name: "B", sizes: [784, 1024, 1024, 10], batch: 1024, steps: 8, warmup: 2),
        BenchConfiguration(name: "C", sizes: [784, 1024, 1024, 10], batch: 8192, steps: 3, warmup: 1),
        BenchConfiguration(name: "D", sizes: [4096, 4096, 4096, 10], batch: 1024, steps: 3, warmup: 1),
    ]

    /// Names of the configurations the quick gate runs.
    public static let quickNames = ["A", "B"]

    /// The configuration called `name` (case-insensitive).
    public static func configuration(named name: String) -> BenchConfiguration? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }

    /// Thread counts measured by default: 1, the powers of two below `processors`, and `processors`.
    public static func defaultThreadCounts(processors: Int) -> [Int] {
        var counts = [1]
        var p = 2
        while p < processors { counts.append(p); p *= 2 }
        if processors > 1 { counts.append(processors) }
        return counts
    }
}
