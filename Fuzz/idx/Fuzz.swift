// libFuzzer target: an uncompressed (or, when it starts 1f 8b, gzip) IDX file, read as
// images (2-D or 3-D) and as labels (1-D).
@testable import Backprop

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    if let images = parse("IDX.readImages", { try IDX.readImages(bytes: bytes, path: fuzzPath) }) {
        check(images.count <= size, "more pixels than input bytes")
        images.withUnsafeBufferPointer { values in
            check(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "a pixel outside [0, 1]")
        }
    }
    if let labels = parse("IDX.readLabels", { try IDX.readLabels(bytes: bytes, path: fuzzPath) }) {
        check(labels.count <= size, "more labels than input bytes")
        check(labels.allSatisfy { (0...255).contains($0) }, "a label outside 0...255")
    }
    return 0
}
