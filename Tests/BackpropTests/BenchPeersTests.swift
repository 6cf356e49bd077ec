@testable import BackpropCLI
import Foundation
import XCTest

/// `mlp-bench --peers`: its flags, the peers' JSON lines, the tables, and finding the runner and
/// its venv, with synthetic data and fake `run.sh` scripts (no test runs PyTorch or JAX).
final class BenchPeersTests: XCTestCase {
    let configA = BenchSuite.configuration(named: "A")!

    /// A JSON line as `bench.py --json` prints it for config A.
    func jsonLine(framework: String = "torch", mode: String = "eager", threads: Int = 1, steps: Int = 40,
                  stepSeconds: [Double] = [0.004, 0.002, 0.0032], extra: String = "") -> String {
        let seconds = stepSeconds.map { "\($0)" }.joined(separator: ", ")
        return """
        {"framework": "\(framework)", "mode": "\(mode)", "version": "2.13.0+cpu", "config": "A", \
        "layers": [784, 256, 256, 10], "batch": 256, "threads": \(threads), "steps": \(steps), "warmup": 5, \
        "repeat": \(stepSeconds.count), "samples_per_second_median": 80000.0, "spread": [64000.0, 128000.0], \
        "step_seconds": [\(seconds)], "loss_first": 2.4, "loss_last": 2.3, "affinity": [0], "nice": -20, \
        "autogroup_nice": -20, "other_cpu_share": [0.01, 0.0, 0.02], "steal_share": [0, 0, 0], \
        "env": {"OMP_NUM_THREADS": "1"}, "torch_num_threads": 1\(extra)}
        """
    }

    func parse(_ output: String, peer: PeerFramework = .torch, threads: Int = 1, steps: Int = 40,
               windows: Int = 3) throws -> PeerResult {
        try PeerResult.parse(output: output, peer: peer, configuration: configA, threads: threads, steps: steps,
                             windows: windows)
    }

    // MARK: JSON lines

    func testParsesTheLastJSONLineAmongWarnings() throws {
        let output = "W1126 some framework warning\n{\"framework\": \"stale\"}\n" + jsonLine() + "\n"
        let r = try parse(output)
        XCTAssertEqual(r.framework, "torch")
        XCTAssertEqual(r.mode, "eager")
        XCTAssertEqual(r.version, "2.13.0+cpu")
        XCTAssertEqual(r.windows, 3)
        XCTAssertEqual(r.nice, -20)
        XCTAssertEqual(r.autogroupNice, -20)
        XCTAssertEqual(r.otherCPUShare, [0.01, 0.0, 0.02])
        XCTAssertEqual(r.windowRates[0], 256 / 0.004, accuracy: 1e-9)
        XCTAssertEqual(r.windowRates[1], 128_000, accuracy: 1e-9)
        XCTAssertEqual(r.windowRates.count, 3)
        // A null autogroup (no autogroups on the machine) is fine.
        let noAutogroup = jsonLine().replacingOccurrences(of: "\"autogroup_nice\": -20", with: "\"autogroup_nice\": null")
        XCTAssertNil(try parse(noAutogroup).autogroupNice)
        XCTAssertEqual(try parse(jsonLine(framework: "jax", mode: "jit"), peer: .jax).mode, "jit")
        XCTAssertEqual(try parse(jsonLine(mode: "compile"), peer: .torchCompile).mode, "compile")
    }

