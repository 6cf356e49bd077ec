import Backprop
import XCTest

/// Inputs that crashed the NPY reader, kept byte for byte (replay with the `npy` fuzz target).
final class RegressionNPYTests: DataTestCase {
    /// Shape (0, 2^32, 2^32): zero elements, but the columns of the matrix (2^64) overflowed
    /// `Int` (an arithmetic-overflow trap in `readMatrix`). The same fault as the IDX reader's,
    /// which libFuzzer found; this input was written for NPY after it and traps the old reader.
    func testZeroRowsOfOverflowingSize() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }\n"
        let input: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, UInt8(header.utf8.count), 0x00]
            + Array(header.utf8)
        let file = try write(input, "zero-rows.npy")
        assertDataError(try NPY.readMatrix(file), file: file, "shape (0, 4294967296, 4294967296) overflows")
        assertDataError(try NPY.readLabels(file), file: file, "overflows")
    }

    /// A zero row count with a large row size that fits reads as an empty matrix.
    func testZeroRowsOfLargeSizeIsEmpty() throws {
        let header = "{'descr': '<f4', 'fortran_order': True, 'shape': (0, 4294967296, 2), }\n"
        let input: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, UInt8(header.utf8.count), 0x00]
            + Array(header.utf8)
        let matrix = try NPY.readMatrix(try write(input, "zero-rows-large.npy"))
        XCTAssertEqual(matrix.rows, 0)
        XCTAssertEqual(matrix.columns, 8_589_934_592)
    }
}
