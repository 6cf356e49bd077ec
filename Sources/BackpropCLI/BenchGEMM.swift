import Backprop

/// The three matrix products a training step runs per layer (batch-major notation).
public enum GEMMForm: String, Codable, Sendable, CaseIterable {
    /// `A = H·Wᵀ`: `[batch × out] = [batch × in]·[out × in]ᵀ`.
    case forward
    /// `G = delta·W`: `[batch × in] = [batch × out]·[out × in]` (not run for the first layer).
    case propagation
    /// `dW = deltaᵀ·H`: `[out × in] = [batch × out]ᵀ·[batch × in]`.
    case weightGradient
}

/// One GEMM the benchmark times: a form on one layer shape.
public struct GEMMShape: Codable, Equatable, Hashable, Sendable {
    public var form: GEMMForm
    /// Layer input size, output size and batch.
    public var input: Int, output: Int, batch: Int

    public init(form: GEMMForm, input: Int, output: Int, batch: Int) {
        self.form = form
        self.input = input
        self.output = output
        self.batch = batch
    }

    /// `C[m×n] = op(A)[m×k]·op(B)[k×n]` sizes.
    public var m: Int { form == .weightGradient ? output : batch }
    public var n: Int { form == .propagation ? input : (form == .forward ? output : input) }
    public var k: Int { form == .forward ? input : (form == .propagation ? output : batch) }
    /// Whether `A` is stored transposed (`deltaᵀ`) and `B` is (`Wᵀ`).
    public var transposeA: Bool { form == .weightGradient }
    public var transposeB: Bool { form == .forward }
    /// Stored sizes of A and B (rows × columns), and their leading dimensions.
    var aStored: (rows: Int, columns: Int) { transposeA ? (k, m) : (m, k) }
    var bStored: (rows: Int, columns: Int) { transposeB ? (n, k) : (k, n) }

    /// `2·m·n·k`.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// Whether every dimension is at least 64: a compute-bound product. Products with a side of
    /// 10 (the output layer) run in microseconds, are bound by memory, and their speed moves
    /// by up to 2× from run to run with where the buffers land, so the gate leaves them out.
    public var isComputeBound: Bool { min(m, n, k) >= 64 }

    /// Stable key used by the gate, e.g. `gemm forward 1024x1024x784` (m x n x k).
    public var name: String { "gemm \(form.rawValue) \(m)x\(n)x\(k)" }

    /// The GEMMs training runs for `configurations`, without duplicates, in suite order.
    public static func shapes(for configurations: [BenchConfiguration]) -> [GEMMShape] {
        var seen = Set<GEMMShape>(), out: [GEMMShape] = []
        for c in configurations {
            for (l, layer) in c.layers.enumerated() {
                for form in GEMMForm.allCases where !(form == .propagation && l == 0) {
                    let s = GEMMShape(form: form, input: layer.input, output: layer.output, batch: c.batch)
                    if seen.insert(s).inserted { out.append(s) }
                }
            }
        }
        return out
    }
}

/// What `mlp-bench gemm` measured for one shape.
public struct GEMMMeasurement: Codable, Equatable, Sendable {
    public var shape: GEMMShape
    public var name: String
    /// Our `Kernels.gemm` on one thread, GFLOP/s by the thread's CPU clock.
    public var gflops: BenchSummary
    /// `gflops` over the one-thread peak sampled beside each repeat.
    public var fractionOfPeak: BenchSummary
    /// OpenBLAS `cblas_sgemm` on one thread, when loaded.
    public var openBLASGFLOPS: BenchSummary?
    /// Ours over OpenBLAS, per repeat (same repeat, interleaved).
    public var ratioToOpenBLAS: BenchSummary?
    /// `max |ours − OpenBLAS| / max |OpenBLAS|` on the same inputs (a sanity check).
    public var relativeDifference: Double?
}

/// Times our GEMM, and OpenBLAS's beside it, on the training shapes.
public struct GEMMBenchmark {
    public var shapes: [GEMMShape]
    public var repeats: Int
    /// Timed calls last at least this long per repeat.
    public var minimumSeconds: Double
    public var openBLAS: OpenBLAS?
    public var isa: InstructionSet = .active

    public init(shapes: [GEMMShape], repeats: Int, minimumSeconds: Double = 0.1, openBLAS: OpenBLAS?) {
        self.shapes = shapes
        self.repeats = repeats
        self.minimumSeconds = minimumSeconds
        self.openBLAS = openBLAS
    }

