// Packing: copies a block of op(A) or op(B) into the panel order the micro-kernel reads,
// whatever the operand's stored layout. Padding past the matrix edge is zero, so edge tiles
// run the same kernel and every C[i,j] gets the same multiply-add chain as in a full tile.
import BackpropKernelTypes
import CKernelSupport

/// Packs `op(A)[rows, steps]` of an `op(A)` stored `k × m` (`a.transposed`), or stored `m × k`
/// where `Blocking.packsStoredA` (elsewhere the blocked loops read that in place), into `mr`-row
/// panels: panel `p`, step `l`, row `r` goes
/// to `dst[p·mr·kc + l·mr + r]` (with `kc = steps.count`); rows past `rows.upperBound` are zero.
func packA(_ a: GEMMOperand, rows: Range<Int>, steps: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    let mr = Blocking.mr, kc = steps.count, ld = a.leadingDimension
    if !a.transposed {
        // Stored m × k (where `Blocking.packsStoredA`): row r of a panel is a run along k,
        // transposed into steps of `mr` floats.
        var panel = dst
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
            packStridedRuns(a.base + (i0 &* ld &+ steps.lowerBound), stride: ld, count: min(mr, rows.upperBound &- i0),
                            length: kc, width: mr, into: panel)
            panel += mr &* kc
        }
        return
    }
    if rows.count % mr == 0 {
        // Stored k × m, whole panels: four panels at a time, step by step, so each stored row
        // gives two whole lines (32 floats) at once; panel by panel, every panel touched each of
        // the `kc` rows again for half a line. Measured on whole training steps: +2% (B), +4% (C),
        // +5% (D), A neutral; all panels at once, or eight, stored to too many streams (A −1.6%).
        // The four copies of a step are written out (no inner loop over the panels): the loop
        // with an inner loop ran ~30 instructions a step, and its speed moved by ±5% with the
        // code's alignment.
        let panels = rows.count / mr, panelSize = mr &* kc
        var p0 = 0
        while p0 &+ 4 <= panels {
            var s = a.base + (steps.lowerBound &* ld &+ rows.lowerBound &+ p0 &* mr)
            var d = dst + p0 &* panelSize
            for _ in 0..<kc {
                copyRun(s, d)
                copyRun(s + mr, d + panelSize)
                copyRun(s + 2 &* mr, d + 2 &* panelSize)
                copyRun(s + 3 &* mr, d + 3 &* panelSize)
                s += ld
                d += mr
            }
            p0 &+= 4
        }
        while p0 < panels {
            var s = a.base + (steps.lowerBound &* ld &+ rows.lowerBound &+ p0 &* mr)
            var d = dst + p0 &* panelSize
            for _ in 0..<kc {
                copyRun(s, d)
                s += ld
                d += mr
            }
            p0 &+= 1
        }
        return
    }
    var panel = dst
    for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
        // Step l of the panel is `height` consecutive floats.
        let height = min(mr, rows.upperBound &- i0)
        packContiguousRuns(a.base + (steps.lowerBound &* ld &+ i0), stride: ld, runLength: height,
                           runs: kc, width: mr, into: panel)
        panel += mr &* kc
    }
}

/// Packs `op(B)[steps, columns]` into `nr`-column panels: panel `p`, step `l`, column `c` goes
/// to `dst[p·nr·kc + l·nr + c]`; columns past `columns.upperBound` are zero.
func packB(_ b: GEMMOperand, steps: Range<Int>, columns: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr, kc = steps.count, ld = b.leadingDimension
    var panel = dst
    var first = columns.lowerBound
    if !b.transposed {
        // Stored k × n, whole panels: eight at a time, step by step, so each stored row gives
        // one run of 8·nr floats (16 lines on AVX-512) rather than 2 lines per panel, the next 2
        // only a whole panel (kc rows, a page or more apart each) later. perf, packB's samples
        // as a share of the micro-kernels', one thread: B and C 3.1% → 2.3%, A and D 2.6% →
        // 2.2%; four panels at a time gave 2.5% on B and C, sixteen 2.8%, whole rows 3.0%.
        let w = Vector.scalarCount, size = nr &* kc
        while first &+ 8 &* nr <= columns.upperBound {
            var s = b.base + (steps.lowerBound &* ld &+ first)
            var d = panel
            for _ in 0..<kc {
                for g in 0..<8 {
                    storeVector(loadVector(s + g &* nr), d + g &* size)
                    storeVector(loadVector(s + (g &* nr &+ w)), d + (g &* size &+ w))
                }
                s += ld
                d += nr
            }
            panel += 8 &* size
            first &+= 8 &* nr
        }
    }
    for j0 in stride(from: first, to: columns.upperBound, by: nr) {
        let width = min(nr, columns.upperBound &- j0)
        if b.transposed {
            // Stored n × k: column c of the panel is consecutive floats along k.
            packStridedRuns(b.base + (j0 &* ld &+ steps.lowerBound), stride: ld, count: width,
                            length: kc, width: nr, into: panel)
        } else {
            // Stored k × n: step l of the panel is `width` consecutive floats.
            packContiguousRuns(b.base + (steps.lowerBound &* ld &+ j0), stride: ld, runLength: width,
                               runs: kc, width: nr, into: panel)
        }
        panel += nr &* kc
    }
}

