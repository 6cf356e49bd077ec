// libFuzzer target: gzip-compressed IDX files. The first byte picks how the rest is used:
//   0: the rest is the file as it is (a gzip stream to corrupt, truncate, concatenate);
//   1: the rest is an uncompressed IDX file, gzipped here as one member (so the fuzzer
//      explores the IDX header behind a valid stream);
//   2: the same, gzipped as two members split in the middle;
//   3: the same, one member with its last byte (part of the length trailer) dropped.
@testable import Backprop
import CZlib

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDXGzip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = fuzzBytes(data + 1, size - 1)
    let file: [UInt8]
    switch data[0] % 4 {
    case 0: file = rest
    case 1: file = gzip(rest)
    case 2: file = gzip(Array(rest[..<(rest.count / 2)])) + gzip(Array(rest[(rest.count / 2)...]))
    default: file = Array(gzip(rest).dropLast())
    }
    let decodedBound = data[0] % 4 == 0 ? GzipInflater.inflatedBound(compressedCount: file.count) : rest.count
    if let images = parse("IDX.readImages", { try IDX.readImages(bytes: file, path: fuzzPath) }) {
        check(images.count <= decodedBound, "more pixels than the decompressed input")
    }
    if let labels = parse("IDX.readLabels", { try IDX.readLabels(bytes: file, path: fuzzPath) }) {
        check(labels.count <= decodedBound, "more labels than the decompressed input")
    }
    return 0
}

/// `bytes` as one gzip member (zlib `deflate` with a gzip wrapper).
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    let status = deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "deflateInit2 failed")
    defer { deflateEnd(&stream) }
    var input = bytes
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
    let written = input.withUnsafeMutableBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = uInt(dst.count)
            precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END, "deflate did not finish")
            return dst.count - Int(stream.avail_out)
        }
    }
    return Array(output[..<written])
}
