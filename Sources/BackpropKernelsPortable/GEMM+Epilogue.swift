// Epilogues. Bias and activation: on a full tile of a forward product (a forward layer's
// tiles but the edges) and identity, ReLU or leaky ReLU, the micro-kernel adds the bias to its
// registers and stores C and f(C) once (`FusedBiasActivation`; whole training steps,
// `scripts/ab-compare` against 929da9e: +1.4…3.9% at 1 thread, +1.5…3.3% at 2); on any other tile, applied here
// right after its last multiply-add, while the tile is still in L1. The activation derivative:
// applied to each finished block of `mc` rows (still in L2), row by row, so that its reads of
// `a`, which come from L3 or memory, are long streams the prefetchers follow; tile by tile they
// were two lines per row, and measured 1.5–2% slower on whole training steps. Identity, ReLU
// and leaky ReLU run vectorised; tanh, sigmoid and GELU call the scalar `Activation` methods
// (libm). Both give bitwise the same values as `Activation.callAsFunction` and
// `Activation.derivative`.
import BackpropKernelTypes

/// Applies `epilogue` to `C[rows, columns]` (global indices; `c` is `C[0,0]`).
@inline(__always)
func applyEpilogue(_ epilogue: GEMMEpilogue, rows: Range<Int>, columns: Range<Int>,
                   c: UnsafeMutablePointer<Float>, ldc: Int) {
    switch epilogue {
    case .none:
        return
    case .biasActivation(let bias, let f, let output, let ldo):
        for i in rows {
            let row = c + i &* ldc
            if let bias { addBias(bias, to: row, columns: columns) }
            if let output { activate(f, row, into: output + i &* ldo, columns: columns) }
        }
    case .activationDerivative(let f, let a, let h, let ld):
        for i in rows {
            multiplyByDerivative(f, row: c + i &* ldc, a: a + i &* ld, h: h + i &* ld, columns: columns)
        }
    }
}

/// `row[j] += bias[j]` for `j` in `columns`.
@inline(__always)
private func addBias(_ bias: UnsafePointer<Float>, to row: UnsafeMutablePointer<Float>, columns: Range<Int>) {
    let w = Vector.scalarCount
    var j = columns.lowerBound
    while j &+ w <= columns.upperBound {
        storeVector(loadVector(row + j) + loadVector(bias + j), row + j)
        j &+= w
    }
    while j < columns.upperBound { row[j] += bias[j]; j &+= 1 }
}

/// `out[j] = f(row[j])` for `j` in `columns`.
@inline(__always)
private func activate(_ f: Activation, _ row: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>,
                      columns: Range<Int>) {
    let w = Vector.scalarCount
    var j = columns.lowerBound
    switch f {
    case .identity:
        while j < columns.upperBound { out[j] = row[j]; j &+= 1 }
    case .relu:
        while j &+ w <= columns.upperBound {
            let x = loadVector(row + j)
            storeVector(x.replacing(with: 0, where: x .< 0), out + j)  // as f: NaN and −0 pass
            j &+= w
        }
        while j < columns.upperBound { out[j] = f(row[j]); j &+= 1 }
    case .leakyReLU(let slope):
        while j &+ w <= columns.upperBound {
            let x = loadVector(row + j)
            storeVector(x.replacing(with: slope * x, where: x .< 0), out + j)
            j &+= w
        }
        while j < columns.upperBound { out[j] = f(row[j]); j &+= 1 }
    case .tanh, .sigmoid, .gelu:
        while j < columns.upperBound { out[j] = f(row[j]); j &+= 1 }
    }
}

/// `row[j] *= f'(a[j])` (given `h[j] = f(a[j])`) for `j` in `columns`.
@inline(__always)
private func multiplyByDerivative(_ f: Activation, row: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>,
                                  h: UnsafePointer<Float>, columns: Range<Int>) {
    let w = Vector.scalarCount
    var j = columns.lowerBound
    switch f {
    case .identity:
        return  // f' = 1
    case .relu:
        while j &+ w <= columns.upperBound {
            let slope = Vector().replacing(with: 1, where: loadVector(a + j) .> 0)
            storeVector(loadVector(row + j) * slope, row + j)
            j &+= w
        }
    case .leakyReLU(let negativeSlope):
        while j &+ w <= columns.upperBound {
            let slope = Vector(repeating: negativeSlope).replacing(with: 1, where: loadVector(a + j) .> 0)
            storeVector(loadVector(row + j) * slope, row + j)
            j &+= w
        }
    case .tanh, .sigmoid, .gelu:
        break
    }
    while j < columns.upperBound {
        row[j] *= f.derivative(preActivation: a[j], activation: h[j])
        j &+= 1
    }
}
