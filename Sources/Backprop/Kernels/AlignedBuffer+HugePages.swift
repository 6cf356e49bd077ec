import CBackpropSupport

extension AlignedBuffer {
    /// Bytes of a transparent huge page on x86-64 and on arm64 with 4 KiB base pages.
    static let hugePageSize = 2 << 20

    /// Raw storage for `byteCount` bytes (at least 1), released with `deallocate()`.
    ///
    /// Below 2 MiB: 64-byte aligned heap memory. From 2 MiB up (weights, gradients,
    /// activations, packed panels and batches of any real model): 2 MiB aligned, the length
    /// rounded up to whole 2 MiB, and advised onto transparent huge pages (madvise
    /// `MADV_HUGEPAGE`), so that a GEMM walking a 4 KiB-strided operand, or the tiles of a
    /// 4–64 MiB `C`, hits one TLB entry per 2 MiB instead of one per page. The advice only asks:
    /// with THP set to `never`, or no huge page free, the memory is the same memory on base
    /// pages, and nothing else changes (results never depend on it). Systems whose THP setting
    /// is `always` back such regions anyway; the default of many distributions, `madvise`, only
    /// those advised. Memory placed by a NUMA policy (`NUMAMemory`) is not advised: a huge page
    /// would put 2 MiB on the node of its first touch, coarser than the per-worker placement.
    ///
    /// Measured on the AVX2-only Zen 1 EPYC (2 vCPUs, THP `madvise`; interleaved rounds,
    /// `scripts/ab-compare`, samples/s advised ÷ not, medians of the rounds): config B +4.6%
    /// [+1.8 – +5.4%] at one thread and +2.8% at two in one run, +0.9% [−11 – +2.8%] at one
    /// thread in another; A, C and D within that machine's noise (±5–9% a round); one-thread
    /// GEMMs by the thread's CPU clock, `mlp-bench gemm --config B,D --no-openblas`, two rounds:
    /// the 1024×1024×1024 products +2 to +6%, 1024×1024×784 −5%, the 4096-wide ones −1 to +2%
    /// (`Benchmarks/measurements/2026-11-28-zen1-avx2-huge-pages/`).
    static func allocateStorage(byteCount: Int) -> UnsafeMutableRawPointer {
        let bytes = max(byteCount, 1)
        guard bytes >= hugePageSize else {
            return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
        }
        let rounded = (bytes + hugePageSize - 1) / hugePageSize * hugePageSize
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: hugePageSize)
        _ = bp_advise_huge_pages(raw, rounded)  // advisory: base pages when refused
        return raw
    }
}
