/// A file's bytes read front to back, inflated on the fly when the file is gzip (detected by
/// the magic bytes `1f 8b`, not by its name).
struct DecodedFile {
    /// The file's path, for error messages.
    let path: String
    private var raw: [UInt8]
    private var offset = 0
    private let inflater: GzipInflater?
    private var inflatedSoFar = 0
    private var inflatedBound = 0

    /// Prepares to decode `bytes`, the whole content of the file at `path` (named in errors),
    /// compressed or not.
    init(bytes: [UInt8], path: String) throws {
        self.path = path
        if FileBytes.isGzip(bytes) {
            inflater = try GzipInflater(compressed: bytes, file: path)
            inflatedBound = GzipInflater.inflatedBound(compressedCount: bytes.count)
            raw = []
        } else {
            inflater = nil
            raw = bytes
        }
    }

    /// Whether the file is gzip-compressed.
    var isCompressed: Bool { inflater != nil }

    /// The most decoded bytes still to come: exact for a raw file, deflate's largest
    /// expansion of the compressed size for a gzip file.
    var remainingBound: Int {
        inflater == nil ? raw.count - offset : max(inflatedBound - inflatedSoFar, 0)
    }

    /// Exactly `count` bytes.
    /// - Throws: `DataError` "truncated: …" naming `what` when the file ends first, or a gzip fault.
    mutating func read(_ count: Int, what: String) throws -> [UInt8] {
        if let inflater {
            var out: [UInt8] = []
            out.reserveCapacity(min(count, 1 << 24))
            let got = try inflater.read(upTo: count, appendingTo: &out)
            inflatedSoFar += got
            guard got == count else {
                throw DataError(file: path, fault: "truncated: expected \(count) bytes of \(what), the decompressed file holds only \(got)")
            }
            return out
        }
        guard raw.count - offset >= count else {
            throw DataError(file: path, fault: "truncated: expected \(count) bytes of \(what), the file holds only \(raw.count - offset)")
        }
        defer { offset += count }
        return Array(raw[offset..<(offset + count)])
    }

    /// Checks that nothing follows what was read (for gzip, also that the stream ends
    /// properly, which verifies its checksum).
    mutating func expectEnd(after what: String) throws {
        if let inflater {
            var extra: [UInt8] = []
            let more = try inflater.read(upTo: 1 << 16, appendingTo: &extra)
            if more > 0 {
                var total = more
                while true {
                    extra.removeAll(keepingCapacity: true)
                    let n = try inflater.read(upTo: 1 << 16, appendingTo: &extra)
                    if n == 0 { break }
                    total += n
                }
                throw DataError(file: path, fault: "\(total) unexpected bytes after the \(what) (decompressed)")
            }
            return
        }
        if offset < raw.count {
            throw DataError(file: path, fault: "\(raw.count - offset) unexpected bytes after the \(what)")
        }
    }
}
