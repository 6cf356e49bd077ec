import Backprop
import Foundation

/// A participant of `mlp-bench --peers` as it ran: version and priority.
public struct PeerParticipantInfo: Codable, Equatable, Sendable {
    public var participant: String
    /// `Backprop (avx512, reduction invariant)`, `torch 2.13.0+cpu (eager)`, `jax 0.10.2 (jit)`.
    public var description: String
    /// The nice value and autogroup nice value it ran at (the peers': from their last JSON line).
    public var nice: Int
    public var autogroupNice: Int?
}

/// Everything `mlp-bench --peers --json` prints.
public struct PeerRunReport: Codable, Equatable, Sendable {
    public var machine: BenchMachine
    /// What was measured, in words (also the text output's header).
    public var compared: String
    public var configurations: [BenchConfiguration]
    public var threadCounts: [Int]
    public var rounds: Int
    public var windows: Int
    public var nice: Int
    public var participants: [PeerParticipantInfo]
    public var samples: [PeerSample]
    public var comparison: PeerComparison
    /// Wall-clock seconds of the whole run.
    public var wallSeconds: Double

    /// The report as pretty-printed JSON with sorted keys.
    /// - Throws: `EncodingError` for a non-finite number (a window can never produce one).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The header, the participants, the tables and the wall time, as text.
    public func text() -> String {
        var out = "mlp-bench --peers on \(machine.description)\n" + compared + "\n"
        out += "participants: " + participants.map { info in
            "\(info.participant) = \(info.description), nice \(info.nice)" + (info.autogroupNice.map { "/autogroup \($0)" } ?? "")
        }.joined(separator: "; ") + "\n\n"
        out += comparison.text()
        out += "\n\(rounds) rounds × \(windows) windows; wall time \(fixed(wallSeconds, 0)) s\n"
        return out
    }

    /// The header saying what is compared, for `steps`/`warmup` per configuration.
    static func comparedText(configurations: [BenchConfiguration], windows: Int) -> String {
        let steps = configurations.map { "\($0.name) \($0.steps)/\($0.warmup)" }.joined(separator: ", ")
        return """
        Compared: samples/s of one full training step on one fixed random batch (no data loading): forward, \
        backward, SGD update (η = 0.01), ReLU hidden layers, identity output, softmax cross-entropy averaged \
        over the batch. No participant computes the first layer's input gradient (Backprop skips it; the peers' \
        input needs no gradient). Values differ, shapes do not: ours U[−1, 1) inputs and Backprop's \
        initialization, the peers N(0, 1) inputs and nn.Linear's.
        Method: every measurement builds a fresh model on CPUs 0..P−1 (peers: a new process under taskset; \
        ours: in process, the measuring thread pinned and the trainer's threads inheriting it), runs 1 + warm-up \
        untimed steps, then \(windows) timed windows of `steps` steps (steps/warm-up: \(steps)); a window's \
        samples/s = batch · steps / its wall-clock seconds, a round's figure is the median window. \
        Participants take turns within each configuration and thread count, the order rotated every round.
        """
    }
}

extension BenchCommand {
    /// `mlp-bench --peers`: rounds of ours and each peer, interleaved, then the tables.
    static func peers(_ o: PeerBenchOptions, makeStepper: BenchStepperFactory?, progress: BenchProgress) throws -> Int32 {
        let directory = try PeerRunner.locate(environment: ProcessInfo.processInfo.environment,
                                              currentDirectory: FileManager.default.currentDirectoryPath,
                                              executablePath: Bundle.main.executablePath ?? CommandLine.arguments.first)
        let runner = try PeerRunner(directory: directory)
        let makeStepper = makeStepper ?? { c, p in
            try BenchTrainerStepper(configuration: c, threads: p, reduction: o.reduction, placement: o.placement)
        }
        let priority = PriorityRaise(nice: o.nice)
        defer { priority.restore() }
        if let warning = priority.warning { printError("mlp-bench: --nice: \(warning)") }

        let start = benchSeconds()
        let participants = ["ours"] + o.peers.map(\.rawValue)
        var samples: [PeerSample] = []
        var infos: [String: PeerParticipantInfo] = [
            "ours": PeerParticipantInfo(participant: "ours",
                                        description: "Backprop (\(InstructionSet.active.rawValue), reduction \(o.reduction.rawValue))",
                                        nice: priority.nice, autogroupNice: priority.autogroupNice),
        ]
        for round in 0..<o.rounds {
            for c in o.configurations {
                for p in o.threadCounts {
                    let k = round % participants.count
                    for who in participants[k...] + participants[..<k] {
                        progress.show("round \(round + 1)/\(o.rounds), \(c.name) P=\(p): \(who)")
                        let sample: PeerSample
                        if let peer = PeerFramework(rawValue: who) {
                            let r = try runner.measure(peer, configuration: c, threads: p, windows: o.windows,
                                                       nice: o.nice, seed: round)
                            sample = PeerSample(participant: who, configuration: c.name, threads: p, round: round,
                                                windowRates: r.windowRates, otherCPUShare: r.otherCPUShare)
                            infos[who] = PeerParticipantInfo(participant: who, description: "\(r.framework) \(r.version) (\(r.mode))",
                                                             nice: r.nice, autogroupNice: r.autogroupNice)
                        } else {
                            let m = try OwnPeerMeasurement.measure(configuration: c, threads: p, windows: o.windows,
                                                                   makeStepper: makeStepper)
                            sample = PeerSample(participant: who, configuration: c.name, threads: p, round: round,
                                                windowRates: m.windowRates, otherCPUShare: m.otherCPUShare)
                        }
                        samples.append(sample)
                        let others = BenchSummary(sample.otherCPUShare).map { ", others used \(fixed($0.median * 100, 0))% of the CPUs" } ?? ""
                        progress.show("round \(round + 1)/\(o.rounds), \(c.name) P=\(p): \(who) "
                                      + "\(PeerComparison.rate(sample.samplesPerSecond)) samples/s\(others)")
                    }
                }
            }
        }
        progress.finish()
        let report = PeerRunReport(
            machine: .current(), compared: PeerRunReport.comparedText(configurations: o.configurations, windows: o.windows),
            configurations: o.configurations, threadCounts: o.threadCounts, rounds: o.rounds, windows: o.windows,
            nice: o.nice, participants: participants.compactMap { infos[$0] }, samples: samples,
            comparison: PeerComparison(samples: samples, participants: participants,
                                       configurations: o.configurations.map(\.name), threadCounts: o.threadCounts),
            wallSeconds: benchSeconds() - start)
        if o.json {
            // As `bench.py --all --json`: the data on stdout, the table on stderr.
            print(try report.json(), terminator: "")
            FileHandle.standardError.write(Data(report.text().utf8))
        } else {
            print(report.text(), terminator: "")
        }
        return 0
    }
}
