/// The element types of NPY and safetensors files, and their conversion to `Float`/`Int`.
enum ScalarType: Sendable, Hashable {
    case float16, bfloat16, float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case bool

    /// Bytes per element.
    var size: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Whether the elements are integers (bool excluded).
    var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return true
        default: return false
        }
    }

    /// Converts `count` elements stored from `source` (any alignment; little-endian unless
    /// `bigEndian`) to `Float`: float32 exactly, float16 and bfloat16 exactly, float64 and
    /// wide integers rounded to nearest, bool to 0 or 1.
    func convert(_ source: UnsafeRawPointer, count: Int, bigEndian: Bool, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32:
            for i in 0..<count { out[i] = Float(bitPattern: Self.load(source, i, bigEndian) as UInt32) }
        case .float64:
            for i in 0..<count { out[i] = Float(Double(bitPattern: Self.load(source, i, bigEndian) as UInt64)) }
        case .float16:
            for i in 0..<count { out[i] = Self.float(halfBits: Self.load(source, i, bigEndian)) }
        case .bfloat16:
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(Self.load(source, i, bigEndian) as UInt16) << 16) }
        case .int8: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as Int8) }
        case .int16: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as Int16) }
        case .int32: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as Int32) }
        case .int64: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as Int64) }
        case .uint8: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as UInt8) }
        case .uint16: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as UInt16) }
        case .uint32: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as UInt32) }
        case .uint64: for i in 0..<count { out[i] = Float(Self.load(source, i, bigEndian) as UInt64) }
        case .bool: for i in 0..<count { out[i] = (Self.load(source, i, bigEndian) as UInt8) != 0 ? 1 : 0 }
        }
    }

    /// Element `i` as an `Int` for integer types; `nil` for a `uint64` above `Int.max` or a non-integer type.
    func integer(_ source: UnsafeRawPointer, _ i: Int, bigEndian: Bool) -> Int? {
        switch self {
        case .int8: return Int(Self.load(source, i, bigEndian) as Int8)
        case .int16: return Int(Self.load(source, i, bigEndian) as Int16)
        case .int32: return Int(Self.load(source, i, bigEndian) as Int32)
        case .int64: return Int(Self.load(source, i, bigEndian) as Int64)
        case .uint8: return Int(Self.load(source, i, bigEndian) as UInt8)
        case .uint16: return Int(Self.load(source, i, bigEndian) as UInt16)
        case .uint32: return Int(Self.load(source, i, bigEndian) as UInt32)
        case .uint64: return Int(exactly: Self.load(source, i, bigEndian) as UInt64)
        default: return nil
        }
    }

    @inline(__always)
    static func load<T: FixedWidthInteger>(_ source: UnsafeRawPointer, _ i: Int, _ bigEndian: Bool) -> T {
        let raw = source.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
        return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
    }

    /// An IEEE 754 binary16 value as a `Float`, exactly (every half is a float): subnormals,
    /// infinities, signed zeros, and NaN payloads (shifted into the float's payload) included.
    static func float(halfBits h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = UInt32(h >> 10) & 0x1F
        let fraction = UInt32(h) & 0x3FF
        switch exponent {
        case 0:
            let magnitude = Float(fraction) * 0x1p-24  // exact: fraction < 2^10
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)
        }
    }
}