    /// Measures each shape: warm-up and a calibration of the call count, then `repeats`
    /// repeats, each timing ours and OpenBLAS's back to back (in alternating order, so neither
    /// always runs on a warmer cache), with a peak-loop chunk as long as one call before each
    /// of our calls. Everything runs on this thread and is timed by its CPU clock (immune to
    /// time slices lost to other processes; on a quiet machine the same as wall time). A
    /// repeat's rate is its median call; its fraction of peak is that over the median chunk's.
    public func run(progress: (String) -> Void) -> [GEMMMeasurement] {
        let loopSpeed = PeakFLOPS.iterations(forSeconds: 1, isa: isa)
        let workspace = AlignedBuffer(count: Kernels.workspaceCount(for: isa))
        var results: [GEMMMeasurement] = []
        for (index, s) in shapes.enumerated() {
            progress("gemm \(index + 1)/\(shapes.count): \(s.form.rawValue) \(s.m)x\(s.n)x\(s.k)")
            var rng = SplitMix64(seed: 0x6E6D_6D00 + UInt64(index))
            let a = AlignedBuffer(count: s.aStored.rows * s.aStored.columns)
            let b = AlignedBuffer(count: s.bStored.rows * s.bStored.columns)
            for i in 0..<a.count { a.base[i] = rng.nextSignedUnitFloat() }
            for i in 0..<b.count { b.base[i] = rng.nextSignedUnitFloat() }
            let c = AlignedBuffer(count: s.m * s.n), cBLAS = AlignedBuffer(count: s.m * s.n)
            let problem = GEMMProblem(m: s.m, n: s.n, k: s.k,
                                      a: GEMMOperand(a.base, leadingDimension: s.aStored.columns, transposed: s.transposeA),
                                      b: GEMMOperand(b.base, leadingDimension: s.bStored.columns, transposed: s.transposeB),
                                      c: c.base, cLeadingDimension: s.n)
            let ours = { Kernels.gemm(problem, workspace: workspace.base, isa: isa) }
            let blas = openBLAS.map { lib in
                {
                    lib.sgemm(m: s.m, n: s.n, k: s.k, a: a.base, lda: s.aStored.columns, transposeA: s.transposeA,
                              b: b.base, ldb: s.bStored.columns, transposeB: s.transposeB, c: cBLAS.base, ldc: s.n)
                }
            }
            let oursCalls = GEMMBenchmark.calls(ours, minimumSeconds: minimumSeconds)
            // A peak chunk before each of our calls, as long as one call (at least 0.1 ms).
            let callSeconds = GEMMBenchmark.time(ours, calls: 1)
            let sampler = PeakSampler(threads: 1, chunkSeconds: max(callSeconds, 1e-4), iterationsPerSecond: loopSpeed,
                                      isa: isa)
            let blasCalls = blas.map { GEMMBenchmark.calls($0, minimumSeconds: minimumSeconds) }
            var difference: Double?
            if blas != nil {
                var maxDiff: Float = 0, maxRef: Float = 0
                for i in 0..<c.count {
                    maxDiff = max(maxDiff, abs(c.base[i] - cBLAS.base[i]))
                    maxRef = max(maxRef, abs(cBLAS.base[i]))
                }
                difference = Double(maxDiff) / Double(max(maxRef, .leastNormalMagnitude))
            }
            var oursRate: [Double] = [], fractions: [Double] = [], blasRate: [Double] = [], ratios: [Double] = []
            var times: [Double] = []
            times.reserveCapacity(max(oursCalls, blasCalls ?? 0))
            for r in 0..<repeats {
                sampler.reset()
                var o = 0.0, bl = 0.0
                let timeOurs = {
                    o = s.flops / GEMMBenchmark.medianCallSeconds(ours, calls: oursCalls, before: sampler.sample,
                                                                  into: &times)
                }
                let timeBLAS = {
                    if let blas, let blasCalls {
                        bl = s.flops / GEMMBenchmark.medianCallSeconds(blas, calls: blasCalls, into: &times)
                    }
                }
                if r % 2 == 0 { timeOurs(); timeBLAS() } else { timeBLAS(); timeOurs() }
                oursRate.append(o / 1e9)
                fractions.append(o / sampler.cpuFlopsPerSecond)
                if blas != nil {
                    blasRate.append(bl / 1e9)
                    ratios.append(o / bl)
                }
            }
            results.append(GEMMMeasurement(
                shape: s, name: s.name, gflops: BenchSummary(oursRate)!, fractionOfPeak: BenchSummary(fractions)!,
                openBLASGFLOPS: BenchSummary(blasRate), ratioToOpenBLAS: BenchSummary(ratios),
                relativeDifference: difference))
        }
        return results
    }

    /// Runs `body` once to warm up, then returns how many calls take at least `minimumSeconds`.
    static func calls(_ body: () -> Void, minimumSeconds: Double) -> Int {
        body()
        var n = 1
        while true {
            let t = time(body, calls: n)
            if t >= minimumSeconds || n >= 1 << 20 { return n }
            n = max(n * 2, Int((Double(n) * minimumSeconds * 1.2 / max(t, 1e-9)).rounded(.up)))
        }
    }

    /// The median of `calls` calls of `body`, each timed by the thread's CPU clock, in seconds:
    /// time slices lost to other processes do not count, and a call slowed otherwise (cache
    /// trashed by a neighbour) is an outlier and drops out.
    /// `before` runs untimed before each call.
    static func medianCallSeconds(_ body: () -> Void, calls: Int, before: () -> Void = {},
                                  into times: inout [Double]) -> Double {
        times.removeAll(keepingCapacity: true)
        for _ in 0..<calls {
            before()
            let start = threadCPUSeconds()
            body()
            times.append(max(threadCPUSeconds() - start, 1e-9))
        }
        return BenchSummary(times)!.median
    }

    /// Seconds `calls` calls of `body` take.
    static func time(_ body: () -> Void, calls: Int) -> Double {
        let start = benchSeconds()
        for _ in 0..<calls { body() }
        return max(benchSeconds() - start, 1e-9)
    }
}
