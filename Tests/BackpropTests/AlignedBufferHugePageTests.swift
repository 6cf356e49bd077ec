// AlignedBuffer storage: alignment, zeroing, and the huge-page advice from 2 MiB up.
@testable import Backprop
import Foundation
import XCTest

final class AlignedBufferHugePageTests: XCTestCase {
    func testSmallBufferIsCacheLineAlignedAndZeroed() {
        let buffer = AlignedBuffer(count: 1000)
        XCTAssertEqual(Int(bitPattern: buffer.base) % AlignedBuffer.alignment, 0)
        XCTAssertTrue(buffer.buffer.allSatisfy { $0 == 0 })
    }

    /// From 2 MiB up the storage starts on a 2 MiB boundary, is zeroed to its last float, and
    /// (where the kernel has transparent huge pages) its mapping carries the `hg` flag that
    /// madvise(MADV_HUGEPAGE) sets.
    func testLargeBufferIsHugePageAlignedAndAdvised() throws {
        let count = 3 << 19  // 1.5 M floats, 6 MiB
        let buffer = AlignedBuffer(count: count + 5)  // 20 bytes more: rounded up to 8 MiB
        XCTAssertEqual(Int(bitPattern: buffer.base) % AlignedBuffer.hugePageSize, 0)
        XCTAssertEqual(buffer.base[0], 0)
        XCTAssertEqual(buffer.base[count / 2], 0)
        XCTAssertEqual(buffer.base[count + 4], 0)
        buffer.base[count + 4] = 7
        XCTAssertEqual(buffer.base[count + 4], 7)
        try Self.assertAdvised(buffer.base)

        let floats = allocateFloats(count)
        defer { freeFloats(floats) }
        XCTAssertEqual(Int(bitPattern: floats) % AlignedBuffer.hugePageSize, 0)
        floats.initialize(repeating: 1, count: count)
        XCTAssertEqual(floats[count - 1], 1)
        try Self.assertAdvised(floats)
    }

    private static func assertAdvised(_ pointer: UnsafeMutablePointer<Float>,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        #if os(Linux)
        guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else {
            throw XCTSkip("this kernel has no transparent huge pages")
        }
        let flags = try XCTUnwrap(vmFlags(containing: pointer), "no mapping in /proc/self/smaps holds the buffer",
                                  file: file, line: line)
        XCTAssertTrue(flags.contains("hg"), "VmFlags \(flags): not advised onto huge pages", file: file, line: line)
        #else
        throw XCTSkip("transparent huge pages are Linux's")
        #endif
    }

    /// The `VmFlags` of the mapping in `/proc/self/smaps` that holds `pointer`, or nil.
    private static func vmFlags(containing pointer: UnsafeMutablePointer<Float>) -> [String]? {
        // Read to the end: procfs reports a size of 0, and smaps is long.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"),
              let data = try? handle.readToEnd(), let smaps = String(data: data, encoding: .utf8) else { return nil }
        try? handle.close()
        let address = UInt(bitPattern: pointer)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), !first.hasSuffix(":") {
                let bounds = first.split(separator: "-")
                if bounds.count == 2, let lo = UInt(bounds[0], radix: 16), let hi = UInt(bounds[1], radix: 16) {
                    inside = lo <= address && address < hi
                    continue
                }
            }
            if inside && first == "VmFlags:" { return fields.dropFirst().map(String.init) }
        }
        return nil
    }
}