/// `dst[l·width + r] = src[l·stride + r]` for `r < runLength`, zero for `runLength ≤ r < width`,
/// over `runs` values of `l`: a panel whose steps are stored contiguously.
@inline(__always)
private func packContiguousRuns(_ src: UnsafePointer<Float>, stride: Int, runLength: Int, runs: Int,
                                width: Int, into dst: UnsafeMutablePointer<Float>) {
    var s = src, d = dst
    if runLength == width && width % Vector.scalarCount == 0 {
        let w = Vector.scalarCount
        for _ in 0..<runs {
            var r = 0
            while r < width {
                storeVector(loadVector(s + r), d + r)
                r &+= w
            }
            s += stride
            d += width
        }
        return
    }
    // Narrower runs (an `mr`-row panel of A is 8 floats on AVX-512, 6 on AVX2; edge panels):
    // eight and four floats at a time, then single floats, then the zero padding.
    for _ in 0..<runs {
        var r = 0
        while r &+ 8 <= runLength {
            copy8(s + r, d + r)
            r &+= 8
        }
        while r &+ 4 <= runLength {
            store4(load4(s + r), d + r)
            r &+= 4
        }
        while r < runLength { d[r] = s[r]; r &+= 1 }
        while r < width { d[r] = 0; r &+= 1 }
        s += stride
        d += width
    }
}

/// `dst[l·width + r] = src[r·stride + l]` for `r < count`, zero for `count ≤ r < width`, over
/// `length` values of `l`: a panel whose rows (or columns) are stored contiguously, transposed
/// 16 rows at a time on AVX-512 (`packSixteenRuns`), then 8 (AVX), then in 4 × 4 blocks (four
/// read streams, four-float stores).
@inline(__always)
private func packStridedRuns(_ src: UnsafePointer<Float>, stride: Int, count: Int, length: Int,
                             width: Int, into dst: UnsafeMutablePointer<Float>) {
    var r = 0
    #if BACKPROP_AVX512
    while r &+ 16 <= count {
        packSixteenRuns(src + r &* stride, stride: stride, length: length, width: width, into: dst + r)
        r &+= 16
    }
    #endif
    #if BACKPROP_AVX2
    if count == 6 && width == 6 {
        packSixRuns(src, stride: stride, length: length, into: dst)
        return
    }
    #endif
    #if BACKPROP_AVX512 || BACKPROP_AVX2
    while r &+ 8 <= count {
        packEightRuns(src + r &* stride, stride: stride, length: length, width: width, into: dst + r)
        r &+= 8
    }
    #endif
    while r &+ 4 <= count {
        let s0 = src + r &* stride, s1 = s0 + stride, s2 = s1 + stride, s3 = s2 + stride
        var d = dst + r
        var l = 0
        while l &+ 4 <= length {
            let x0 = load4(s0 + l), x1 = load4(s1 + l), x2 = load4(s2 + l), x3 = load4(s3 + l)
            store4(SIMD4(x0[0], x1[0], x2[0], x3[0]), d)
            store4(SIMD4(x0[1], x1[1], x2[1], x3[1]), d + width)
            store4(SIMD4(x0[2], x1[2], x2[2], x3[2]), d + 2 &* width)
            store4(SIMD4(x0[3], x1[3], x2[3], x3[3]), d + 3 &* width)
            d += 4 &* width
            l &+= 4
        }
        while l < length {
            d[0] = s0[l]; d[1] = s1[l]; d[2] = s2[l]; d[3] = s3[l]
            d += width
            l &+= 1
        }
        r &+= 4
    }
    while r < count {
        let s = src + r &* stride
        var d = dst + r
        for l in 0..<length {
            d[0] = s[l]
            d += width
        }
        r &+= 1
    }
    if count < width {
        var d = dst
        for _ in 0..<length {
            for c in count..<width { d[c] = 0 }
            d += width
        }
    }
}

