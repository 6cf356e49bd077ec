/// NumPy's `.npy` format (versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a version, a
/// Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, then
/// the elements.
///
/// Element types read: `float16/32/64`, `int8…int64`, `uint8…uint64` and `bool`, in either
/// byte order. Values are read as they are stored: `uint8` pixels stay `0…255` (divide by
/// 255 yourself if you want `[0, 1]`). Both C order and `fortran_order: True` are read and
/// returned row-major. The file must hold exactly the bytes its header declares.
public enum NPY {
    /// The array in the file as a row-major matrix: a 2-D array `(r, c)` as `r × c`, a 1-D
    /// array `(n,)` as `n × 1`, and an array of 3 or more dimensions `(n, d1, d2, …)` as
    /// `n × (d1·d2·…)` (so `(60000, 28, 28)` images become `60000 × 784`). Every element type
    /// is converted to `Float` (float64 and wide integers rounded to nearest).
    /// - Throws: `DataError` naming `path` for a missing file, a wrong magic or version, a
    ///   header that is not a valid dict, an unsupported or structured dtype, a 0-D array,
    ///   a size that overflows, and a file shorter or longer than the header declares.
    public static func readMatrix(_ path: String) throws -> Matrix {
        try readMatrix(bytes: FileBytes.read(path), path: path)
    }

    /// `readMatrix` of `bytes`, the whole content of the file at `path` (named in errors).
    static func readMatrix(bytes: [UInt8], path: String) throws -> Matrix {
        let array = try NPYArray(bytes: bytes, path: path)
        guard let rows = array.shape.first else {
            throw DataError(file: path, fault: "a 0-D array (a scalar) is not a matrix")
        }
        let columns = array.shape.count == 1 ? 1 : array.shape.dropFirst().reduce(1, *)
        var matrix = Matrix(rows: rows, columns: columns)
        let count = array.count
        guard count > 0 else { return matrix }
        array.bytes.withUnsafeBytes { raw in
            let source = raw.baseAddress! + array.dataOffset
            matrix.withUnsafeMutableBufferPointer { out in
                if !array.fortranOrder || array.shape.count < 2 {
                    array.type.convert(source, count: count, bigEndian: array.bigEndian, into: out.baseAddress!)
                    return
                }
                // Fortran order is the C order of the reversed shape: convert, then reverse the axes.
                let fortran = UnsafeMutablePointer<Float>.allocate(capacity: count)
                defer { fortran.deallocate() }
                array.type.convert(source, count: count, bigEndian: array.bigEndian, into: fortran)
                let shape = array.shape
                var strides = [Int](repeating: 1, count: shape.count)  // Fortran strides
                for a in 1..<shape.count { strides[a] = strides[a - 1] * shape[a - 1] }
                var index = [Int](repeating: 0, count: shape.count)
                var offset = 0
                for i in 0..<count {
                    out[i] = fortran[offset]
                    var a = shape.count - 1  // advance the C-order odometer
                    while a >= 0 {
                        index[a] += 1
                        offset += strides[a]
                        if index[a] < shape[a] { break }
                        offset -= strides[a] * shape[a]
                        index[a] = 0
                        a -= 1
                    }
                }
            }
        }
        return matrix
    }

    /// The integer labels of a 1-D array `(n,)` (or a column `(n, 1)`) of any integer type.
    /// - Throws: `DataError` naming `path` for a non-integer dtype, another shape, a negative
    ///   label or one beyond `Int`, and every fault `readMatrix` names.
    public static func readLabels(_ path: String) throws -> [Int] {
        try readLabels(bytes: FileBytes.read(path), path: path)
    }

