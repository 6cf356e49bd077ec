/// Comma-separated numeric tables: one sample per line, the features and an integer class label.
public enum CSV {
    /// A labelled data set from the CSV file at `path`.
    ///
    /// Every field is a decimal number (surrounding spaces and double quotes are ignored); the
    /// field in `labelColumn` (0-based; negative counts from the end, so -1 is the last) is a
    /// non-negative integer class label (`3` or `3.0`), the others are the features, in order.
    /// Blank lines are skipped; `\r\n` line ends and a UTF-8 byte-order mark are accepted.
    /// `hasHeader`: `true` skips the first non-blank line, `false` reads it as data, `nil`
    /// treats it as a header when one of its fields is not a number.
    /// - Throws: `DataError` naming `path` and, for a bad field, its line and column (1-based):
    ///   a field that is not a finite `Float`, a label that is not a non-negative integer, a
    ///   line with a different number of fields than the first data line, fewer than 2
    ///   columns, a label column out of range, or no data lines.
    public static func load(_ path: String, labelColumn: Int = -1, hasHeader: Bool? = nil) throws -> Dataset {
        try load(bytes: FileBytes.read(path), path: path, labelColumn: labelColumn, hasHeader: hasHeader)
    }

    /// `load` of `bytes`, the whole content of the file at `path` (named in errors).
    static func load(bytes content: [UInt8], path: String, labelColumn: Int = -1, hasHeader: Bool? = nil) throws -> Dataset {
        var bytes = content
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        func fault(_ message: String) -> DataError { DataError(file: path, fault: message) }

        var features: [Float] = []
        var labels: [Int] = []
        var columns = 0
        var labelIndex = 0
        var firstDataLine = 0
        var sawFirstLine = false
        var lineNumber = 0
        var fields: [ArraySlice<UInt8>] = []

        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            let line = bytes[start..<end]
            start = end + 1
            fields.removeAll(keepingCapacity: true)
            splitFields(line, into: &fields)
            if fields.count == 1 && fields[0].isEmpty { continue }  // blank line

            if !sawFirstLine {
                sawFirstLine = true
                let isHeader = hasHeader ?? fields.contains { parseFloat($0) == nil }
                if isHeader { continue }
            }
            if columns == 0 {
                columns = fields.count
                firstDataLine = lineNumber
                guard columns >= 2 else {
                    throw fault("line \(lineNumber) has \(columns) column; a data set needs at least one feature column and a label column")
                }
                labelIndex = labelColumn < 0 ? columns + labelColumn : labelColumn
                guard labelIndex >= 0 && labelIndex < columns else {
                    throw fault("label column \(labelColumn) is out of range for \(columns) columns")
                }
            }
            guard fields.count == columns else {
                throw fault("line \(lineNumber) has \(fields.count) columns, expected \(columns) (as line \(firstDataLine))")
            }
            for (c, field) in fields.enumerated() {
                if c == labelIndex {
                    guard let label = parseLabel(field) else {
                        throw fault("line \(lineNumber), column \(c + 1): label '\(show(field))' is not a non-negative integer")
                    }
                    labels.append(label)
                } else {
                    guard let value = parseFloat(field) else {
                        throw fault("line \(lineNumber), column \(c + 1): '\(show(field))' is not a number")
                    }
                    guard value.isFinite else {
                        throw fault("line \(lineNumber), column \(c + 1): '\(show(field))' is not a finite Float")
                    }
                    features.append(value)
                }
            }
        }
        guard !labels.isEmpty else { throw fault("no data lines") }
        let x = try Matrix(rows: labels.count, columns: columns - 1, values: features)
        return try Dataset(features: x, labels: labels)
    }

    /// Splits `line` at commas, each field trimmed of spaces, tabs, a trailing `\r` and surrounding double quotes.
    static func splitFields(_ line: ArraySlice<UInt8>, into fields: inout [ArraySlice<UInt8>]) {
        var fieldStart = line.startIndex
        var i = line.startIndex
        while true {
            if i == line.endIndex || line[i] == UInt8(ascii: ",") {
                fields.append(trim(line[fieldStart..<i]))
                if i == line.endIndex { return }
                fieldStart = i + 1
            }
            i += 1
        }
    }

    private static func trim(_ field: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let space: Set<UInt8> = [0x20, 0x09, 0x0D]
        var f = field
        while let first = f.first, space.contains(first) { f = f.dropFirst() }
        while let last = f.last, space.contains(last) { f = f.dropLast() }
        if f.count >= 2, f.first == UInt8(ascii: "\""), f.last == UInt8(ascii: "\"") { f = f.dropFirst().dropLast() }
        return f
    }

    /// The field as a `Float` (`nil` when it is not a number; may be infinite or NaN).
    static func parseFloat(_ field: ArraySlice<UInt8>) -> Float? {
        guard !field.isEmpty, field.count < 128 else { return nil }
        return Float(String(decoding: field, as: UTF8.self))
    }

    /// The field as a non-negative integer label: digits, or a number with no fractional part.
    static func parseLabel(_ field: ArraySlice<UInt8>) -> Int? {
        let text = String(decoding: field, as: UTF8.self)
        if let n = Int(text) { return n >= 0 ? n : nil }
        guard let d = Double(text), d >= 0, d.rounded() == d, d < 0x1p62 else { return nil }
        return Int(d)
    }

    private static func show(_ field: ArraySlice<UInt8>) -> String {
        let text = String(decoding: field.prefix(40), as: UTF8.self)
        return field.count > 40 ? text + "…" : text
    }
}