    func assertMalformed(_ output: String, peer: PeerFramework = .torch, threads: Int = 1, steps: Int = 40,
                         windows: Int = 3, _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try parse(output, peer: peer, threads: threads, steps: steps, windows: windows),
                             line: line) { error in
            guard case PeerError.malformed(let p, let c, let t, let reason) = error else {
                return XCTFail("not PeerError.malformed: \(error)", line: line)
            }
            XCTAssertEqual(p, peer.rawValue, line: line)
            XCTAssertEqual(c, "A", line: line)
            XCTAssertEqual(t, threads, line: line)
            XCTAssertTrue(reason.contains(fragment), "\(reason) lacks \(fragment)", line: line)
            XCTAssertTrue("\(error)".hasPrefix("--peers: \(peer.rawValue) on A with \(threads) thread(s): "), "\(error)",
                          line: line)
        }
    }

    func testMalformedLinesAreTypedErrors() {
        assertMalformed("", "no JSON line in its output (it printed nothing)")
        assertMalformed("Traceback (most recent call last):\n  oops\n", "no JSON line")
        assertMalformed("{\"framework\": \"torch\", ", "unreadable JSON line (not valid JSON)")
        assertMalformed(jsonLine().replacingOccurrences(of: "\"samples_per_second_median\": 80000.0, ", with: ""),
                        "missing samples_per_second_median")
        assertMalformed(jsonLine().replacingOccurrences(of: "\"threads\": 1", with: "\"threads\": \"one\""),
                        "wrong type at threads")
        assertMalformed(jsonLine(stepSeconds: [0.004, 0.002, 0.003]).replacingOccurrences(of: "0.002", with: "\"x\""),
                        "wrong type at step_seconds")
        assertMalformed(jsonLine(), peer: .torchCompile, "reports torch (eager), expected torch (compile)")
        assertMalformed(jsonLine(), peer: .jax, "expected jax (jit)")
        assertMalformed(jsonLine(threads: 2), "reports 2 threads, expected 1")
        assertMalformed(jsonLine(steps: 7), "reports 7 steps per window, expected 40")
        assertMalformed(jsonLine(stepSeconds: [0.004, 0.002]), "reports 2 window times (repeat 2), expected 3")
        assertMalformed(jsonLine(stepSeconds: [0.004, -0.002, 0.003]), "not a positive number")
        assertMalformed(jsonLine().replacingOccurrences(of: "\"batch\": 256", with: "\"batch\": 1024"),
                        "expected 784-256-256-10 batch 256")
    }

    // MARK: The tables

    /// One sample per window rate list; the round's figure is the median window.
    func sample(_ who: String, _ config: String, _ threads: Int, round: Int, _ rates: [Double],
                others: [Double] = [0]) -> PeerSample {
        PeerSample(participant: who, configuration: config, threads: threads, round: round, windowRates: rates,
                   otherCPUShare: others)
    }

    func testRatiosToTheBestPeerArePairedRoundByRound() throws {
        // Round figures (median windows): ours 120, 200, 110; torch 100, 100, 100; jax 90, 160, 105.
        let samples = [
            sample("ours", "A", 1, round: 0, [119, 120, 300], others: [0.01, 0.03]),
            sample("torch", "A", 1, round: 0, [100], others: [0.5]),
            sample("jax", "A", 1, round: 0, [90]),
            sample("ours", "A", 1, round: 1, [200]),
            sample("torch", "A", 1, round: 1, [100]),
            sample("jax", "A", 1, round: 1, [160]),
            sample("ours", "A", 1, round: 2, [110]),
            sample("torch", "A", 1, round: 2, [100]),
            sample("jax", "A", 1, round: 2, [105]),
        ]
        XCTAssertEqual(samples[0].samplesPerSecond, 120)
        let c = PeerComparison(samples: samples, participants: ["ours", "torch", "jax"], configurations: ["A"],
                               threadCounts: [1])
        let row = try XCTUnwrap(c.rows.first)
        XCTAssertEqual(c.rows.count, 1)
        XCTAssertEqual(row.cells.map(\.participant), ["ours", "torch", "jax"])
        XCTAssertEqual(row.cells[0].summary.median, 120)
        XCTAssertEqual(row.cells[0].summary.min, 110)
        XCTAssertEqual(row.cells[0].summary.max, 200)
        XCTAssertEqual(row.cells[2].summary.median, 105)
        // Per round: 120/100 = 1.2 (torch best), 200/160 = 1.25 (jax), 110/105 ≈ 1.048 (jax).
        let ratio = try XCTUnwrap(row.ratioToBestPeer)
        XCTAssertEqual(ratio.count, 3)
        XCTAssertEqual(ratio.median, 1.2, accuracy: 1e-12)
        XCTAssertEqual(ratio.min, 110.0 / 105.0, accuracy: 1e-12)
        XCTAssertEqual(ratio.max, 1.25, accuracy: 1e-12)
        XCTAssertEqual(row.bestPeer, "jax")
        XCTAssertEqual(row.verdict, .medianMet)
        XCTAssertEqual(try XCTUnwrap(row.otherCPUShareMedian), 0)
        XCTAssertEqual(try XCTUnwrap(row.otherCPUShareMax), 0.5)
        XCTAssertTrue(c.scaling.isEmpty, "no scaling without a second thread count")

        let text = c.text()
        XCTAssertTrue(text.contains("1.20× [1.05–1.25] vs jax"), text)
        XCTAssertTrue(text.contains("120 [110–200]"), text)
        XCTAssertTrue(text.contains("median met"), text)
        XCTAssertTrue(text.contains("0% (max 50%)"), text)
    }

    func testVerdicts() throws {
        XCTAssertEqual(PeerVerdict(try XCTUnwrap(BenchSummary([1.1, 1.2, 1.3])), goal: 1.1), .met)
        XCTAssertEqual(PeerVerdict(try XCTUnwrap(BenchSummary([1.0, 1.2, 1.3])), goal: 1.1), .medianMet)
        XCTAssertEqual(PeerVerdict(try XCTUnwrap(BenchSummary([1.0, 1.05, 1.3])), goal: 1.1), .notMet)
    }

    func testScalingPairsRoundsAndJudgesOnlyLargeConfigurationsAtTwoThreads() throws {
        var samples: [PeerSample] = []
        for (config, ours2) in [("B", [180.0, 190, 200]), ("C", [190.0, 195, 185])] {
            for round in 0..<3 {
                samples.append(sample("ours", config, 1, round: round, [100]))
                samples.append(sample("ours", config, 2, round: round, [ours2[round]]))
                samples.append(sample("jax", config, 1, round: round, [50]))
                if round < 2 { samples.append(sample("jax", config, 2, round: round, [75 + Double(round) * 25])) }
            }
        }
        let c = PeerComparison(samples: samples, participants: ["ours", "jax"], configurations: ["B", "C"],
                               threadCounts: [1, 2])
        XCTAssertEqual(c.rows.map { "\($0.configuration)\($0.threads)" }, ["B1", "B2", "C1", "C2"])
        XCTAssertEqual(c.scaling.map(\.configuration), ["B", "C"])
        let b = c.scaling[0], cc = c.scaling[1]
        XCTAssertNil(b.goal, "B has no scaling goal")
        XCTAssertNil(b.verdict)
        XCTAssertEqual(b.cells[0].summary.median, 1.9, accuracy: 1e-12)
        // jax was measured at 2 threads in rounds 0 and 1 only: 75/50, 100/50.
        XCTAssertEqual(b.cells[1].summary.count, 2)
        XCTAssertEqual(b.cells[1].summary.min, 1.5, accuracy: 1e-12)
        XCTAssertEqual(b.cells[1].summary.max, 2.0, accuracy: 1e-12)
        XCTAssertEqual(cc.goal, 1.9)
        XCTAssertEqual(cc.verdict, .medianMet)  // 1.85, 1.9, 1.95
        // The 2-thread row of C pairs only rounds with both: round 2 has no jax, so 2 ratios.
        let c2 = try XCTUnwrap(c.rows.last)
        XCTAssertEqual(c2.ratioToBestPeer?.count, 2)
        XCTAssertEqual(try XCTUnwrap(c2.ratioToBestPeer).median, (190.0 / 75 + 195.0 / 100) / 2, accuracy: 1e-12)
        XCTAssertEqual(c2.verdict, .met)
        let text = c.text()
        XCTAssertTrue(text.contains("2t/1t"), text)
        XCTAssertTrue(text.contains("≥ 1.9×: median met"), text)
    }

    func testRowWithoutPeersHasNoRatio() throws {
        let c = PeerComparison(samples: [sample("ours", "D", 1, round: 0, [500])], participants: ["ours", "torch"],
                               configurations: ["D"], threadCounts: [1])
        XCTAssertNil(c.rows[0].ratioToBestPeer)
        XCTAssertNil(c.rows[0].verdict)
        XCTAssertTrue(c.text().contains("500 [500–500]  -"), c.text())
    }

    func testReportRoundTripsThroughJSON() throws {
        let samples = [sample("ours", "A", 1, round: 0, [120]), sample("jax", "A", 1, round: 0, [100])]
        let report = PeerRunReport(
            machine: BenchMachine(cpu: "test CPU", logicalProcessors: 2, isa: "avx512"),
            compared: PeerRunReport.comparedText(configurations: [configA], windows: 3), configurations: [configA],
            threadCounts: [1], rounds: 1, windows: 3, nice: -20,
            participants: [PeerParticipantInfo(participant: "ours", description: "Backprop", nice: -20, autogroupNice: nil)],
            samples: samples,
            comparison: PeerComparison(samples: samples, participants: ["ours", "jax"], configurations: ["A"],
                                       threadCounts: [1]),
            wallSeconds: 12)
        let decoded = try JSONDecoder().decode(PeerRunReport.self, from: Data(try report.json().utf8))
        XCTAssertEqual(decoded, report)
        XCTAssertEqual(decoded.comparison.rows[0].ratioToBestPeer?.median ?? 0, 1.2, accuracy: 1e-12)
        XCTAssertTrue(report.text().contains("steps/warm-up: A 40/5"), report.text())
        XCTAssertTrue(report.text().contains("wall time 12 s"), report.text())
    }

    // MARK: CPU accounting

    func testOtherCPUShareFromProcStat() throws {
        let stat = """
        cpu  500 0 100 9000 0 0 0 0 0 0
        cpu0 100 10 50 4000 7 3 2 9 0 0
        cpu1 300 0 40 4000 0 0 0 1 0 0
        intr 12345
        """
        // cpu0 busy = 100 + 10 + 50 + 3 + 2 (not idle 4000, iowait 7 or steal 9).
        XCTAssertEqual(try XCTUnwrap(CPUStat.busySeconds(procStat: stat, cpus: [0], ticksPerSecond: 100)), 1.65,
                       accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(CPUStat.busySeconds(procStat: stat, cpus: [0, 1], ticksPerSecond: 100)), 5.05,
                       accuracy: 1e-12)
        XCTAssertNil(CPUStat.busySeconds(procStat: stat, cpus: [0, 5], ticksPerSecond: 100), "cpu5 is not listed")
        XCTAssertEqual(CPUStat.otherShare(busy: 1.5, own: 1.0, elapsed: 1, cpus: 2), 0.25)
        XCTAssertEqual(CPUStat.otherShare(busy: 0.9, own: 1.0, elapsed: 1, cpus: 1), 0, "never negative")
    }

    // MARK: Finding run.sh and the venv

    func makeDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peers-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func writeScript(_ path: String, _ body: String) throws {
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    /// A peers directory with `run.sh` doing `body` and, with `venv`, a completed venv.
    func makePeersDirectory(venv: Bool, stamp: Bool = true, body: String = "exit 0") throws -> String {
        let dir = try makeDirectory()
        try writeScript(dir + "/run.sh", body)
        if venv {
            try FileManager.default.createDirectory(atPath: dir + "/.venv/bin", withIntermediateDirectories: true)
            try writeScript(dir + "/.venv/bin/python", "exit 0")
            if stamp { try "torch 2.13.0\n".write(toFile: dir + "/.venv/.peers-installed", atomically: true, encoding: .utf8) }
        }
        return dir
    }

    func testMissingVenvNamesSetupScript() throws {
        for dir in [try makePeersDirectory(venv: false), try makePeersDirectory(venv: true, stamp: false)] {
            XCTAssertThrowsError(try PeerRunner(directory: dir)) { error in
                XCTAssertEqual(error as? PeerError, .venvMissing(directory: dir))
                XCTAssertTrue("\(error)".contains("run Benchmarks/peers/setup.sh first"), "\(error)")
                XCTAssertTrue("\(error)".contains(dir + "/.venv"), "\(error)")
            }
        }
        XCTAssertNoThrow(try PeerRunner(directory: try makePeersDirectory(venv: true)))
        let empty = try makeDirectory()
        XCTAssertThrowsError(try PeerRunner(directory: empty)) { error in
            XCTAssertEqual(error as? PeerError, .runnerMissing(searched: [empty]))
        }
    }

    func testLocateSearchesEnvironmentWorkingDirectoryAndExecutableAncestors() throws {
        let root = try makeDirectory()
        try FileManager.default.createDirectory(atPath: root + "/Benchmarks/peers", withIntermediateDirectories: true)
        try writeScript(root + "/Benchmarks/peers/run.sh", "exit 0")
        let elsewhere = try makeDirectory()
        XCTAssertEqual(try PeerRunner.locate(environment: [:], currentDirectory: root, executablePath: nil),
                       root + "/Benchmarks/peers")
        XCTAssertEqual(try PeerRunner.locate(environment: [:], currentDirectory: elsewhere,
                                             executablePath: root + "/.build/release/mlp-bench"),
                       URL(fileURLWithPath: root + "/Benchmarks/peers").resolvingSymlinksInPath().path)
        XCTAssertEqual(try PeerRunner.locate(environment: ["BACKPROP_PEERS_DIR": root + "/Benchmarks/peers"],
                                             currentDirectory: elsewhere, executablePath: nil),
                       root + "/Benchmarks/peers")
        XCTAssertThrowsError(try PeerRunner.locate(environment: ["BACKPROP_PEERS_DIR": elsewhere],
                                                   currentDirectory: root, executablePath: nil)) { error in
            XCTAssertEqual(error as? PeerError, .runnerMissing(searched: [elsewhere + " (BACKPROP_PEERS_DIR)"]))
        }
        XCTAssertThrowsError(try PeerRunner.locate(environment: [:], currentDirectory: elsewhere, executablePath: nil)) {
            XCTAssertTrue("\($0)".contains("Benchmarks/peers/run.sh not found"), "\($0)")
        }
    }

    // MARK: Running a (fake) run.sh

    func testMeasurePassesTheRunAndParsesItsLine() throws {
        let dir = try makeDirectory()
        let line = jsonLine(framework: "jax", mode: "jit", threads: 2, steps: 40)
        try line.write(toFile: dir + "/line.json", atomically: true, encoding: .utf8)
        let peers = try makePeersDirectory(venv: true, body: """
            echo "$@" > "\(dir)/args"
            echo "a warning" >&2
            echo "jax: some log line"
            cat "\(dir)/line.json"
            """)
        let r = try PeerRunner(directory: peers).measure(.jax, configuration: configA, threads: 2, windows: 3, nice: -20,
                                                         seed: 1)
        XCTAssertEqual(r.threads, 2)
        XCTAssertEqual(r.framework, "jax")
        let args = try String(contentsOfFile: dir + "/args", encoding: .utf8)
        XCTAssertEqual(args, "jax A 2 --steps 40 --warmup 5 --repeat 3 --seed 1 --nice -20\n")
    }

    func testFailingPeerIsATypedErrorWithItsStderr() throws {
        let peers = try makePeersDirectory(venv: true, body: """
            echo "Traceback (most recent call last):" >&2
            echo "ModuleNotFoundError: No module named 'torch'" >&2
            exit 1
            """)
        XCTAssertThrowsError(try PeerRunner(directory: peers).measure(.torch, configuration: configA, threads: 1,
                                                                      windows: 3, nice: 0, seed: 0)) { error in
            guard case PeerError.failed(let peer, let config, let threads, let status, let tail) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual([peer, config], ["torch", "A"])
            XCTAssertEqual(threads, 1)
            XCTAssertEqual(status, 1)
            XCTAssertTrue(tail.hasSuffix("No module named 'torch'"), tail)
            XCTAssertTrue("\(error)".contains("Benchmarks/peers/setup.sh"), "\(error)")
        }
        let noVenv = try makePeersDirectory(venv: true, body: "echo 'run.sh: .venv is not set up' >&2; exit 3")
        XCTAssertThrowsError(try PeerRunner(directory: noVenv).measure(.torch, configuration: configA, threads: 1,
                                                                       windows: 3, nice: 0, seed: 0)) { error in
            XCTAssertEqual(error as? PeerError, .venvMissing(directory: noVenv))
        }
        let silent = try makePeersDirectory(venv: true, body: "exit 0")
        XCTAssertThrowsError(try PeerRunner(directory: silent).measure(.jax, configuration: configA, threads: 1,
                                                                       windows: 3, nice: 0, seed: 0)) { error in
            guard case PeerError.malformed(_, _, _, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("printed nothing"), reason)
        }
    }

    // MARK: Flags

    func parseFlags(_ args: [String]) throws -> BenchCommandLine { try BenchCommandLine.parse(args, processors: 2) }

    func testPeersFlags() throws {
        guard case .peers(let o) = try parseFlags(["--peers", "--config", "A,B"]) else { return XCTFail() }
        XCTAssertEqual(o.peers, [.torch, .jax])
        XCTAssertEqual(o.configurations.map(\.name), ["A", "B"])
        XCTAssertEqual(o.threadCounts, [1, 2])
        XCTAssertEqual(o.rounds, 3)
        XCTAssertEqual(o.windows, 3)
        XCTAssertEqual(o.nice, 0)
        XCTAssertFalse(o.json)
        guard case .peers(let p) = try parseFlags(["--peers", "jax,torch-compile", "--nice", "-20", "--repeat", "5",
                                                   "--windows=2", "--threads", "2", "--steps", "7", "--json"])
        else { return XCTFail() }
        XCTAssertEqual(p.peers, [.jax, .torchCompile])
        XCTAssertEqual(p.nice, -20)
        XCTAssertEqual(p.rounds, 5)
        XCTAssertEqual(p.windows, 2)
        XCTAssertEqual(p.threadCounts, [2])
        XCTAssertEqual(p.configurations.map(\.steps), [7, 7, 7, 7])
        XCTAssertTrue(p.json)
        guard case .peers(let q) = try parseFlags(["--peers=torch"]) else { return XCTFail() }
        XCTAssertEqual(q.peers, [.torch])
    }

    func assertFlagError(_ args: [String], flag: String, _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try parseFlags(args), line: line) { error in
            guard let e = error as? BenchFlagError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(e.flag, flag, line: line)
            XCTAssertTrue(e.description.contains(fragment), e.description, line: line)
        }
    }

    func testBadPeersFlags() {
        assertFlagError(["--peers", "tensorflow"], flag: "--peers", "unknown framework 'tensorflow'")
        assertFlagError(["--peers", "jax,jax"], flag: "--peers", "lists jax twice")
        assertFlagError(["--nice", "-5"], flag: "--nice", "needs --peers")
        assertFlagError(["--windows", "2"], flag: "--windows", "needs --peers")
        assertFlagError(["--peers", "--nice", "-21"], flag: "--nice", "-20...19")
        assertFlagError(["--peers", "--threads", "1,4"], flag: "--threads", "4 threads")
        assertFlagError(["--peers", "--layers", "10,10", "--batch", "4"], flag: "--layers", "cannot be combined")
        assertFlagError(["--peers", "--optimizer", "adam"], flag: "--peers", "plain SGD")
        assertFlagError(["gemm", "--peers"], flag: "--peers", "unknown flag for mlp-bench gemm")
    }
}
