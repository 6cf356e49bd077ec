import Foundation

/// A plain-text table with columns padded to their widest cell.
struct TextTable {
    var header: [String]
    /// Indices of the columns whose cells are right-aligned (numbers).
    var rightAligned: Set<Int>
    var rows: [[String]] = []

    init(header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for (n, row) in all.enumerated() {
            var line = ""
            for (i, cell) in row.enumerated() where i < widths.count {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                if i > 0 { line += "  " }
                line += rightAligned.contains(i) ? pad + cell : cell + pad
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
            if n == 0 {
                out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            }
        }
        return out
    }
}

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
    return String(format: "%.\(digits)f", x)
}

/// `0.523` → `52.3%`.
func percent(_ x: Double) -> String { fixed(x * 100, 1) + "%" }

/// `-0.081` → `-8.1%`, `0.02` → `+2.0%`.
func signedPercent(_ x: Double) -> String { (x >= 0 ? "+" : "") + fixed(x * 100, 1) + "%" }

/// A count with thousands separators: `1234567` → `1,234,567`.
func grouped(_ x: Double) -> String {
    guard x.isFinite else { return fixed(x, 0) }
    let digits = String(Int(x.rounded()))
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}
