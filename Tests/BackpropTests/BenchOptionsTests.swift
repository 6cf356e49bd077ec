@testable import BackpropCLI
import XCTest

final class BenchOptionsTests: XCTestCase {
    func parse(_ args: [String]) throws -> BenchCommandLine { try BenchCommandLine.parse(args, processors: 2) }

    func assertFlagError(_ args: [String], flag: String, _ fragment: String = "", line: UInt = #line) {
        XCTAssertThrowsError(try parse(args), line: line) { error in
            guard let e = error as? BenchFlagError else { return XCTFail("not a BenchFlagError: \(error)", line: line) }
            XCTAssertEqual(e.flag, flag, line: line)
            XCTAssertTrue(e.description.hasPrefix("mlp-bench: \(flag): "), e.description, line: line)
            XCTAssertFalse(e.description.contains("\n"), "one line", line: line)
            if !fragment.isEmpty { XCTAssertTrue(e.description.contains(fragment), e.description, line: line) }
        }
    }

    func testDefaultsRunTheSuiteOnOneAndAllThreads() throws {
        guard case .train(let o) = try parse([]) else { return XCTFail() }
        XCTAssertEqual(o.configurations.map(\.name), ["A", "B", "C", "D"])
        XCTAssertEqual(o.configurations[1].sizes, [784, 1024, 1024, 10])
        XCTAssertEqual(o.configurations[2].batch, 8192)
        XCTAssertEqual(o.threadCounts, [1, 2])
        XCTAssertEqual(o.repeats, 5)
        XCTAssertFalse(o.json)
        XCTAssertEqual(o.reduction, .threadCountInvariant)
        XCTAssertEqual(BenchSuite.defaultThreadCounts(processors: 1), [1])
        XCTAssertEqual(BenchSuite.defaultThreadCounts(processors: 12), [1, 2, 4, 8, 12])
    }

    func testCustomLayers() throws {
        guard case .train(let o) = try parse(["--layers", "784,1024,1024,10", "--batch", "1024", "--threads", "1,2",
                                              "--steps", "3", "--warmup=0", "--repeat", "7", "--json"]) else { return XCTFail() }
        XCTAssertEqual(o.configurations, [BenchConfiguration(name: "custom", sizes: [784, 1024, 1024, 10], batch: 1024,
                                                             steps: 3, warmup: 0)])
        XCTAssertEqual(o.threadCounts, [1, 2])
        XCTAssertEqual(o.repeats, 7)
        XCTAssertTrue(o.json)
        guard case .train(let tree) = try parse(["--reduction", "tree"]) else { return XCTFail() }
        XCTAssertEqual(tree.reduction, .perWorkerTree)
        XCTAssertEqual(o.configurations[0].flopsPerStep, 6 * 1024 * (784 * 1024 + 1024 * 1024 + 1024 * 10))
        XCTAssertEqual(o.configurations[0].executedFlopsPerStep,
                       6 * 1024 * (784 * 1024 + 1024 * 1024 + 1024 * 10) - 2 * 1024 * 784 * 1024)
    }

    func testConfigSubsetAndSubcommands() throws {
        guard case .gemm(let g) = try parse(["gemm", "--config", "b,D", "--no-openblas"]) else { return XCTFail() }
        XCTAssertEqual(g.configurations.map(\.name), ["B", "D"])
        XCTAssertFalse(g.openBLAS)
        guard case .gate(let gate) = try parse(["gate", "--baseline", "x.json", "--full", "--max-spread", "12.5",
                                                "--update-baseline"]) else { return XCTFail() }
        XCTAssertEqual(gate.baselinePath, "x.json")
        XCTAssertTrue(gate.full)
        XCTAssertTrue(gate.updateBaseline)
        XCTAssertEqual(gate.policy.maxRelativeSpread, 0.125, accuracy: 1e-12)
        XCTAssertEqual(gate.policy.threshold, 0.07, accuracy: 1e-12)
        XCTAssertEqual(gate.policy.minimumCoreAvailability, 0.85, accuracy: 1e-12)
        guard case .gate(let all) = try parse(["gate", "--min-cores-free", "100"]) else { return XCTFail() }
        XCTAssertEqual(all.policy.minimumCoreAvailability, 1)
        XCTAssertEqual(gate.repeats, 5)
        XCTAssertEqual(try parse(["--help"]), .help)
    }

    func testFlagErrorsNameTheFlag() {
        assertFlagError(["--frob"], flag: "--frob", "unknown flag")
        assertFlagError(["--batch", "0", "--layers", "2,3"], flag: "--batch", "'0'")
        assertFlagError(["--layers", "2,3", "--batch", "x"], flag: "--batch", "'x'")
        assertFlagError(["--batch", "8"], flag: "--batch", "needs --layers")
        assertFlagError(["--layers", "784"], flag: "--layers", "two sizes")
        assertFlagError(["--layers", "784,,10"], flag: "--layers")
        assertFlagError(["--layers", "784,-3"], flag: "--layers")
        assertFlagError(["--threads", "0"], flag: "--threads")
        assertFlagError(["--threads", "1,1"], flag: "--threads", "twice")
        assertFlagError(["--steps"], flag: "--steps", "needs a value")
        assertFlagError(["--steps", "--json"], flag: "--steps", "needs a value")
        assertFlagError(["--repeat", "0"], flag: "--repeat")
        assertFlagError(["--json=yes"], flag: "--json", "takes no value")
        assertFlagError(["--config", "E"], flag: "--config", "'E'")
        assertFlagError(["--config", "A", "--layers", "2,3"], flag: "--config")
        assertFlagError(["gemm", "--threads", "2"], flag: "--threads", "gemm")
        assertFlagError(["--reduction", "fast"], flag: "--reduction", "'fast'")
        assertFlagError(["gate", "--reduction", "tree"], flag: "--reduction", "gate")
        assertFlagError(["gate", "--repeat", "3"], flag: "--repeat", "5")
        assertFlagError(["gate", "--threshold", "0"], flag: "--threshold")
        assertFlagError(["gate", "--threshold", "abc"], flag: "--threshold")
        assertFlagError(["gate", "--threshold", "150"], flag: "--threshold")
        assertFlagError(["gate", "--threshold", "100"], flag: "--threshold")
        assertFlagError(["gate", "--min-cores-free", "101"], flag: "--min-cores-free")
        assertFlagError(["bench"], flag: "bench", "subcommand")
        assertFlagError(["run", "extra"], flag: "extra")
    }

    func testBadFlagExitsTwo() {
        XCTAssertEqual(BenchCommand.main(["--batch", "-1"], allocationProbe: nil), 2)
        XCTAssertEqual(BenchCommand.main(["gate", "--baseline", "/nonexistent/baseline.json"], allocationProbe: nil,
                                         makeStepper: { _, _ in throw BenchFlagError("x", "must not run") }), 2)
    }
}
