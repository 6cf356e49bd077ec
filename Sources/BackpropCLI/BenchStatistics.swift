/// The median and spread of repeated measurements of one figure.
///
/// Quartiles interpolate linearly between order statistics (the "type 7" rule of R and
/// NumPy's default), so with 5 samples `q1` and `q3` are the 2nd and 4th smallest.
public struct BenchSummary: Codable, Equatable, Sendable {
    /// Middle value (mean of the two middle values for an even count).
    public var median: Double
    /// Smallest sample.
    public var min: Double
    /// Largest sample.
    public var max: Double
    /// First quartile.
    public var q1: Double
    /// Third quartile.
    public var q3: Double
    /// Number of samples.
    public var count: Int

    /// The summary of `samples`; `nil` when `samples` is empty or holds a NaN.
    public init?(_ samples: [Double]) {
        guard !samples.isEmpty, !samples.contains(where: \.isNaN) else { return nil }
        let s = samples.sorted()
        median = BenchSummary.quantile(s, 0.5)
        min = s[0]
        max = s[s.count - 1]
        q1 = BenchSummary.quantile(s, 0.25)
        q3 = BenchSummary.quantile(s, 0.75)
        count = s.count
    }

    /// A summary with given values (for baselines written by hand and for tests).
    public init(median: Double, min: Double, max: Double, q1: Double, q3: Double, count: Int) {
        self.median = median; self.min = min; self.max = max
        self.q1 = q1; self.q3 = q3; self.count = count
    }

    /// Interquartile range relative to the median, `(q3 − q1) / median`: the spread the gate
    /// judges a run's noise by. Infinity when the median is 0 and the quartiles differ.
    public var relativeSpread: Double {
        let iqr = q3 - q1
        if iqr == 0 { return 0 }
        return median == 0 ? .infinity : iqr / abs(median)
    }

    /// Range relative to the median, `(max − min) / median`.
    public var relativeRange: Double {
        let range = max - min
        if range == 0 { return 0 }
        return median == 0 ? .infinity : range / abs(median)
    }

    /// The `p`-quantile of ascending `sorted` (non-empty), interpolating linearly.
    static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        let position = p * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let weight = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * weight
    }
}
