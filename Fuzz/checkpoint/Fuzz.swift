// libFuzzer target: a checkpoint (a safetensors file whose tensors and metadata make an MLP).
@testable import Backprop

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let checkpoint = parse("Checkpoint.load", { try Checkpoint.load(bytes: bytes, path: fuzzPath) }) else {
        return 0
    }
    let sizes = checkpoint.model.sizes
    check(sizes.count == checkpoint.model.layers.count + 1 && sizes.allSatisfy { $0 > 0 }, "bad sizes \(sizes)")
    check(checkpoint.model.activations.count == checkpoint.model.layers.count, "activations and layers disagree")
    check(checkpoint.epoch >= 0 && (checkpoint.training?.stepCount ?? 0) >= 0, "negative epoch or step")
    check(checkpoint.metadata.keys.allSatisfy { !Checkpoint.reservedMetadataKeys.contains($0) }, "reserved key returned")
    return 0
}
