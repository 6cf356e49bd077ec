// The register tile and cache blocks of the GEMM, per instruction set (see GEMM.swift for
// the loops that use them). Compiled three times, like every file of this module.

/// One SIMD register of floats: a zmm register (AVX-512), a ymm register (AVX2), else 128 bits.
#if BACKPROP_AVX512
typealias Vector = SIMD16<Float>
#elseif BACKPROP_AVX2
typealias Vector = SIMD8<Float>
#else
typealias Vector = SIMD4<Float>
#endif

/// Register tile and cache block sizes. Computed properties of literals, so they fold to
/// constants in the kernels (a global `let` would go through a lazy-initialisation check).
///
/// The micro-kernel keeps an `mr × nr` tile of `C` in `2·mr` vector registers (`nr` is two
/// vectors wide) and streams packed panels of `op(A)` (`mr` floats per `k` step) and `op(B)`
/// (`nr` floats per `k` step). Around it, BLIS style:
/// - `nc` columns of `op(B)` × `kc` steps are packed once (in L3) and reused by all row blocks;
/// - `mc` rows of `op(A)` × `kc` steps (kept in L2) are reused by every `nr`-wide column
///   panel: packed once per row block when `op(A)` is stored `k × m`, read in place when it is
///   stored `m × k` (its rows are runs along `k` already) except on AVX2 (`packsStoredA`);
/// - one `kc × nr` micro-panel of `op(B)` stays in L1 while the `mr`-row panels stream past.
///
/// Sizes are chosen for Zen 4/5 (32/48 KiB L1d, 1 MiB L2): a `kc × nr` micro-panel (128 KiB for
/// AVX-512, 16 KiB for AVX2) is L1- or L2-sized, and even streamed from L2 it costs only 128
/// bytes per 16 FMAs; the `mc × kc` block (576 KiB AVX-512, 144 KiB AVX2) and the `kc × nc`
/// block (4 MiB, 1 MiB) stay in L2/L3.
/// Measured on Zen 5 (48 KiB L1d): `mc` 96…288 and `nc` 1024…4096 were within noise of each
/// other (with `op(A)` in place, at `kc = 512`: `mc` 96 ran C 4–6% slower, 192 and 288 within
/// ±2.6% of 144); `nc = 1024` keeps the workspace at 4.7 MB per thread (AVX-512) or 1.2 MB
/// (AVX2); for AVX-512, `kc = 1024` (see there).
/// They never change results: see `GEMMProblem`.
enum Blocking {
    #if BACKPROP_AVX512
    /// Rows of the register tile: 8 × 2 zmm accumulators, 2 for `op(B)`, 1 broadcast, of 32
    /// (measured: 8 rows ran 5–10% faster than 10, 12 or 14 rows, and as fast as 6).
    @inline(__always) static var mr: Int { 8 }
    /// Steps of `k` per packed block, at most (the GEMM splits `k` into equal blocks). Each block
    /// is a pass over `C` (a load and a store of every tile), so fewer is better while the
    /// panels still stream from L2: 512 halved the passes of 256 (measured on Zen 5 against
    /// OpenBLAS's AVX-512 kernels in the same run: 1024-wide products 0.93–0.97× → 0.97–1.01×,
    /// the 4096-wide ones of config D 0.88–0.96× → 0.97–1.02×; 384 was slower than both), and
    /// once `op(A)` stored `m × k` was read in place (no `mc × kc` packing to grow), 1024 halved
    /// them again: whole training steps, interleaved rounds, B +5.0%/+3.5%, D +4.2%/+2.3% at 1/2
    /// threads, A and C +1%; B's products 0.95–1.02× → 0.98–1.04× OpenBLAS. The `kc × nr`
    /// micro-panel of `op(B)` (128 KiB) streams from L2, which the 2 loads per 16 FMAs keep up
    /// with; the in-place `mc × kc` block of `op(A)` (576 KiB) stays there beside it.
    @inline(__always) static var kc: Int { 1024 }
    /// Rows of `op(A)` per packed block (a multiple of `mr`).
    @inline(__always) static var mc: Int { 144 }
    #elseif BACKPROP_AVX2
    /// Rows of the register tile: 6 × 2 ymm accumulators, 2 for `op(B)`, 1 broadcast, of 16.
    @inline(__always) static var mr: Int { 6 }
    @inline(__always) static var kc: Int { 256 }
    @inline(__always) static var mc: Int { 144 }
    #elseif arch(arm64)
    /// Rows of the register tile: 8 × 2 NEON accumulators, 2 for `op(B)`, 1 broadcast, of 32.
    @inline(__always) static var mr: Int { 8 }
    @inline(__always) static var kc: Int { 256 }
    @inline(__always) static var mc: Int { 128 }
    #else
    /// Rows of the register tile: 4 × 2 SSE accumulators, 2 for `op(B)`, a broadcast and a
    /// product (no FMA in baseline x86-64), of 16.
    @inline(__always) static var mr: Int { 4 }
    @inline(__always) static var kc: Int { 256 }
    @inline(__always) static var mc: Int { 128 }
    #endif

