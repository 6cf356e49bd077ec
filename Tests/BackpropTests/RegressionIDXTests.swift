import Backprop
import XCTest

/// Inputs the `idx` fuzz target (Fuzz/idx) found to crash a reader, kept byte for byte.
final class RegressionIDXTests: DataTestCase {
    /// 0 images of 0xFFFFFFFF × 0xFFFFFF0B pixels: the element count is 0, but the pixels per
    /// image overflowed `Int` (an arithmetic-overflow trap in `readImages`). Found by libFuzzer.
    func testZeroImagesOfOverflowingSize() throws {
        let input: [UInt8] = [0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x00, 0x00,
                              0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0B]
        let file = try write(input, "zero-images.idx")
        assertDataError(try IDX.readImages(file), file: file, "IDX dimensions [0, 4294967295, 4294967051] overflow")
        let gzipped = try write(Self.gzip(input), "zero-images.idx.gz")
        assertDataError(try IDX.readImages(gzipped), file: gzipped, "overflow")
    }

    /// The largest sizes that do not overflow still read as an empty matrix when there are no images.
    func testZeroImagesOfLargeSizeIsEmpty() throws {
        let file = try write(Self.idx(dims: [0, 0xFFFF_FFFF, 2], data: []), "zero-large.idx")
        let images = try IDX.readImages(file)
        XCTAssertEqual(images.rows, 0)
        XCTAssertEqual(images.columns, 0x1_FFFF_FFFE)
    }
}
