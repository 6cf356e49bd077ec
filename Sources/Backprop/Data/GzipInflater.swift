import CZlib

/// Streaming gzip decompression with zlib (`inflateInit2` with `16 + MAX_WBITS`): the caller
/// asks for a bounded number of bytes at a time, so a stream is never inflated past what the
/// caller has decided to accept. Concatenated gzip members are read as one stream; each
/// member's CRC-32 and length are checked by zlib when its end is reached.
final class GzipInflater {
    /// The file the compressed bytes came from, for error messages.
    let file: String
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// Whether the end of the last member has been reached (and its checksum verified).
    private(set) var finished = false

    /// The most bytes a deflate stream of `compressedCount` bytes can inflate to: deflate's
    /// largest ratio is 1032:1, plus room for headers.
    static func inflatedBound(compressedCount: Int) -> Int {
        compressedCount.multipliedReportingOverflow(by: 1032).overflow ? Int.max : compressedCount * 1032 + 1024
    }

    /// An inflater over `compressed`, the whole content of the gzip file `file`.
    init(compressed: [UInt8], file: String) throws {
        self.file = file
        consumed = 0
        total = compressed.count
        input = .allocate(capacity: max(compressed.count, 1))
        _ = input.initialize(from: compressed)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        stream.pointee.next_in = input.baseAddress
        stream.pointee.avail_in = 0
        let status = inflateInit2_(stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw DataError(file: file, fault: "cannot start gzip decompression (zlib status \(status))")
        }
    }

    private var consumed: Int
    private let total: Int

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Inflates up to `limit` more bytes and appends them to `output`; returns how many were
    /// appended, fewer than `limit` only at the end of the stream.
    /// - Throws: `DataError` for corrupt data, a failed checksum, a truncated stream or
    ///   garbage after the last member.
    func read(upTo limit: Int, appendingTo output: inout [UInt8]) throws -> Int {
        precondition(limit >= 0)
        var produced = 0
        while produced < limit && !finished {
            let want = min(limit - produced, 1 << 24)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: want))
            let got = try output.withUnsafeMutableBufferPointer { out in
                try inflate(into: out.baseAddress! + start, count: want)
            }
            output.removeLast(want - got)
            produced += got
            if got < want && !finished { break }
        }
        return produced
    }

    /// Inflates into `destination[0..<count]`; returns the number of bytes written.
    private func inflate(into destination: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
        let z = stream
        z.pointee.next_out = destination
        z.pointee.avail_out = UInt32(count)
        while z.pointee.avail_out > 0 {
            if z.pointee.avail_in == 0 && consumed < total {
                let feed = min(total - consumed, Int(UInt32.max >> 1))
                z.pointee.next_in = input.baseAddress! + consumed
                z.pointee.avail_in = UInt32(feed)
                consumed += feed
            }
            let status = CZlib.inflate(z, Z_NO_FLUSH)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                let remaining = Int(z.pointee.avail_in) + (total - consumed)
                if remaining == 0 {
                    finished = true
                    return count - Int(z.pointee.avail_out)
                }
                let next = z.pointee.next_in!
                if remaining >= 2 && next[0] == 0x1f && next[1] == 0x8b {
                    inflateReset(z)
                    continue
                }
                throw DataError(file: file, fault: "\(remaining) bytes of trailing garbage after the gzip stream")
            case Z_BUF_ERROR:
                if z.pointee.avail_in == 0 && consumed == total {
                    throw DataError(file: file, fault: "truncated gzip stream: it ends before its end-of-stream marker")
                }
                throw DataError(file: file, fault: "gzip decompression made no progress (zlib buffer error)")
            case Z_MEM_ERROR:
                throw DataError(file: file, fault: "out of memory while decompressing gzip data")
            default:
                let message = z.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw DataError(file: file, fault: "corrupt gzip data: \(message)")
            }
        }
        return count
    }
}
