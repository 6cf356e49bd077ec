#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenBLAS (or another CBLAS), loaded with `dlopen` at run time so that it is never a build
/// dependency: mlp-bench compares our GEMM with its `cblas_sgemm` when one is installed.
///
/// The comparison is single-threaded: `OPENBLAS_NUM_THREADS=1` is set before loading (so
/// OpenBLAS does not start a thread pool) and `openblas_set_num_threads(1)` is called when the
/// library has it. `OPENBLAS_CORETYPE` in the environment picks OpenBLAS's kernels; `core`
/// reports which ran.
public final class OpenBLAS: @unchecked Sendable {
    /// Libraries tried, in order.
    public static let candidates = ["libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"]

    private typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                              UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                              Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias CoreName = @convention(c) () -> UnsafeMutablePointer<CChar>?

    /// The library file that was loaded.
    public let library: String
    /// `openblas_get_corename()`, e.g. `Haswell` or `SkylakeX`; nil for a CBLAS that is not OpenBLAS.
    public let core: String?
    /// The `OPENBLAS_CORETYPE` environment variable at load time, if set.
    public let coreTypeEnvironment: String?
    private let handle: UnsafeMutableRawPointer
    private let sgemm: SGEMM

    /// Loads the first of `candidates` that exports `cblas_sgemm`; nil when none does.
    public static func load(candidates: [String] = OpenBLAS.candidates) -> OpenBLAS? {
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let symbol = dlsym(handle, "cblas_sgemm") else {
                dlclose(handle)
                continue
            }
            return OpenBLAS(library: name, handle: handle, sgemm: unsafeBitCast(symbol, to: SGEMM.self))
        }
        return nil
    }

    private init(library: String, handle: UnsafeMutableRawPointer, sgemm: SGEMM) {
        self.library = library
        self.handle = handle
        self.sgemm = sgemm
        if let set = dlsym(handle, "openblas_set_num_threads") {
            unsafeBitCast(set, to: SetThreads.self)(1)
        }
        if let name = dlsym(handle, "openblas_get_corename"),
           let cString = unsafeBitCast(name, to: CoreName.self)() {
            core = String(cString: cString).trimmingSpaces
        } else {
            core = nil
        }
        coreTypeEnvironment = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
    }

    /// `C[m×n] = op(A)·op(B)` in row-major storage (`beta = 0`), `op(X) = Xᵀ` when transposed.
    /// Sizes must fit in 32 bits (the LP64 CBLAS interface).
    public func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
                      b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112
        sgemm(rowMajor, transposeA ? trans : noTrans, transposeB ? trans : noTrans,
              Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }

    /// `library (core X, OPENBLAS_CORETYPE=Y)`.
    public var description: String {
        var s = library
        var details: [String] = []
        if let core { details.append("core \(core)") }
        if let env = coreTypeEnvironment { details.append("OPENBLAS_CORETYPE=\(env)") }
        if !details.isEmpty { s += " (" + details.joined(separator: ", ") + ")" }
        return s
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\n" { s.removeFirst() }
        while s.last == " " || s.last == "\n" { s.removeLast() }
        return String(s)
    }
}
