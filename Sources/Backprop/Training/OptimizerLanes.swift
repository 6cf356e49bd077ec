/// Unaligned 8-float loads and stores for the optimizers' update loops.
///
/// The loops process 8 elements at a time and the rest one by one; every operation is
/// element-wise and correctly rounded (`+ − × ÷ √`, no fused multiply-add), so an element gets
/// bitwise the same result in a vector or in the scalar tail, and results do not depend on
/// where the trainer cuts its chunks.
enum OptimizerLanes {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ j: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>, _ j: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ j: Int) {
        UnsafeMutableRawPointer(p + j).storeBytes(of: x, as: SIMD8<Float>.self)
    }

    /// `count` rounded down to a multiple of 8.
    @inline(__always)
    static func vectorEnd(_ count: Int) -> Int { count & ~7 }
}
