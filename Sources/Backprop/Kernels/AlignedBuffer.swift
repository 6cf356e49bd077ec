/// A fixed-size, 64-byte-aligned, zero-initialised array of `Float`s on the heap (from 2 MiB up,
/// on transparent huge pages where the system allows: see `allocateStorage`).
///
/// Reference type: copies share storage. `Matrix` adds value semantics on top.
public final class AlignedBuffer: @unchecked Sendable {
    /// The first element; valid for `count` elements while the buffer lives.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Alignment of `base` in bytes: one cache line, and one AVX-512 register.
    public static let alignment = 64

    /// A zero-filled buffer of `count` floats (`count` may be 0).
    public init(count: Int) {
        precondition(count >= 0, "AlignedBuffer count must be non-negative")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = AlignedBuffer.allocateStorage(byteCount: bytes)
        base = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }

    /// The elements as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base, count: count)
    }
}
