extension Safetensors {
    /// Writes `tensors` as `F32` and `metadata` (omitted when empty) to `path`, atomically
    /// (`AtomicFile`): the tensors in the order of their sorted names, back to back, and the
    /// JSON header padded with spaces to a multiple of 8 bytes so that the data is 8-byte aligned.
    /// Values are written bitwise (NaN payloads and signed zeros included).
    /// - Throws: `DataError` naming `path` when a tensor's shape has a negative dimension or
    ///   does not match its value count, a tensor is named `__metadata__`, or the write fails.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(encode(tensors, metadata: metadata, file: path), to: path)
    }

    /// The bytes of a safetensors file; `file` names the destination in errors.
    static func encode(_ tensors: [String: Tensor], metadata: [String: String], file: String) throws -> [UInt8] {
        let names = tensors.keys.sorted()
        var header = "{"
        if !metadata.isEmpty {
            header += jsonString(metadataKey) + ":{"
            header += metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0]!) }.joined(separator: ",")
            header += "}"
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            guard name != metadataKey else {
                throw DataError(file: file, fault: "a tensor cannot be named \(metadataKey)")
            }
            var count = 1
            for d in tensor.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else {
                    throw DataError(file: file, fault: "tensor '\(name)' has an invalid shape \(tensor.shape)")
                }
                count = product
            }
            guard count == tensor.values.count else {
                throw DataError(file: file, fault: "tensor '\(name)' has shape \(tensor.shape) (\(count) values) "
                    + "but holds \(tensor.values.count) values")
            }
            if header.count > 1 { header += "," }
            header += jsonString(name) + ":{\"dtype\":\"F32\",\"shape\":["
                + tensor.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(offset + 4 * count)]}"
            offset += 4 * count
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let length = UInt64(headerBytes.count)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(k)))) }
        out += headerBytes
        for name in names {
            for v in tensors[name]!.values {
                let bits = v.bitPattern
                out.append(UInt8(truncatingIfNeeded: bits))
                out.append(UInt8(truncatingIfNeeded: bits >> 8))
                out.append(UInt8(truncatingIfNeeded: bits >> 16))
                out.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return out
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