#if BACKPROP_AVX512
/// `dst[l·width + r] = src[r·stride + l]` for `r < 16`, over `length` values of `l`: 16 × 16
/// blocks transposed in registers (four rounds of `deinterleave`, 64 two-source permutes), each
/// step's 16 floats stored as one vector, a whole line where `dst` and `width` are 64-byte
/// multiples. Before it (two `packEightRuns`, four-float stores built lane by lane), the update
/// phase's repacking of the forward `W(l)ᵀ` spent most of its time in lane inserts. perf,
/// packB's samples as a share of the micro-kernels': A–D at one thread 2.34% → 2.07%; the
/// default `mlp-train` shape (784-256-128-10, batch 128) at two threads 9.9–11.6% → 7.6–7.7%,
/// its samples/s +3.3% in the same two paired runs.
@inline(__always)
private func packSixteenRuns(_ src: UnsafePointer<Float>, stride: Int, length: Int, width: Int,
                             into dst: UnsafeMutablePointer<Float>) {
    var d = dst
    var l = 0
    while l &+ 16 <= length {
        var x0 = loadVector(src + l), x1 = loadVector(src + (stride &+ l))
        var x2 = loadVector(src + (2 &* stride &+ l)), x3 = loadVector(src + (3 &* stride &+ l))
        var x4 = loadVector(src + (4 &* stride &+ l)), x5 = loadVector(src + (5 &* stride &+ l))
        var x6 = loadVector(src + (6 &* stride &+ l)), x7 = loadVector(src + (7 &* stride &+ l))
        var x8 = loadVector(src + (8 &* stride &+ l)), x9 = loadVector(src + (9 &* stride &+ l))
        var x10 = loadVector(src + (10 &* stride &+ l)), x11 = loadVector(src + (11 &* stride &+ l))
        var x12 = loadVector(src + (12 &* stride &+ l)), x13 = loadVector(src + (13 &* stride &+ l))
        var x14 = loadVector(src + (14 &* stride &+ l)), x15 = loadVector(src + (15 &* stride &+ l))
        // Element (row i, step j) sits at bit position 16·i + j of the block; one round moves the
        // even positions of each pair of vectors into the first eight, the odd into the last
        // eight: a rotation of the 8-bit position by one. Four rounds rotate by four, i ↔ j.
        for _ in 0..<4 {
            let (e0, o0) = deinterleave(x0, x1), (e1, o1) = deinterleave(x2, x3)
            let (e2, o2) = deinterleave(x4, x5), (e3, o3) = deinterleave(x6, x7)
            let (e4, o4) = deinterleave(x8, x9), (e5, o5) = deinterleave(x10, x11)
            let (e6, o6) = deinterleave(x12, x13), (e7, o7) = deinterleave(x14, x15)
            x0 = e0; x1 = e1; x2 = e2; x3 = e3; x4 = e4; x5 = e5; x6 = e6; x7 = e7
            x8 = o0; x9 = o1; x10 = o2; x11 = o3; x12 = o4; x13 = o5; x14 = o6; x15 = o7
        }
        storeVector(x0, d); storeVector(x1, d + width)
        storeVector(x2, d + 2 &* width); storeVector(x3, d + 3 &* width)
        storeVector(x4, d + 4 &* width); storeVector(x5, d + 5 &* width)
        storeVector(x6, d + 6 &* width); storeVector(x7, d + 7 &* width)
        storeVector(x8, d + 8 &* width); storeVector(x9, d + 9 &* width)
        storeVector(x10, d + 10 &* width); storeVector(x11, d + 11 &* width)
        storeVector(x12, d + 12 &* width); storeVector(x13, d + 13 &* width)
        storeVector(x14, d + 14 &* width); storeVector(x15, d + 15 &* width)
        d += 16 &* width
        l &+= 16
    }
    while l < length {
        for r in 0..<16 { d[r] = src[r &* stride &+ l] }
        d += width
        l &+= 1
    }
}

/// The even lanes of `a` then `b` (first), and their odd lanes (second).
@inline(__always)
private func deinterleave(_ a: Vector, _ b: Vector) -> (Vector, Vector) {
    let ab = SIMD32<Float>(lowHalf: a, highHalf: b)
    return (ab.evenHalf, ab.oddHalf)
}
#endif

