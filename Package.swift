// swift-tools-version:6.0
import PackageDescription

// The GEMM kernels are one Swift source (Sources/BackpropKernelsPortable) compiled three
// times: for AVX-512, for AVX2+FMA and for the baseline of the architecture. `Backprop`
// picks one at run time from the CPU's features, so a plain `swift build -c release`
// is fast here and still runs on an AVX2-only or non-x86 machine.
#if arch(x86_64)
let avx512Settings: [SwiftSetting] = [
    .define("BACKPROP_AVX512"),
    .unsafeFlags(["-target-cpu", "skylake-avx512", "-Xcc", "-march=skylake-avx512"]),
]
let avx2Settings: [SwiftSetting] = [
    .define("BACKPROP_AVX2"),
    .unsafeFlags(["-target-cpu", "haswell", "-Xcc", "-march=haswell"]),
]
#else
let avx512Settings: [SwiftSetting] = [.define("BACKPROP_UNAVAILABLE")]
let avx2Settings: [SwiftSetting] = [.define("BACKPROP_UNAVAILABLE")]
#endif

let package = Package(
    name: "Backprop",
    products: [
        .library(name: "Backprop", targets: ["Backprop"]),
        .executable(name: "mlp-train", targets: ["mlp-train"]),
        .executable(name: "mlp-bench", targets: ["mlp-bench"]),
    ],
    targets: [
        // A few lines of C: CPU feature probes and OS calls Swift cannot make directly.
        .target(name: "CBackpropSupport", cSettings: [.define("_GNU_SOURCE")]),
        // Counts heap allocations by interposing malloc; linked only into tests and mlp-bench,
        // never into the library a user links.
        .target(name: "CAllocationCounter"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Kernels: know nothing of models.
        .target(name: "BackpropKernelTypes"),
        // Cache-prefetch hints for the GEMM micro-kernel and packing (a C builtin Swift has no word for).
        .target(name: "CKernelSupport"),
        .target(name: "BackpropKernelsPortable", dependencies: ["BackpropKernelTypes", "CKernelSupport"],
                swiftSettings: [.define("BACKPROP_PORTABLE")]),
        .target(name: "BackpropKernelsAVX2", dependencies: ["BackpropKernelTypes", "CKernelSupport"],
                swiftSettings: avx2Settings),
        .target(name: "BackpropKernelsAVX512", dependencies: ["BackpropKernelTypes", "CKernelSupport"],
                swiftSettings: avx512Settings),

        // Model, training, data and checkpoints.
        .target(name: "Backprop", dependencies: [
            "BackpropKernelTypes", "BackpropKernelsPortable", "BackpropKernelsAVX2",
            "BackpropKernelsAVX512", "CBackpropSupport", "CZlib",
        ]),

        // Command-line tools, thin over the library.
        .target(name: "BackpropCLI", dependencies: ["Backprop", "CBackpropSupport"]),
        .executableTarget(name: "mlp-train", dependencies: ["BackpropCLI"]),
        .executableTarget(name: "mlp-bench", dependencies: ["Backprop", "BackpropCLI", "CAllocationCounter"],
                          path: "Benchmarks/mlp-bench"),

        .testTarget(name: "KernelTests", dependencies: ["Backprop", "BackpropKernelTypes"]),
        .testTarget(name: "BackpropTests", dependencies: ["Backprop", "BackpropCLI", "CAllocationCounter"]),
    ],
    swiftLanguageModes: [.v6]
)
