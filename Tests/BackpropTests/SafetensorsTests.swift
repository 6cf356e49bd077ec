import Backprop
import Foundation
import XCTest

final class SafetensorsTests: DataTestCase {
    /// A safetensors file with `header` as its JSON (as given, unpadded) and `data` after it.
    static func file(header: String, data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64($0))) } + h + data
    }

    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    }

    func testRoundTripIsBitwise() throws {
        var generator = SplitMix64(seed: 11)
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.greatestFiniteMagnitude,
                                Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0xFF80_0001), 1 / 3]
        let tensors: [String: Safetensors.Tensor] = [
            "layers.0.weight": .init(shape: [3, 3], values: special),
            "b": .init(shape: [], values: [42.5]),
            "a \"quoted\"\n/é": .init(shape: [0, 3], values: []),
            "z": .init(shape: [2, 2, 25], values: (0..<100).map { _ in generator.nextSignedUnitFloat() * 1e3 }),
        ]
        let metadata = ["epoch": "3", "note": "tab\there \"quoted\" back\\slash \u{1} ünïcode"]
        let file = path("model.safetensors")
        try Safetensors.write(tensors, metadata: metadata, to: file)
        let (read, readMetadata) = try Safetensors.read(file)
        XCTAssertEqual(readMetadata, metadata)
        XCTAssertEqual(Set(read.keys), Set(tensors.keys))
        for (name, tensor) in tensors {
            XCTAssertEqual(read[name]?.shape, tensor.shape, name)
            XCTAssertEqual(read[name]?.values.map(\.bitPattern), tensor.values.map(\.bitPattern), name)
        }
        let bytes = try contents(file)
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        XCTAssertEqual(headerLength % 8, 0)
        // Tensors are laid out in sorted-name order.
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        let begins = tensors.keys.sorted().map { ((header[$0] as! [String: Any])["data_offsets"] as! [Int])[0] }
        XCTAssertEqual(begins, begins.sorted())
        XCTAssertEqual((header["z"] as! [String: Any])["dtype"] as? String, "F32")
        // Deterministic: the same tensors give the same bytes.
        try Safetensors.write(tensors, metadata: metadata, to: path("again.safetensors"))
        XCTAssertEqual(try contents(path("again.safetensors")), bytes)
    }

    func testConversionsAreExact() throws {
        let f64: [Double] = [0.1, 1e300, 0x1p-149, 1 + 0x1p-23, 3.0000000000000004, -2.5, 1e-50]
        let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x8000, 0x7C00, 0xFC00, 0x3555]
        let bf16: [UInt16] = [0x3F80, 0xC049, 0x0001, 0x7F80, 0x8000]
        let i64: [Int64] = [-5, 1 << 40, Int64.min]
        let u8: [UInt8] = [0, 255]
        let i8: [Int8] = [-128, 127]
        let bools: [UInt8] = [1, 0]
        var data: [UInt8] = []
        var entries: [String] = []
        func add(_ name: String, _ dtype: String, _ bytes: [UInt8], _ count: Int) {
            entries.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(count)],\"data_offsets\":[\(data.count),\(data.count + bytes.count)]}")
            data += bytes
        }
        add("f64", "F64", Self.littleEndian(f64.map(\.bitPattern)), f64.count)
        add("f16", "F16", Self.littleEndian(f16), f16.count)
        add("bf16", "BF16", Self.littleEndian(bf16), bf16.count)
        add("i64", "I64", Self.littleEndian(i64), i64.count)
        add("u8", "U8", u8, u8.count)
        add("i8", "I8", Self.littleEndian(i8), i8.count)
        add("bool", "BOOL", bools, bools.count)
        let file = try write(Self.file(header: "{" + entries.joined(separator: ",") + "}", data: data), "mixed.safetensors")
        let (t, metadata) = try Safetensors.read(file)
        XCTAssertEqual(metadata, [:])
        XCTAssertEqual(t["f64"]?.values, [0.1, .infinity, 0x1p-149, 1 + 0x1p-23, 3, -2.5, 0])
        XCTAssertEqual(t["f16"]?.values, [1, -2, 65504, 0x1p-24, 1023 * 0x1p-24, 0x1p-14, 0, .infinity, -.infinity,
                                          0.333251953125])
        XCTAssertEqual(t["f16"]?.values[6].sign, .minus)
        XCTAssertEqual(t["bf16"]?.values, [1, -3.140625, Float(bitPattern: 0x0001_0000), .infinity, 0])
        XCTAssertEqual(t["bf16"]?.values[4].sign, .minus)
        XCTAssertEqual(t["i64"]?.values, [-5, 0x1p40, -0x1p63])
        XCTAssertEqual(t["u8"]?.values, [0, 255])
        XCTAssertEqual(t["i8"]?.values, [-128, 127])
        XCTAssertEqual(t["bool"]?.values, [1, 0])
        XCTAssertEqual(t["f64"]?.shape, [7])
    }

    func testHalfNaNStaysNaN() throws {
        let file = try write(Self.file(header: #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#,
                                       data: Self.littleEndian([UInt16(0x7E00), 0xFD01])), "nan.safetensors")
        let values = try Safetensors.read(file).tensors["h"]!.values
        XCTAssertTrue(values[0].isNaN && values[1].isNaN)
        XCTAssertEqual(values[1].bitPattern, 0xFFA0_2000)  // sign, payload kept
    }

    /// Writes a file with `header` and `dataCount` zero bytes of data and checks the reader's fault.
    func assertRejected(_ header: String, dataCount: Int = 8, _ fault: String..., line: UInt = #line) throws {
        let file = try write(Self.file(header: header, data: [UInt8](repeating: 0, count: dataCount)), "bad-\(line).safetensors")
        do {
            _ = try Safetensors.read(file)
            XCTFail("accepted \(header)", line: line)
        } catch let error as DataError {
            XCTAssertEqual(error.file, file, line: line)
            XCTAssertTrue(error.description.hasPrefix(file + ": "), line: line)
            for part in fault { XCTAssertTrue(error.fault.contains(part), "\"\(error.fault)\" lacks \"\(part)\"", line: line) }
        }
    }

    func testMalformedHeadersAreRejected() throws {
        let ok = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
        try assertRejected("{" + ok + "}", dataCount: 12, "bytes 8..<12", "not covered")
        try assertRejected("{" + ok + "}", dataCount: 4, "reach past the end of the data (4 bytes)")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}"#, "shape [2, 2] of F32 needs 16 bytes",
                           "hold 8")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,8]}}"#,
                           "needs 4398046511104 bytes")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, "overflows")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#,
                           dataCount: 8, "'a' and 'b' overlap")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "bytes 0..<4", "not covered")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, "0 ≤ begin ≤ end")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, "data_offsets")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e30]}}"#, "data_offsets")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, "data_offsets")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}}"#, "not a list of non-negative integers")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}"#, "not a list of non-negative integers")
        try assertRejected(#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}}"#, "not a list of non-negative integers")
        try assertRejected(#"{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#, "dtype 'F8_E4M3' is not supported")
        try assertRejected(#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, "no dtype")
        try assertRejected(#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, "no shape")
        try assertRejected(#"{"a":5}"#, "'a'", "not a JSON object")
        try assertRejected(#"{"__metadata__":{"k":1}}"#, dataCount: 0, "entry 'k' is not a string")
        try assertRejected(#"{"__metadata__":[1]}"#, dataCount: 0, "__metadata__ is not a JSON object")
        try assertRejected("[1, 2]", "must start with '{'")
        try assertRejected("{\"a\": ", "not valid JSON")
        try assertRejected("{\"\u{FFFD}\": garbage}", "not valid JSON")
        // Deeply nested JSON is refused without exhausting the stack.
        try assertRejected("{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}",
                           "not valid JSON")
        // Duplicate names: the first entry's bytes are left uncovered.
        try assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                           "not covered")
    }

    func testMalformedFramesAreRejected() throws {
        let short = try write([1, 0, 0], "short.safetensors")
        assertDataError(try Safetensors.read(short), file: short, "truncated", "8-byte header length")
        let beyond = try write(Self.littleEndian([UInt64(100)]) + Array("{}".utf8), "beyond.safetensors")
        assertDataError(try Safetensors.read(beyond), file: beyond, "header length 100 is beyond the file (2 bytes")
        let huge = try write(Self.littleEndian([UInt64.max]) + Array("{}".utf8), "huge.safetensors")
        assertDataError(try Safetensors.read(huge), file: huge, "header length 18446744073709551615 is beyond the file")
        let binary = try write(Self.littleEndian([UInt64(4)]) + [0x7B, 0xFF, 0xFE, 0x7D], "binary.safetensors")
        assertDataError(try Safetensors.read(binary), file: binary, "not valid UTF-8")
        let missing = path("missing.safetensors")
        assertDataError(try Safetensors.read(missing), file: missing, "cannot open")
        // A valid file cut short: the last tensor now reaches past the end.
        let good = path("good.safetensors")
        try Safetensors.write(["w": .init(shape: [4], values: [1, 2, 3, 4])], to: good)
        let cut = try write(Array(try contents(good).dropLast(3)), "cut.safetensors")
        assertDataError(try Safetensors.read(cut), file: cut, "'w'", "reach past the end of the data (13 bytes)")
    }

    func testWriteRejectsInconsistentTensors() throws {
        let file = path("x.safetensors")
        assertDataError(try Safetensors.write(["w": .init(shape: [2, 3], values: [1])], metadata: [:], to: file),
                        file: file, "'w' has shape [2, 3] (6 values) but holds 1 values")
        assertDataError(try Safetensors.write(["w": .init(shape: [-1], values: [])], metadata: [:], to: file),
                        file: file, "invalid shape")
        assertDataError(try Safetensors.write(["__metadata__": .init(shape: [], values: [1])], metadata: [:], to: file),
                        file: file, "cannot be named __metadata__")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file))
    }
}
