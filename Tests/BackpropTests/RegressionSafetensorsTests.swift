import Backprop
import XCTest

/// Inputs the safetensors reader once accepted or crashed on, kept byte for byte (replay with
/// the `safetensors` fuzz target).
final class RegressionSafetensorsTests: DataTestCase {
    /// Shape [0, 2^32, 2^32] with no data: the reader accepted it (0 values), but the tensor's
    /// documented count `shape.reduce(1, *)` traps on overflow. Found while writing the fuzz
    /// target's invariant check (after the IDX overflow libFuzzer found); refused now.
    func testZeroDimensionHidingAnOverflow() throws {
        let header = #"{"t":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#
        let input: [UInt8] = [UInt8(header.utf8.count), 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
        let file = try write(input, "zero-overflow.safetensors")
        assertDataError(try Safetensors.read(file), file: file, "tensor 't': shape [0, 4294967296, 4294967296] overflows")
        assertDataError(try Checkpoint.load(file), file: file, "overflows")
    }

    /// A zero dimension beside sizes whose product fits is still an empty tensor.
    func testZeroDimensionWithLargeSizesIsEmpty() throws {
        let header = #"{"t":{"dtype":"F32","shape":[4294967296,0,1024],"data_offsets":[0,0]}}"#
        let input: [UInt8] = [UInt8(header.utf8.count), 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
        let tensors = try Safetensors.read(try write(input, "zero-large.safetensors")).tensors
        XCTAssertEqual(tensors["t"], Safetensors.Tensor(shape: [4_294_967_296, 0, 1024], values: []))
    }
}