    /// Whether an `op(A)` stored `m × k` (activations, deltas: the forward and propagation
    /// products) is packed into `mr`-row panels like one stored `k × m`, rather than read in
    /// place. AVX-512: in place (Zen 5, whole training steps: A, B, C +3% over packed).
    /// (On the 16-vCPU Xeon, packed: B 0.74×/0.94× at one thread, D 1.05×/1.07× at 16, two rounds
    /// in a noisy guest; left in place.)
    /// AVX2: packed. Measured on an AVX2-only Zen 1 EPYC (2 vCPUs, 32 KiB L1d, 512 KiB L2): the
    /// six rows read in place cost the micro-kernels 5% (perf, B at one thread: 5.4% fewer
    /// micro-kernel samples, packing 0.8% more, the step 4.6% shorter); whole training steps,
    /// `scripts/ab-compare 6 B,C 1,2`: B +1.8%/+4.8%, C +0.3%/+4.2% at 1/2 threads (medians of
    /// the rounds, each range within about ±7%).
    @inline(__always) static var packsStoredA: Bool {
        #if BACKPROP_AVX2
        true
        #else
        false
        #endif
    }

    /// Whether the blocked loops, before a full tile's micro-kernel, prefetch the `mr` rows of `C` below it
    /// (their next tile; its output rows too when the epilogue is fused, `prefetchTileBelow`), so that
    /// the next tile's loads of `C` hit L1 rather than wait on L3: a `C` of a large product (4
    /// MiB for 1024 × 1024) is passed over once per `k` block and no longer sits in L2.
    /// AVX2: measured on the Zen 1 EPYC (perf, B at one thread: the micro-kernel's samples
    /// before its loop, the stalled loads of `C`, 3.7% → 1% of its time); whole training steps,
    /// interleaved rounds: B +1.9–3.2%, C +0.9–3.2%, A +1% at one thread (in-run fraction of
    /// peak and samples/s). AVX-512: off; on a 16-vCPU Xeon (family 6 model 207), two interleaved
    /// rounds of B and D read within that machine's noise (on ÷ off, by round: B 0.99×/1.39× and
    /// D 0.97×/0.90× at one thread, B 0.99×/1.06× and D 0.97×/0.99× at 16); not measured on Zen 4/5.
    @inline(__always) static var prefetchesNextTile: Bool {
        #if BACKPROP_AVX2
        true
        #else
        false
        #endif
    }

    /// Columns of the register tile: two vectors.
    @inline(__always) static var nr: Int { 2 * Vector.scalarCount }
    /// Columns of `op(B)` per packed block (a multiple of `nr`).
    @inline(__always) static var nc: Int { 1024 }

    /// Rows of the largest tile `fewRowsKernel` runs: products with at most twice as many rows
    /// (an output layer's weight gradient, `m = 10`) are computed unpacked (see `gemm`). It
    /// takes `2·fewRows` accumulators, 2 for `op(B)` and a broadcast: 27 of 32 registers on
    /// AVX-512 and arm64, 15 of 16 with AVX2 and SSE.
    @inline(__always) static var fewRows: Int {
        #if BACKPROP_AVX512 || arch(arm64)
        12
        #else
        mr
        #endif
    }

    /// Elements of `op(B)` (`k·n`) up to which a few-rows product reads it where it is stored:
    /// 4 MiB, which stays in L3 between steps (10×1024×1024 unpacked: 133 → 166 GFLOP/s on
    /// Zen 5; 10×1024×8192, 32 MiB, ran 15% slower unpacked than packed).
    @inline(__always) static var fewRowsUnpacked: Int { 1 << 20 }

    /// Steps of `op(B)` ahead that a few-rows product reading it in place prefetches (see
    /// `fewRowsKernel`). Measured on the Zen 1 EPYC (AVX2; `mlp-bench gemm`, four runs each,
    /// ours ÷ OpenBLAS in the same run): 10×1024×1024 0.70–0.97× without (one run 1.35×, when the
    /// product before it had left `H` in L3), 1.00–1.06× at 8 steps, 0.99–1.01× at 16, measured
    /// alone; inside the whole suite's run, where the products before it decide what is in L3,
    /// 0.90× and 1.06× in two runs at 8. Read in place with the hints up to 8 M elements,
    /// 10×1024×8192 and 10×4096×1024 fell to 0.53–0.59× (packed: 0.93–1.07×): the bound stays.
    @inline(__always) static var fewRowsPrefetchSteps: Int { 8 }

    /// Steps of `k` per block up to which the blocked loops run row panels outer (see
    /// `multiplyPackedBlock`): 1024×1024×10 went from 110 to 210 GFLOP/s on Zen 5.
    @inline(__always) static var shortSteps: Int { 16 }

    /// Floats of workspace: the packed `op(A)` block, the packed `op(B)` block, one edge tile.
    @inline(__always) static var workspaceCount: Int { mc * kc + kc * nc + mr * nr }
}

/// `acc + a·b` lane-wise: one fused multiply-add where the target has FMA (AVX2, AVX-512,
/// arm64); an unfused multiply and add on baseline x86-64, where `addingProduct` would
/// become a slow `fmaf` call per lane.
@inline(__always)
func multiplyAdd(_ acc: Vector, _ a: Vector, _ b: Vector) -> Vector {
    #if (BACKPROP_AVX512 || BACKPROP_AVX2 || arch(arm64))
    return acc.addingProduct(a, b)
    #else
    return acc + a * b
    #endif
}

/// The vector at `p` (no alignment needed).
@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}

/// Stores `v` at `p` (no alignment needed).
@inline(__always)
func storeVector(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
}
