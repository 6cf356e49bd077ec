import Foundation

/// Runs one peer measurement at a time through `Benchmarks/peers/run.sh`, which starts the
/// peer's worker under `taskset -c 0-(P-1)` with its thread pools set to `P` (see
/// `Benchmarks/peers/README.md`).
public struct PeerRunner: Sendable {
    /// The `Benchmarks/peers` directory (holding `run.sh` and `.venv`).
    public var directory: String

    /// A runner for `directory`, which must hold `run.sh` and a venv `setup.sh` completed.
    /// - Throws: `PeerError.runnerMissing` without `run.sh`, `PeerError.venvMissing` when
    ///   `.venv/bin/python` or `setup.sh`'s stamp `.venv/.peers-installed` is missing (the
    ///   check `run.sh` makes before it runs anything).
    public init(directory: String) throws {
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: directory + "/run.sh") else {
            throw PeerError.runnerMissing(searched: [directory])
        }
        guard fm.isExecutableFile(atPath: directory + "/.venv/bin/python"),
              fm.fileExists(atPath: directory + "/.venv/.peers-installed") else {
            throw PeerError.venvMissing(directory: directory)
        }
        self.directory = directory
    }

    /// The `Benchmarks/peers` directory: `$BACKPROP_PEERS_DIR` when set, else the first of
    /// `currentDirectory/Benchmarks/peers` and the `Benchmarks/peers` beside an ancestor of the
    /// executable (`.build/release/mlp-bench` in a checkout) that holds `run.sh`.
    /// - Throws: `PeerError.runnerMissing` listing the places searched.
    public static func locate(environment: [String: String], currentDirectory: String,
                              executablePath: String?) throws -> String {
        if let explicit = environment["BACKPROP_PEERS_DIR"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit + "/run.sh") else {
                throw PeerError.runnerMissing(searched: [explicit + " (BACKPROP_PEERS_DIR)"])
            }
            return explicit
        }
        var candidates = [currentDirectory + "/Benchmarks/peers"]
        if let executablePath {
            var url = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 {
                url = url.deletingLastPathComponent()
                candidates.append(url.path + "/Benchmarks/peers")
            }
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate + "/run.sh") {
            return candidate
        }
        throw PeerError.runnerMissing(searched: candidates)
    }

    /// Runs `run.sh FRAMEWORK CONFIG THREADS --steps --warmup --repeat --seed --nice` and returns
    /// its checked JSON result.
    /// - Throws: `PeerError.launchFailed`, `.failed` (non-zero exit; exit 3 means the venv is
    ///   missing) or `.malformed`.
    public func measure(_ peer: PeerFramework, configuration c: BenchConfiguration, threads: Int, windows: Int,
                        nice: Int, seed: Int) throws -> PeerResult {
        let arguments = [peer.rawValue, c.name, String(threads), "--steps", String(c.steps), "--warmup", String(c.warmup),
                         "--repeat", String(windows), "--seed", String(seed), "--nice", String(nice)]
        let (status, stdout, stderr) = try run(directory + "/run.sh", arguments)
        guard status == 0 else {
            if status == 3 { throw PeerError.venvMissing(directory: directory) }
            let tail = stderr.split(whereSeparator: \.isNewline).suffix(15).joined(separator: "\n")
            throw PeerError.failed(peer: peer.rawValue, configuration: c.name, threads: threads, status: status,
                                   stderrTail: tail)
        }
        return try PeerResult.parse(output: stdout, peer: peer, configuration: c, threads: threads, steps: c.steps,
                                    windows: windows)
    }

    /// Runs `path arguments` to completion; its standard output and error go to temporary files
    /// (no pipe can fill up and stall it).
    func run(_ path: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("mlp-bench-peer-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        guard fm.createFile(atPath: outURL.path, contents: nil), fm.createFile(atPath: errURL.path, contents: nil),
              let out = FileHandle(forWritingAtPath: outURL.path), let err = FileHandle(forWritingAtPath: errURL.path) else {
            throw PeerError.launchFailed(path: path, reason: "cannot create temporary files in \(fm.temporaryDirectory.path)")
        }
        defer {
            try? fm.removeItem(at: outURL)
            try? fm.removeItem(at: errURL)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? out.close()
            try? err.close()
            throw PeerError.launchFailed(path: path, reason: error.localizedDescription)
        }
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return (process.terminationStatus, stdout, stderr)
    }
}
