import Backprop
import XCTest

final class NPYTests: DataTestCase {
    /// An NPY file with the dict literal `header` (padded as NumPy pads it) and `data`.
    static func npy(_ header: String, _ data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        var text = header
        let prefix = version == 1 ? 10 : 12
        while (prefix + text.utf8.count + 1) % 64 != 0 { text += " " }
        text += "\n"
        let n = text.utf8.count
        let length: [UInt8] = version == 1 ? [UInt8(n & 255), UInt8(n >> 8)] : [UInt8(n & 255), UInt8(n >> 8), 0, 0]
        return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + Array(text.utf8) + data
    }

    static func bytes<T: FixedWidthInteger>(_ values: [T], bigEndian: Bool = false) -> [UInt8] {
        values.flatMap { v in
            let le = (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
            return bigEndian ? Array(le.reversed()) : le
        }
    }

    func testWriteReadRoundTripIsBitwise() throws {
        let m = Matrix(rows: 3, columns: 5) { i, j in i == 1 && j == 2 ? -0.0 : Float(i * 5 + j) / 7 - 1 }
        let file = path("m.npy")
        try NPY.write(m, to: file)
        let bytes = try contents(file)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        XCTAssertEqual(bytes.count, 10 + headerLength + 60)
        XCTAssertTrue(String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
            .hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }"))
        let back = try NPY.readMatrix(file)
        XCTAssertEqual(back.rows, 3)
        XCTAssertEqual(back.columns, 5)
        XCTAssertEqual(back.values.map(\.bitPattern), m.values.map(\.bitPattern))
        try NPY.write(Matrix(rows: 0, columns: 4), to: file)
        let empty = try NPY.readMatrix(file)
        XCTAssertEqual(empty.rows, 0)
        XCTAssertEqual(empty.columns, 4)
    }

    func testDtypesShapesAndOrders() throws {
        // float64, C order, 2×3.
        let f8 = try write(Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                                    Self.bytes([0.5, 1, 2, 0.1, -4, 1e300].map { (d: Double) in d.bitPattern })), "f8.npy")
        XCTAssertEqual(try NPY.readMatrix(f8).values, [0.5, 1, 2, 0.1, -4, .infinity])
        // float32, Fortran order: the file holds the columns one after another.
        let fortran = try write(Self.npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                         Self.bytes([1, 4, 2, 5, 3, 6].map { (f: Float) in f.bitPattern })), "fortran.npy")
        let fm = try NPY.readMatrix(fortran)
        XCTAssertEqual(fm.rows, 2)
        XCTAssertEqual(fm.values, [1, 2, 3, 4, 5, 6])
        // 3-D Fortran order (2, 3, 2): element (i, j, k) = 100i + 10j + k, stored at i + 2j + 6k.
        var stored = [Float](repeating: 0, count: 12)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<2 { stored[i + 2 * j + 6 * k] = Float(100 * i + 10 * j + k) } } }
        let f3 = try write(Self.npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 2), }",
                                    Self.bytes(stored.map(\.bitPattern))), "f3.npy")
        let m3 = try NPY.readMatrix(f3)
        XCTAssertEqual(m3.rows, 2)
        XCTAssertEqual(m3.columns, 6)
        XCTAssertEqual(m3.values, [0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121])
        // uint8 images (2, 2, 2) stay raw values, big-endian int16 1-D, version 2.0 header, float16.
        let u1 = try write(Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }", [0, 1, 2, 3, 4, 5, 6, 255]),
                           "u1.npy")
        let mu = try NPY.readMatrix(u1)
        XCTAssertEqual(mu.columns, 4)
        XCTAssertEqual(mu.values, [0, 1, 2, 3, 4, 5, 6, 255])
        let i2 = try write(Self.npy("{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }",
                                    Self.bytes([Int16(-2), 300, 7], bigEndian: true), version: 2), "i2.npy")
        let mi = try NPY.readMatrix(i2)
        XCTAssertEqual(mi.rows, 3)
        XCTAssertEqual(mi.columns, 1)
        XCTAssertEqual(mi.values, [-2, 300, 7])
        let f2 = try write(Self.npy("{\"descr\": \"<f2\", \"fortran_order\": False, \"shape\": (1, 2)}",
                                    Self.bytes([UInt16(0x3C00), 0x0001])), "f2.npy")
        XCTAssertEqual(try NPY.readMatrix(f2).values, [1, 0x1p-24])
    }

    func testLabels() throws {
        let i8 = try write(Self.npy("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", Self.bytes([Int64(3), 0, 9, 1])),
                           "labels.npy")
        XCTAssertEqual(try NPY.readLabels(i8), [3, 0, 9, 1])
        let column = try write(Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 1), }", [2, 1, 0]), "column.npy")
        XCTAssertEqual(try NPY.readLabels(column), [2, 1, 0])
        let u4 = try write(Self.npy("{'descr': '>u4', 'fortran_order': False, 'shape': (2,), }",
                                    Self.bytes([UInt32(70000), 5], bigEndian: true)), "u4.npy")
        XCTAssertEqual(try NPY.readLabels(u4), [70000, 5])
        let floats = try write(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0]), "float-labels.npy")
        assertDataError(try NPY.readLabels(floats), file: floats, "integer dtype", "'<f4'")
        let negative = try write(Self.npy("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", [1, 0xFF]), "neg.npy")
        assertDataError(try NPY.readLabels(negative), file: negative, "label -1 at index 1 is negative")
        let wide = try write(Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }", [1, 2]), "wide.npy")
        assertDataError(try NPY.readLabels(wide), file: wide, "shape (1, 2)")
        let huge = try write(Self.npy("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", Self.bytes([UInt64.max])),
                             "huge.npy")
        assertDataError(try NPY.readLabels(huge), file: huge, "does not fit in Int")
    }

    func testMalformedFiles() throws {
        let data = Self.bytes([Float(1), 2].map(\.bitPattern))
        func check(_ header: String, _ data: [UInt8], _ fault: String..., line: UInt = #line) throws {
            let file = try write(Self.npy(header, data), "bad-\(line).npy")
            do {
                _ = try NPY.readMatrix(file)
                XCTFail("accepted \(header)", line: line)
            } catch let error as DataError {
                XCTAssertEqual(error.file, file, line: line)
                for part in fault { XCTAssertTrue(error.fault.contains(part), "\"\(error.fault)\" lacks \"\(part)\"", line: line) }
            }
        }
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data, "truncated", "needs 12 bytes", "holds 8")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data, "4 unexpected bytes")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 784), }", data, "truncated",
                  "needs 6734508720128 bytes")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648), }", data, "truncated",
                  "needs more than")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data, "overflow")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", [0, 0, 128, 63], "0-D")
        try check("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data, "dtype '<c8' is not supported")
        try check("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", data, "structured")
        try check("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", data, "fortran_order")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data, "non-negative")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", data, "shape is not a tuple")
        try check("{'descr': '<f4', 'fortran_order': False}", data, "no 'shape' entry")
        try check("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", data, "not a valid dict", "unterminated")
        try check("['descr']", data, "not a dict")
        try check("{'descr': '<f4', 'fortran_order': Fals, 'shape': (2,), }", data, "'Fals' is not a valid literal")
        let notNPY = try write(Array("hello, world".utf8), "text.npy")
        assertDataError(try NPY.readMatrix(notNPY), file: notNPY, "not an NPY file")
        var future = Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data)
        future[6] = 9
        let v9 = try write(future, "v9.npy")
        assertDataError(try NPY.readMatrix(v9), file: v9, "version 9.0 is not supported")
        let beyond = try write([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x7F, 0x7B], "beyond.npy")
        assertDataError(try NPY.readMatrix(beyond), file: beyond, "header length 32767 is beyond the file")
        let missing = path("absent.npy")
        assertDataError(try NPY.readMatrix(missing), file: missing, "cannot open")
        let binary = try write([0x93] + Array("NUMPY".utf8) + [1, 0, 2, 0, 0xFF, 0xFE], "binary.npy")
        assertDataError(try NPY.readMatrix(binary), file: binary, "not valid UTF-8")
    }
}
