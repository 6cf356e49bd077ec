/// Number formatting for the tools' human output, without Foundation's locale-dependent formatters.
enum Format {
    /// `value` with `digits` digits after the point (`fixed(0.12345, 4)` is `"0.1235"`);
    /// non-finite values print as `nan`, `inf` or `-inf`.
    static func fixed<F: BinaryFloatingPoint>(_ value: F, _ digits: Int) -> String {
        let x = Double(value)
        guard x.isFinite else { return x.isNaN ? "nan" : (x < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e15 else { return "\(x)" }
        let n = Int64(scaled)
        let whole = n / Int64(scale)
        let fraction = n % Int64(scale)
        var text = (x < 0 && n != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let f = String(fraction)
            text += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return text
    }

    /// A fraction as a percentage with two decimals: `0.8912` is `"89.12%"`.
    static func percent(_ fraction: Float) -> String {
        fixed(Double(fraction) * 100, 2) + "%"
    }

    /// A rate with a k/M suffix: `21400` is `"21.4k"`.
    static func rate(_ value: Double) -> String {
        if !value.isFinite { return "-" }
        if value >= 1e6 { return fixed(value / 1e6, 2) + "M" }
        if value >= 1e3 { return fixed(value / 1e3, 1) + "k" }
        return fixed(value, 0)
    }

    /// Seconds as `m:ss` or `h:mm:ss`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let total = Int(seconds.rounded())
        let h = total / 3600, m = (total / 60) % 60, s = total % 60
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):" + (m < 10 ? "0\(m)" : "\(m)") + ":" + ss }
        return "\(m):" + ss
    }
}