    /// `readLabels` of `bytes`, the whole content of the file at `path` (named in errors).
    static func readLabels(bytes: [UInt8], path: String) throws -> [Int] {
        let array = try NPYArray(bytes: bytes, path: path)
        guard array.type.isInteger else {
            throw DataError(file: path, fault: "labels need an integer dtype, got '\(array.descr)'")
        }
        guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1) else {
            throw DataError(file: path, fault: "labels need a 1-D array (n,) or a column (n, 1), got shape \(array.shapeText)")
        }
        var labels = [Int](repeating: 0, count: array.count)
        try array.bytes.withUnsafeBytes { raw in
            let source = raw.baseAddress! + array.dataOffset
            for i in 0..<array.count {
                guard let value = array.type.integer(source, i, bigEndian: array.bigEndian) else {
                    throw DataError(file: path, fault: "label at index \(i) does not fit in Int")
                }
                guard value >= 0 else { throw DataError(file: path, fault: "label \(value) at index \(i) is negative") }
                labels[i] = value
            }
        }
        return labels
    }

    /// Writes `matrix` as a 2-D little-endian `float32` array `(rows, columns)` in C order,
    /// NPY version 1.0 with the header padded to 64 bytes as NumPy does, atomically (`AtomicFile`).
    /// - Throws: `DataError` naming `path` when the write fails.
    public static func write(_ matrix: Matrix, to path: String) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(matrix.rows), \(matrix.columns)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = header.utf8.count
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + 4 * matrix.count)
        matrix.withUnsafeBufferPointer { values in
            for v in values {
                let bits = v.bitPattern
                out += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                        UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
            }
        }
        try AtomicFile.write(out, to: path)
    }
}

/// A parsed, validated `.npy` file: its header and where its elements start.
struct NPYArray {
    var bytes: [UInt8]
    var descr: String
    var type: ScalarType
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]
    var count: Int
    var dataOffset: Int

    var shapeText: String {
        "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }

    /// Parses and validates `bytes`, the whole content of the file at `path` (named in errors).
    init(bytes: [UInt8], path: String) throws {
        self.bytes = bytes
        func fault(_ message: String) -> DataError { DataError(file: path, fault: message) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            throw fault("not an NPY file: it does not start with the magic bytes \\x93NUMPY")
        }
        let major = bytes[6]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw fault("NPY version \(major).\(bytes[7]) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard bytes.count >= 8 + lengthBytes else { throw fault("truncated: the file ends inside the header length") }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        dataOffset = 8 + lengthBytes + headerLength
        guard dataOffset <= bytes.count else {
            throw fault("header length \(headerLength) is beyond the file (\(bytes.count - 8 - lengthBytes) bytes follow)")
        }
        guard let text = String(validating: bytes[(8 + lengthBytes)..<dataOffset], as: UTF8.self) else {
            throw fault("the header is not valid UTF-8")
        }
        var parser = PythonLiteralParser(text: text)
        let dict: [(String, PythonLiteralParser.Value)]
        do {
            dict = try parser.parseDict()
        } catch let error as PythonLiteralParser.Failure {
            throw fault("the header is not a valid dict: \(error.message)")
        }
        func value(_ key: String) throws -> PythonLiteralParser.Value {
            guard let entry = dict.last(where: { $0.0 == key }) else { throw fault("the header has no '\(key)' entry") }
            return entry.1
        }
        guard case .string(let descr) = try value("descr") else {
            throw fault("the header's descr is not a simple dtype string (structured dtypes are not supported)")
        }
        self.descr = descr
        guard let (type, bigEndian) = Self.scalarType(descr) else {
            throw fault("dtype '\(descr)' is not supported (float16/32/64, int8…int64, uint8…uint64 and bool are)")
        }
        self.type = type
        self.bigEndian = bigEndian
        guard case .bool(let fortran) = try value("fortran_order") else { throw fault("the header's fortran_order is not True or False") }
        fortranOrder = fortran
        guard case .tuple(let dims) = try value("shape") else { throw fault("the header's shape is not a tuple") }
        shape = []
        for d in dims {
            guard case .integer(let n) = d, n >= 0 else { throw fault("the header's shape is not a tuple of non-negative integers") }
            shape.append(n)
        }
        // The dimensions after the first (a row's size) are multiplied first, so that a zero
        // row count cannot hide a row size that overflows.
        var count = 1
        for n in shape.dropFirst() + shape.prefix(1) {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fault("shape (\(shape.map(String.init).joined(separator: ", "))) overflows") }
            count = product
        }
        self.count = count
        let available = bytes.count - dataOffset
        let (needed, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, needed <= available else {
            throw DataError(file: path, fault: "truncated: shape \(shapeText) of '\(descr)' needs "
                + "\(overflow ? "more than \(Int.max)" : "\(needed)") bytes, the file holds \(available) after the header")
        }
        guard needed == available else {
            throw fault("\(available - needed) unexpected bytes after the \(shapeText) array the header declares")
        }
    }

    /// The element type and byte order of a simple dtype string such as `<f4`, `|u1`, `>i8`, `b1`.
    static func scalarType(_ descr: String) -> (ScalarType, Bool)? {
        var text = Substring(descr)
        var bigEndian = false
        if let first = text.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            #if _endian(big)
            if first == "=" { bigEndian = true }
            #endif
            text = text.dropFirst()
        }
        switch text {
        case "f2": return (.float16, bigEndian)
        case "f4": return (.float32, bigEndian)
        case "f8": return (.float64, bigEndian)
        case "i1": return (.int8, bigEndian)
        case "i2": return (.int16, bigEndian)
        case "i4": return (.int32, bigEndian)
        case "i8": return (.int64, bigEndian)
        case "u1": return (.uint8, bigEndian)
        case "u2": return (.uint16, bigEndian)
        case "u4": return (.uint32, bigEndian)
        case "u8": return (.uint64, bigEndian)
        case "b1", "?": return (.bool, bigEndian)
        default: return nil
        }
    }
}

