// libFuzzer target: a safetensors file (header length, JSON header, tensor data).
@testable import Backprop

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let (tensors, _) = parse("Safetensors.read", { try Safetensors.read(bytes: bytes, path: fuzzPath) }) else {
        return 0
    }
    var total = 0
    for (name, tensor) in tensors {
        check(checkedProduct(tensor.shape) == tensor.values.count, "tensor '\(name)': values and shape \(tensor.shape) disagree")
        total += tensor.values.count
    }
    check(total <= size, "more values than input bytes")
    return 0
}
