import Backprop
import Foundation
import XCTest

/// Throughput of the two summation modes (skipped unless `BACKPROP_TRAINER_BENCH=1`):
///
///     swift build -c release --build-tests -Xswiftc -enable-testing
///     BACKPROP_TRAINER_BENCH=1 swift test -c release -Xswiftc -enable-testing --skip-build \
///         --filter TrainerBenchmarkTests
///
/// For each shape, the four trainers (2 modes × threads 1 and 2) run in interleaved rounds
/// (the order rotates every round), so machine noise hits them alike; each figure is the
/// median of all its steps' times, and the mode ratio the median over rounds of the ratio of
/// the two modes' median step times in that round. `BACKPROP_TRAINER_BENCH_THREADS`
/// (comma-separated) and `BACKPROP_TRAINER_BENCH_ROUNDS` change the thread counts and rounds;
/// `BACKPROP_TRAINER_BENCH_EXECUTOR=dispatch` measures the `.dispatch` executor instead.
final class TrainerBenchmarkTests: XCTestCase {
    struct Shape {
        var sizes: [Int]
        var batch: Int
        var stepsPerRound: Int
    }

    func testThroughputOfBothModes() throws {
        let environment = ProcessInfo.processInfo.environment
        try XCTSkipUnless(environment["BACKPROP_TRAINER_BENCH"] == "1", "set BACKPROP_TRAINER_BENCH=1 to measure")
        let threadCounts = environment["BACKPROP_TRAINER_BENCH_THREADS"].map {
            $0.split(separator: ",").compactMap { Int($0) }
        } ?? [1, 2]
        let rounds = environment["BACKPROP_TRAINER_BENCH_ROUNDS"].flatMap { Int($0) } ?? 9
        let executor = environment["BACKPROP_TRAINER_BENCH_EXECUTOR"].flatMap(TrainerOptions.Executor.init(rawValue:))
            ?? .workerPool
        let shapes = [Shape(sizes: [784, 1024, 1024, 10], batch: 1024, stepsPerRound: 3),
                      Shape(sizes: [784, 256, 256, 10], batch: 256, stepsPerRound: 10)]
        print("ISA \(InstructionSet.active), \(ProcessInfo.processInfo.activeProcessorCount) active cores, \(rounds) rounds, executor \(executor)")
        for shape in shapes {
            var generator = SplitMix64(seed: 1)
            let x = Matrix(rows: shape.batch, columns: shape.sizes[0]) { _, _ in generator.nextSignedUnitFloat() }
            let labels = (0..<shape.batch).map { _ in Int(generator.next() % UInt64(shape.sizes.last!)) }
            let model = try MLP(sizes: shape.sizes, activations: [.relu, .relu, .identity], seed: 2)
            var trainers: [(name: String, trainer: Trainer)] = []
            for threads in threadCounts {
                for reduction in TrainerOptions.Reduction.allCases {
                    trainers.append(("\(reduction) t\(threads)",
                                     try Trainer(model: model, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.01),
                                                 threads: threads, options: TrainerOptions(reduction: reduction, executor: executor))))
                }
            }
            for (_, trainer) in trainers { for _ in 0..<2 { _ = try trainer.step(input: x, labels: labels) } }
            func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
            var times = [[Double]](repeating: [], count: trainers.count)
            var roundMedians = [[Double]](repeating: [], count: trainers.count)
            var phases = [[PhaseTimings]](repeating: [], count: trainers.count)
            var cpu = [[Double]](repeating: [], count: trainers.count)
            for round in 0..<rounds {
                for k in 0..<trainers.count {
                    let i = (k + round) % trainers.count
                    var round: [Double] = []
                    for _ in 0..<shape.stepsPerRound {
                        let cpuStart = processCPUSeconds()
                        let start = DispatchTime.now().uptimeNanoseconds
                        _ = try trainers[i].trainer.step(input: x, labels: labels)
                        round.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
                        cpu[i].append(processCPUSeconds() - cpuStart)
                        phases[i].append(trainers[i].trainer.lastStepTimings)
                    }
                    times[i] += round
                    roundMedians[i].append(median(round))
                }
            }
            print("\(shape.sizes.map(String.init).joined(separator: "-")) batch \(shape.batch):")
            for (i, (name, _)) in trainers.enumerated() {
                let step = median(times[i])
                print(String(format: "  %-26@ %8.2f ms/step %9.0f samples/s  CPU %.2f ms/step; phases: total %.2f = forward %.2f, backward %.2f, reduction %.2f, update %.2f ms",
                             name as NSString, step * 1e3, Double(shape.batch) / step, median(cpu[i]) * 1e3,
                             median(phases[i].map(\.total)) * 1e3,
                             median(phases[i].map(\.forward)) * 1e3, median(phases[i].map(\.backward)) * 1e3,
                             median(phases[i].map(\.reduction)) * 1e3, median(phases[i].map(\.update)) * 1e3))
            }
            for t in 0..<threadCounts.count {
                let ratios = zip(roundMedians[2 * t], roundMedians[2 * t + 1]).map { $0 / $1 }
                print(String(format: "  threads %d: invariant / tree step time, median of per-round ratios: %.3f",
                             threadCounts[t], median(ratios)))
            }
            for (_, trainer) in trainers { XCTAssertTrue(trainer.stepCount > 0) }
        }
    }
}

/// CPU seconds used by all threads of the process.
private func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