/// A parser for the Python literals of an NPY header: dicts, tuples, lists, strings,
/// integers, `True`, `False` and `None`.
struct PythonLiteralParser {
    indirect enum Value {
        case string(String)
        case integer(Int)
        case bool(Bool)
        case none
        case tuple([Value])
        case list([Value])
        case dict([(String, Value)])
    }

    struct Failure: Error { var message: String }

    private let characters: [Character]
    private var position = 0

    init(text: String) { characters = Array(text) }

    /// The top-level dict; only whitespace may follow it.
    mutating func parseDict() throws -> [(String, Value)] {
        skipSpace()
        guard case .dict(let entries) = try parseValue(depth: 0) else { throw Failure(message: "it is not a dict") }
        skipSpace()
        guard position == characters.count else { throw failure("unexpected text after the dict") }
        return entries
    }

    private func failure(_ message: String) -> Failure {
        let found = position < characters.count ? "'\(characters[position])'" : "the end"
        return Failure(message: "\(message) at character \(position) (found \(found))")
    }

    private mutating func skipSpace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    private mutating func parseValue(depth: Int) throws -> Value {
        guard depth < 32 else { throw failure("nested too deeply") }
        skipSpace()
        guard position < characters.count else { throw failure("expected a value") }
        let c = characters[position]
        switch c {
        case "{":
            position += 1
            var entries: [(String, Value)] = []
            while true {
                skipSpace()
                if position < characters.count, characters[position] == "}" { position += 1; return .dict(entries) }
                guard case .string(let key) = try parseValue(depth: depth + 1) else { throw failure("a dict key must be a string") }
                skipSpace()
                guard position < characters.count, characters[position] == ":" else { throw failure("expected ':'") }
                position += 1
                entries.append((key, try parseValue(depth: depth + 1)))
                skipSpace()
                guard position < characters.count else { throw failure("unterminated dict") }
                if characters[position] == "," { position += 1; continue }
                guard characters[position] == "}" else { throw failure("expected ',' or '}'") }
            }
        case "(", "[":
            let close: Character = c == "(" ? ")" : "]"
            position += 1
            var items: [Value] = []
            while true {
                skipSpace()
                if position < characters.count, characters[position] == close {
                    position += 1
                    return c == "(" ? .tuple(items) : .list(items)
                }
                items.append(try parseValue(depth: depth + 1))
                skipSpace()
                guard position < characters.count else { throw failure("unterminated \(c == "(" ? "tuple" : "list")") }
                if characters[position] == "," { position += 1; continue }
                guard characters[position] == close else { throw failure("expected ',' or '\(close)'") }
            }
        case "'", "\"":
            position += 1
            var text = ""
            while position < characters.count, characters[position] != c {
                if characters[position] == "\\" {
                    position += 1
                    guard position < characters.count else { break }
                }
                text.append(characters[position])
                position += 1
            }
            guard position < characters.count else { throw failure("unterminated string") }
            position += 1
            return .string(text)
        default:
            var word = ""
            while position < characters.count, characters[position].isLetter || characters[position].isNumber
                || characters[position] == "-" || characters[position] == "+" || characters[position] == "_" {
                word.append(characters[position])
                position += 1
            }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                var digits = word.filter { $0 != "_" }
                if digits.hasSuffix("L") { digits.removeLast() }  // Python 2 longs: (3L, 4L)
                guard let n = Int(digits), !word.isEmpty else {
                    if word.isEmpty { throw failure("unexpected character") }
                    throw failure("'\(word)' is not a valid literal")
                }
                return .integer(n)
            }
        }
    }
}
