import Foundation

extension Safetensors {
    /// The tensors and metadata of the safetensors file at `path`, every dtype converted to
    /// `Float`: `F32` bitwise, `F16` and `BF16` exactly, `F64` and 32/64-bit integers rounded
    /// to the nearest `Float`, `BOOL` as 0 or 1.
    /// - Throws: `DataError` naming `path` and the fault: a missing or unreadable file; a file
    ///   shorter than 8 bytes; a header length beyond the file (or above 100 MB); a header that
    ///   is not UTF-8, not JSON, or not an object; an entry without a valid `dtype`, `shape`
    ///   (non-negative integers whose product, zeros left out, fits in `Int`) or `data_offsets`
    ///   (two integers, begin ≤ end); an unsupported dtype (`F8_*`); offsets outside the data;
    ///   a byte count that differs from shape × dtype size; tensors that overlap or leave
    ///   bytes of the data uncovered; and metadata that is not an object of strings.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try read(bytes: FileBytes.read(path), path: path)
    }

    /// `read` of `bytes`, the whole content of the file at `path` (named in errors).
    static func read(bytes: [UInt8], path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fault(_ message: String) -> DataError { DataError(file: path, fault: message) }

        guard bytes.count >= 8 else {
            throw fault("truncated: \(bytes.count) bytes, but a safetensors file starts with an 8-byte header length")
        }
        var declared: UInt64 = 0
        for k in 0..<8 { declared |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard declared <= UInt64(bytes.count - 8) else {
            throw fault("header length \(declared) is beyond the file (\(bytes.count - 8) bytes follow the length)")
        }
        let headerLength = Int(declared)
        guard headerLength <= maximumHeaderLength else {
            throw fault("header length \(headerLength) exceeds the \(maximumHeaderLength)-byte limit")
        }
        let headerBytes = Array(bytes[8..<(8 + headerLength)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fault("the header is not valid UTF-8")
        }
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fault("the header is not a JSON object (it must start with '{')")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            throw fault("the header is not valid JSON")
        }
        guard let object = json as? [String: Any] else { throw fault("the header is not a JSON object") }

        var metadata: [String: String] = [:]
        if let raw = object[metadataKey] {
            guard let entries = raw as? [String: Any] else { throw fault("\(metadataKey) is not a JSON object") }
            for (key, value) in entries {
                guard let text = value as? String else {
                    throw fault("\(metadataKey) entry '\(key)' is not a string")
                }
                metadata[key] = text
            }
        }

        struct Entry { var name: String; var type: ScalarType; var shape: [Int]; var count: Int; var begin: Int; var end: Int }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var entries: [Entry] = []
        for (name, raw) in object where name != metadataKey {
            guard let info = raw as? [String: Any] else { throw fault("tensor '\(name)': the entry is not a JSON object") }
            guard let dtypeName = info["dtype"] as? String else { throw fault("tensor '\(name)': no dtype string") }
            guard let type = dtypes[dtypeName] else {
                throw fault("tensor '\(name)': dtype '\(dtypeName)' is not supported (expected one of "
                    + dtypes.keys.sorted().joined(separator: ", ") + ")")
            }
            guard let shapeList = info["shape"] as? [Any] else { throw fault("tensor '\(name)': no shape list") }
            var shape: [Int] = []
            for d in shapeList {
                guard let n = jsonInteger(d), n >= 0 else {
                    throw fault("tensor '\(name)': shape \(describe(shapeList)) is not a list of non-negative integers")
                }
                shape.append(n)
            }
            guard let offsetList = info["data_offsets"] as? [Any], offsetList.count == 2,
                  let begin = jsonInteger(offsetList[0]), let end = jsonInteger(offsetList[1]), begin >= 0, begin <= end else {
                throw fault("tensor '\(name)': data_offsets \(describe(info["data_offsets"] ?? "missing")) "
                    + "are not two integers 0 ≤ begin ≤ end")
            }
            guard end <= dataLength else {
                throw fault("tensor '\(name)': data_offsets [\(begin), \(end)] reach past the end of the data "
                    + "(\(dataLength) bytes)")
            }
            // The product of the non-zero dimensions must fit in `Int`, so that a zero
            // dimension cannot hide an overflow from whoever multiplies the shape in another order.
            var count = 1
            for d in shape where d != 0 {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fault("tensor '\(name)': shape \(shape) overflows") }
                count = product
            }
            if shape.contains(0) { count = 0 }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: type.size)
            guard !overflow, byteCount == end - begin else {
                throw fault("tensor '\(name)': shape \(shape) of \(dtypeName) needs \(overflow ? "more" : "\(byteCount)") "
                    + "bytes but data_offsets [\(begin), \(end)] hold \(end - begin)")
            }
            entries.append(Entry(name: name, type: type, shape: shape, count: count, begin: begin, end: end))
        }

        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: String?
        for entry in entries {
            if entry.begin < covered {
                throw fault("tensors '\(previous!)' and '\(entry.name)' overlap at bytes \(entry.begin)..<\(covered)")
            }
            if entry.begin > covered {
                throw fault("bytes \(covered)..<\(entry.begin) of the data are not covered by any tensor")
            }
            covered = entry.end
            previous = entry.name
        }
        if covered != dataLength {
            throw fault("bytes \(covered)..<\(dataLength) of the data are not covered by any tensor")
        }

        var tensors: [String: Tensor] = [:]
        bytes.withUnsafeBytes { raw in
            for entry in entries {
                let values = [Float](unsafeUninitializedCapacity: entry.count) { out, initialized in
                    if entry.count > 0 {
                        entry.type.convert(raw.baseAddress! + dataStart + entry.begin, count: entry.count,
                                           bigEndian: false, into: out.baseAddress!)
                    }
                    initialized = entry.count
                }
                tensors[entry.name] = Tensor(shape: entry.shape, values: values)
            }
        }
        return (tensors, metadata)
    }

    /// A JSON number that is an integer (not a boolean, not a fraction, within `Int`).
    static func jsonInteger(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        switch String(cString: number.objCType) {
        case "s", "i", "l", "q", "C", "S", "I", "L":
            return Int(exactly: number.int64Value)
        case "Q":
            return Int(exactly: number.uint64Value)
        default:
            return nil  // "c" is a boolean; "d" and "f" are fractions or out-of-range numbers
        }
    }

    private static func describe(_ value: Any) -> String {
        if let list = value as? [Any] { return "[" + list.map { describe($0) }.joined(separator: ", ") + "]" }
        if let text = value as? String { return "\"\(text)\"" }
        return "\(value)"
    }
}