/// `dst[l·width + r] = src[r·stride + l]` for `r < 8`, over `length` values of `l`: 8 × 8
/// blocks transposed in registers (three rounds of `deinterleave`, as `packSixteenRuns` does
/// with four), each step's 8 floats stored at once. AVX2's transposed packing (its panels are
/// two of these wide); on AVX-512 the last 8 rows of a panel narrower than 16. Before it, each
/// four-float store was built lane by lane (`vinsertps` chains). perf, `BACKPROP_ISA=avx2` on
/// the Zen 5 machine, packB's samples as a share of the micro-kernels', 784-256-128-10 batch
/// 128 at one thread, three paired runs: 3.7% → 3.3% (lower in every pair); B within noise.
/// On AVX2, 8 × 4 blocks as two 4 × 4 ones in 128-bit registers (`transposeFour`), no
/// lane-crossing permutes.
@inline(__always)
private func packEightRuns(_ src: UnsafePointer<Float>, stride: Int, length: Int, width: Int,
                           into dst: UnsafeMutablePointer<Float>) {
    var d = dst
    var l = 0
    #if BACKPROP_AVX2
    while l &+ 4 <= length {
        if l & 15 == 0 {
            // Each row's line four lines ahead: a long `Hᵀ` (a ten-wide forward product's
            // `op(B)`, from DRAM) is read eight rows at a time. `mlp-bench gemm`, 1024×10×4096,
            // seven rounds (two with the order swapped): 17.2 → 18.4 GFLOP/s, 0.87× → 0.93×
            // OpenBLAS by the medians; whole training steps of D (whose update repacks `Wᵀ`
            // here) unchanged.
            for r in 0..<8 { backprop_prefetch_read(src + (r &* stride &+ l &+ 64)) }
        }
        // Rows 0–3 and 4–7 of a 4-step block, each transposed as four-float vectors.
        var a0 = load4(src + l), a1 = load4(src + (stride &+ l))
        var a2 = load4(src + (2 &* stride &+ l)), a3 = load4(src + (3 &* stride &+ l))
        var b0 = load4(src + (4 &* stride &+ l)), b1 = load4(src + (5 &* stride &+ l))
        var b2 = load4(src + (6 &* stride &+ l)), b3 = load4(src + (7 &* stride &+ l))
        transposeFour(&a0, &a1, &a2, &a3)
        transposeFour(&b0, &b1, &b2, &b3)
        store4(a0, d); store4(b0, d + 4)
        store4(a1, d + width); store4(b1, d + (width &+ 4))
        store4(a2, d + 2 &* width); store4(b2, d + (2 &* width &+ 4))
        store4(a3, d + 3 &* width); store4(b3, d + (3 &* width &+ 4))
        d += 4 &* width
        l &+= 4
    }
    #else
    while l &+ 8 <= length {
        var x0 = load8(src + l), x1 = load8(src + (stride &+ l))
        var x2 = load8(src + (2 &* stride &+ l)), x3 = load8(src + (3 &* stride &+ l))
        var x4 = load8(src + (4 &* stride &+ l)), x5 = load8(src + (5 &* stride &+ l))
        var x6 = load8(src + (6 &* stride &+ l)), x7 = load8(src + (7 &* stride &+ l))
        transposeEight(&x0, &x1, &x2, &x3, &x4, &x5, &x6, &x7)
        store8(x0, d); store8(x1, d + width)
        store8(x2, d + 2 &* width); store8(x3, d + 3 &* width)
        store8(x4, d + 4 &* width); store8(x5, d + 5 &* width)
        store8(x6, d + 6 &* width); store8(x7, d + 7 &* width)
        d += 8 &* width
        l &+= 8
    }
    #endif
    while l < length {
        for r in 0..<8 { d[r] = src[r &* stride &+ l] }
        d += width
        l &+= 1
    }
}

