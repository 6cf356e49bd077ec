/// The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (gzip is detected by the
/// magic bytes `1f 8b`, not by the file name).
///
/// An IDX file is a 4-byte magic number `00 00 TT NN` (`TT` the element type, `0x08` for
/// unsigned bytes; `NN` the number of dimensions), `NN` big-endian 32-bit sizes, then the
/// elements in row-major order. Only unsigned-byte files are read (the type of every MNIST-style
/// data set). The file must hold exactly what its header declares: a header that claims more
/// elements than the file can hold is refused before anything is allocated for them.
public enum IDX {
    /// The images of an IDX file as a `count × (rows·columns)` matrix, each pixel scaled to
    /// `[0, 1]` as `Float(byte) / 255`.
    ///
    /// The usual layout is 3 dimensions (`count, rows, columns`, magic `00 00 08 03`); a 2-D
    /// file (`count, features`) is read as it is. An image of zero pixels or a file of zero
    /// images gives an empty matrix.
    /// - Throws: `DataError` naming `path` for a missing or unreadable file, a wrong magic
    ///   number, element type or dimension count, a size that overflows, a truncated file or
    ///   trailing bytes, and corrupt or truncated gzip data.
    public static func readImages(_ path: String) throws -> Matrix {
        try readImages(bytes: FileBytes.read(path), path: path)
    }

    /// `readImages` of `bytes`, the whole content of the file at `path` (named in errors).
    static func readImages(bytes content: [UInt8], path: String) throws -> Matrix {
        var file = try DecodedFile(bytes: content, path: path)
        let (dims, bytes) = try readUnsignedBytes(&file, dimensions: 2...3, what: "images")
        let features = dims.dropFirst().reduce(1, *)
        var matrix = Matrix(rows: dims[0], columns: features)
        matrix.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = Float(src[i]) / 255 }
            }
        }
        return matrix
    }

    /// The labels of a 1-D unsigned-byte IDX file (magic `00 00 08 01`), each `0...255`.
    /// - Throws: `DataError` naming `path`, as `readImages`.
    public static func readLabels(_ path: String) throws -> [Int] {
        try readLabels(bytes: FileBytes.read(path), path: path)
    }

    /// `readLabels` of `bytes`, the whole content of the file at `path` (named in errors).
    static func readLabels(bytes content: [UInt8], path: String) throws -> [Int] {
        var file = try DecodedFile(bytes: content, path: path)
        let (_, bytes) = try readUnsignedBytes(&file, dimensions: 1...1, what: "labels")
        return bytes.map { Int($0) }
    }

    /// A data set of the images in `images` and the class labels in `labels`.
    /// - Throws: `DataError` naming `images` (and `labels` in the message) when the files hold
    ///   different numbers of samples, or any error of `readImages`/`readLabels`.
    public static func load(images: String, labels: String) throws -> Dataset {
        let x = try readImages(images)
        let y = try readLabels(labels)
        guard x.rows == y.count else {
            throw DataError(file: images, fault: "holds \(x.rows) images but the labels file \(labels) holds \(y.count) labels")
        }
        return try Dataset(features: x, labels: y)
    }

    /// The dimensions and raw elements of an unsigned-byte IDX file with a dimension count in `dimensions`.
    static func readUnsignedBytes(_ file: inout DecodedFile, dimensions: ClosedRange<Int>, what: String) throws -> ([Int], [UInt8]) {
        let path = file.path
        let magic = try file.read(4, what: "IDX magic number")
        let magicText = magic.map { hex($0) }.joined(separator: " ")
        let expected = "00 00 08 0\(dimensions.upperBound)"
        guard magic[0] == 0, magic[1] == 0 else {
            throw DataError(file: path, fault: "not an IDX file: magic bytes \(magicText), expected \(expected)")
        }
        guard magic[2] == 0x08 else {
            throw DataError(file: path, fault: "IDX element type 0x\(hex(magic[2])) (\(typeName(magic[2]))) is not supported: "
                + "expected 0x08 (unsigned byte); magic bytes \(magicText), expected \(expected)")
        }
        let rank = Int(magic[3])
        guard dimensions.contains(rank) else {
            let need = dimensions.count == 1 ? "\(dimensions.lowerBound)" : "\(dimensions.lowerBound) or \(dimensions.upperBound)"
            throw DataError(file: path, fault: "IDX \(what) need \(need) dimensions, but the header declares \(rank) "
                + "(magic bytes \(magicText), expected \(expected))")
        }
        let header = try file.read(4 * rank, what: "IDX dimensions")
        var dims: [Int] = []
        for d in 0..<rank {
            let b = header[(4 * d)..<(4 * d + 4)].map { Int($0) }
            dims.append(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3])
        }
        // The dimensions after the first (one sample's size) are multiplied first, so that a
        // zero sample count cannot hide a sample size that overflows.
        var count = 1
        for d in dims.dropFirst() + dims.prefix(1) {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw DataError(file: path, fault: "IDX dimensions \(dims) overflow") }
            count = product
        }
        let shape = dims.map(String.init).joined(separator: "×")
        let bound = file.remainingBound
        if count > bound {
            if file.isCompressed {
                throw DataError(file: path, fault: "the header declares \(shape) = \(count) bytes of \(what), more than the "
                    + "gzip file can hold (at most \(bound))")
            }
            throw DataError(file: path, fault: "truncated: the header declares \(shape) = \(count) bytes of \(what), "
                + "the file holds \(bound) after the header")
        }
        let bytes = try file.read(count, what: "\(what) (header declares \(shape))")
        try file.expectEnd(after: "\(shape) \(what) the header declares")
        return (dims, bytes)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    private static func typeName(_ code: UInt8) -> String {
        switch code {
        case 0x08: return "unsigned byte"
        case 0x09: return "signed byte"
        case 0x0B: return "int16"
        case 0x0C: return "int32"
        case 0x0D: return "float32"
        case 0x0E: return "float64"
        default: return "unknown type"
        }
    }
}
