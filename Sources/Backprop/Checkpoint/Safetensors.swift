/// The safetensors format (Hugging Face): an 8-byte little-endian header length `N`, `N` bytes
/// of UTF-8 JSON (`{"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
/// …, "__metadata__": {"key": "value", …}}`), then the tensors' bytes, little-endian,
/// row-major, with offsets relative to the end of the header.
///
/// The reader trusts nothing in the header: every length, offset, shape and dtype is checked
/// against the file before anything is allocated for it, and the tensors must tile the data
/// exactly (no overlap, no gap, nothing left over), as the reference implementation requires.
public enum Safetensors {
    /// A tensor's shape and its values in row-major order, as `Float`s.
    public struct Tensor: Sendable, Equatable {
        /// The dimensions, outermost first; `[]` is a scalar (one value).
        public var shape: [Int]
        /// `shape.reduce(1, *)` values, row-major.
        public var values: [Float]

        /// A tensor of `shape` holding `values` (checked when written: the counts must agree).
        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    /// The key of the metadata entry in the JSON header.
    static let metadataKey = "__metadata__"
    /// The largest header accepted: 100 MB, as the reference implementation.
    static let maximumHeaderLength = 100_000_000

    /// The dtype names of the format, and what they decode to.
    static let dtypes: [String: ScalarType] = [
        "F64": .float64, "F32": .float32, "F16": .float16, "BF16": .bfloat16,
        "I64": .int64, "I32": .int32, "I16": .int16, "I8": .int8,
        "U64": .uint64, "U32": .uint32, "U16": .uint16, "U8": .uint8, "BOOL": .bool,
    ]
}
