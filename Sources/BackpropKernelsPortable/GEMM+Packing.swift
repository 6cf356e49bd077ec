// Packing: copies a block of op(A) or op(B) into the panel order the micro-kernel reads,
// whatever the operand's stored layout. Padding past the matrix edge is zero, so edge tiles
// run the same kernel and every C[i,j] gets the same multiply-add chain as in a full tile.
import BackpropKernelTypes

/// Packs `op(A)[rows, steps]` into `mr`-row panels: panel `p`, step `l`, row `r` goes to
/// `dst[p·mr·kc + l·mr + r]` (with `kc = steps.count`); rows past `rows.upperBound` are zero.
func packA(_ a: GEMMOperand, rows: Range<Int>, steps: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    let mr = Blocking.mr, kc = steps.count, ld = a.leadingDimension
    var panel = dst
    for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
        let height = min(mr, rows.upperBound &- i0)
        if a.transposed {
            // Stored k × m: step l of the panel is `height` consecutive floats.
            packContiguousRuns(a.base + (steps.lowerBound &* ld &+ i0), stride: ld, runLength: height,
                               runs: kc, width: mr, into: panel)
        } else {
            // Stored m × k: row r of the panel is consecutive floats along k.
            packStridedRuns(a.base + (i0 &* ld &+ steps.lowerBound), stride: ld, count: height,
                            length: kc, width: mr, into: panel)
        }
        panel += mr &* kc
    }
}

/// Packs `op(B)[steps, columns]` into `nr`-column panels: panel `p`, step `l`, column `c` goes
/// to `dst[p·nr·kc + l·nr + c]`; columns past `columns.upperBound` are zero.
func packB(_ b: GEMMOperand, steps: Range<Int>, columns: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr, kc = steps.count, ld = b.leadingDimension
    var panel = dst
    for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: nr) {
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
    for _ in 0..<runs {
        for r in 0..<runLength { d[r] = s[r] }
        for r in runLength..<width { d[r] = 0 }
        s += stride
        d += width
    }
}

/// `dst[l·width + r] = src[r·stride + l]` for `r < count`, zero for `count ≤ r < width`, over
/// `length` values of `l`: a panel whose rows (or columns) are stored contiguously, transposed.
@inline(__always)
private func packStridedRuns(_ src: UnsafePointer<Float>, stride: Int, count: Int, length: Int,
                             width: Int, into dst: UnsafeMutablePointer<Float>) {
    // Four source runs at a time: four read streams, stores close together.
    var r = 0
    while r &+ 4 <= count {
        let s0 = src + r &* stride, s1 = s0 + stride, s2 = s1 + stride, s3 = s2 + stride
        var d = dst + r
        for l in 0..<length {
            d[0] = s0[l]; d[1] = s1[l]; d[2] = s2[l]; d[3] = s3[l]
            d += width
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
