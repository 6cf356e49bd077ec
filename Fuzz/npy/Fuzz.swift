// libFuzzer target: an NPY file (any version, dtype, order, shape), read as a matrix and as labels.
@testable import Backprop

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    if let matrix = parse("NPY.readMatrix", { try NPY.readMatrix(bytes: bytes, path: fuzzPath) }) {
        check(matrix.count <= size, "more elements than input bytes")
    }
    if let labels = parse("NPY.readLabels", { try NPY.readLabels(bytes: bytes, path: fuzzPath) }) {
        check(labels.count <= size, "more labels than input bytes")
        check(labels.allSatisfy { $0 >= 0 }, "a negative label")
    }
    return 0
}
