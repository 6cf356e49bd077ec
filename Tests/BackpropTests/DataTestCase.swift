import Backprop
import CZlib
import Foundation
import XCTest

/// Base class of the data and checkpoint tests: a fresh temporary directory per test, and
/// helpers that write the files under test (gzip with zlib itself, independent of the reader).
class DataTestCase: XCTestCase {
    /// A directory that exists for the duration of one test.
    var directory = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = NSTemporaryDirectory() + "/backprop-data-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if !directory.isEmpty {
            chmod(directory, 0o755)
            try? FileManager.default.removeItem(atPath: directory)
        }
        try super.tearDownWithError()
    }

    /// `directory/name`.
    func path(_ name: String) -> String { directory + "/" + name }

    /// Writes `bytes` to `directory/name` and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Writes `text` as UTF-8 to `directory/name` and returns its path.
    @discardableResult
    func write(text: String, _ name: String) throws -> String {
        try write(Array(text.utf8), name)
    }

    /// The file's bytes.
    func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Asserts that `body` throws a `DataError` whose file is `file` and whose description
    /// starts with `"file: "` and contains every string of `faultContains`.
    func assertDataError<T>(_ body: @autoclosure () throws -> T, file: String, _ faultContains: String...,
                            line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected a DataError about \(file)", line: line)
        } catch let error as DataError {
            XCTAssertEqual(error.file, file, line: line)
            XCTAssertTrue(error.description.hasPrefix(file + ": "), error.description, line: line)
            XCTAssertFalse(error.description.contains("\n"), error.description, line: line)
            for part in faultContains {
                XCTAssertTrue(error.fault.contains(part), "\"\(error.fault)\" lacks \"\(part)\"", line: line)
            }
        } catch {
            XCTFail("expected a DataError, got \(type(of: error)): \(error)", line: line)
        }
    }

    /// `bytes` compressed as one gzip member with zlib's deflate.
    static func gzip(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                       zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK)
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let produced = input.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END)
                return dst.count - Int(stream.avail_out)
            }
        }
        deflateEnd(&stream)
        return Array(output[0..<produced])
    }

    /// An IDX file of unsigned bytes with dimensions `dims` (the header is written as given,
    /// so it may lie about `data`).
    static func idx(dims: [UInt32], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var out: [UInt8] = [0, 0, type, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24), UInt8((d >> 16) & 255), UInt8((d >> 8) & 255), UInt8(d & 255)] }
        return out + data
    }
}