#if BACKPROP_AVX2
/// `dst[6·l + r] = src[r·stride + l]` for `r < 6`, over `length` values of `l`: an AVX2 `mr`-row
/// panel of an `op(A)` stored `m × k`. 6 × 4 blocks in 128-bit registers: rows 0–3 transposed
/// (`transposeFour`), rows 4 and 5 interleaved (`unpcklps`/`unpckhps`), each step stored as
/// four floats and a pair.
@inline(__always)
private func packSixRuns(_ src: UnsafePointer<Float>, stride: Int, length: Int, into dst: UnsafeMutablePointer<Float>) {
    var d = dst
    var l = 0
    while l &+ 4 <= length {
        // 6 × 4 blocks: rows 0–3 transposed as four-float vectors, rows 4 and 5 interleaved
        // into the pairs each step ends with.
        var x0 = load4(src + l), x1 = load4(src + (stride &+ l))
        var x2 = load4(src + (2 &* stride &+ l)), x3 = load4(src + (3 &* stride &+ l))
        let y0 = load4(src + (4 &* stride &+ l)), y1 = load4(src + (5 &* stride &+ l))
        transposeFour(&x0, &x1, &x2, &x3)
        let low = SIMD4(y0[0], y1[0], y0[1], y1[1]), high = SIMD4(y0[2], y1[2], y0[3], y1[3])
        store4(x0, d); store2(low.lowHalf, d + 4)
        store4(x1, d + 6); store2(low.highHalf, d + 10)
        store4(x2, d + 12); store2(high.lowHalf, d + 16)
        store4(x3, d + 18); store2(high.highHalf, d + 22)
        d += 24
        l &+= 4
    }
    while l < length {
        for r in 0..<6 { d[r] = src[r &* stride &+ l] }
        d += 6
        l &+= 1
    }
}
#endif

#if BACKPROP_AVX2
/// Transposes in registers the 4 × 4 block whose row `i` is `xi`: afterwards `xj` holds what was
/// column `j`. Two rounds of four-float `deinterleave` (LLVM emits 12 single-µop xmm shuffles:
/// `unpcklps`, `insertps`, `shufps`, `blendps`), none crossing a 128-bit lane; the eight-float
/// transpose took 24 `vshufps` and 24 `vpermpd` per 8 × 8 block, each two µops or more on Zen 1,
/// which splits 256-bit operations in two.
@inline(__always)
private func transposeFour(_ x0: inout SIMD4<Float>, _ x1: inout SIMD4<Float>, _ x2: inout SIMD4<Float>,
                           _ x3: inout SIMD4<Float>) {
    let (e01, o01) = deinterleave(x0, x1), (e23, o23) = deinterleave(x2, x3)
    (x0, x2) = deinterleave(e01, e23)
    (x1, x3) = deinterleave(o01, o23)
}

/// The even lanes of `a` then `b` (first), and their odd lanes (second).
@inline(__always)
private func deinterleave(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> (SIMD4<Float>, SIMD4<Float>) {
    let ab = SIMD8<Float>(lowHalf: a, highHalf: b)
    return (ab.evenHalf, ab.oddHalf)
}
#endif

/// Transposes in registers the 8 × 8 block whose row `i` is `xi`: afterwards `xj` holds what was
/// column `j`. Element (row i, column j) at bit position 8·i + j of the block; each round of
/// `deinterleave` rotates the 6-bit position by one (see `packSixteenRuns`), three swap i and j.
@inline(__always)
private func transposeEight(_ x0: inout SIMD8<Float>, _ x1: inout SIMD8<Float>, _ x2: inout SIMD8<Float>,
                            _ x3: inout SIMD8<Float>, _ x4: inout SIMD8<Float>, _ x5: inout SIMD8<Float>,
                            _ x6: inout SIMD8<Float>, _ x7: inout SIMD8<Float>) {
    for _ in 0..<3 {
        let (e0, o0) = deinterleave(x0, x1), (e1, o1) = deinterleave(x2, x3)
        let (e2, o2) = deinterleave(x4, x5), (e3, o3) = deinterleave(x6, x7)
        x0 = e0; x1 = e1; x2 = e2; x3 = e3; x4 = o0; x5 = o1; x6 = o2; x7 = o3
    }
}

/// The even lanes of `a` then `b` (first), and their odd lanes (second).
@inline(__always)
private func deinterleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
    let ab = SIMD16<Float>(lowHalf: a, highHalf: b)
    return (ab.evenHalf, ab.oddHalf)
}

/// The eight floats at `p`.
@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores eight floats at `p`.
@inline(__always)
private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Copies one run of `Blocking.mr` floats (the same conditions as `Blocking.mr`).
@inline(__always)
private func copyRun(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
    #if BACKPROP_AVX512
    copy8(src, dst)
    #elseif BACKPROP_AVX2
    store4(load4(src), dst)
    dst[4] = src[4]; dst[5] = src[5]
    #elseif arch(arm64)
    copy8(src, dst)
    #else
    store4(load4(src), dst)
    #endif
}

/// Copies eight floats.
@inline(__always)
private func copy8(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
    store8(load8(src), dst)
}

/// The four floats at `p`.
@inline(__always)
private func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

/// Stores two floats at `p`.
@inline(__always)
private func store2(_ v: SIMD2<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD2<Float>.self)
}

/// Stores four floats at `p`.
@inline(__always)
private func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}
