@testable import Backprop
import Foundation
import XCTest

/// The large-batch table (see `scripts/large-batch`): skipped unless `BACKPROP_LARGE_BATCH=1`,
/// because it trains a dozen models on Fashion-MNIST (minutes to an hour on two cores).
///
/// Environment:
/// - `BACKPROP_LARGE_BATCH_EPOCHS` (default 30), `BACKPROP_LARGE_BATCH_SIZES` (default
///   `256,1024,4096,8192`), `BACKPROP_LARGE_BATCH_WARMUP` (fraction of the epochs, default 0.1);
/// - `BACKPROP_LARGE_BATCH_RECIPES`: `NAME|LR|FLAGS;…` to replace the default recipes
///   (`LargeBatchExperiment.defaultRecipes`), FLAGS being `OptimizerConfiguration` flags;
/// - `BACKPROP_LARGE_BATCH_DATA` (default Fashion-MNIST's Debian directory),
///   `BACKPROP_LARGE_BATCH_THREADS`, `BACKPROP_LARGE_BATCH_SEED` (default 1),
///   `BACKPROP_LARGE_BATCH_OUT` (also write the table there).
///
/// Asserts the goal when the grid holds it: at batch 4096 the better of LARS and LAMB is
/// within 1.5 points of batch-256 SGD with momentum.
final class LargeBatchTests: XCTestCase {
    func testLargeBatchTable() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["BACKPROP_LARGE_BATCH"] == "1" else {
            throw XCTSkip("set BACKPROP_LARGE_BATCH=1 (scripts/large-batch) to train the large-batch table")
        }
        let epochs = Int(env["BACKPROP_LARGE_BATCH_EPOCHS"] ?? "") ?? 30
        let batchSizes = (env["BACKPROP_LARGE_BATCH_SIZES"] ?? "256,1024,4096,8192").split(separator: ",").compactMap { Int($0) }
        let warmup = Double(env["BACKPROP_LARGE_BATCH_WARMUP"] ?? "") ?? 0.1
        let seed = UInt64(env["BACKPROP_LARGE_BATCH_SEED"] ?? "") ?? 1
        let threads = Int(env["BACKPROP_LARGE_BATCH_THREADS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
        var recipes = LargeBatchExperiment.defaultRecipes
        if let text = env["BACKPROP_LARGE_BATCH_RECIPES"] {
            recipes = try text.split(separator: ";").map { spec in
                try XCTUnwrap(LargeBatchExperiment.Recipe(String(spec)), "recipe '\(spec)' is not NAME|LR|FLAGS")
            }
        }
        let (train, test) = try MNISTDirectory.load(env["BACKPROP_LARGE_BATCH_DATA"] ?? MNISTDirectory.fashionMNISTDefault)
        print("large-batch: \(train.count) training and \(test.count) test samples, \(epochs) epochs, "
              + "warm-up \(warmup) of the epochs, \(threads) threads, ISA \(InstructionSet.active)")

        var results: [LargeBatchExperiment.Result] = []
        for recipe in recipes {
            for batchSize in batchSizes {
                let r = try LargeBatchExperiment.run(recipe, batchSize: batchSize, epochs: epochs, warmupFraction: warmup,
                                                     train: train, test: test, seed: seed, threads: threads)
                let steps = Double(max(r.steps, 1))
                print(String(format: "large-batch: %@ batch %d lr %.4g: %d steps, test accuracy %.2f %%, test loss %.4f, "
                             + "last-epoch train loss %.4f, %.1f s; step %.2f ms, of which update %.3f ms%@",
                             r.recipe, r.batchSize, r.learningRate, r.steps, 100 * r.testAccuracy, r.testLoss, r.trainLoss,
                             r.seconds, 1000 * r.stepSeconds / steps, 1000 * r.updateSeconds / steps,
                             r.diverged ? " (diverged)" : ""))
                fflush(nil)
                results.append(r)
            }
        }
        let table = LargeBatchExperiment.table(results, batchSizes: batchSizes, recipes: recipes)
        print(table)
        if let path = env["BACKPROP_LARGE_BATCH_OUT"] {
            try (table + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }

        for r in results where r.recipe == "SGD+momentum" && r.batchSize == 256 {
            XCTAssertGreaterThan(r.testAccuracy, 0.85, "batch-256 SGD must train (sanity)")
        }
        if let baseline = results.first(where: { $0.recipe == "SGD+momentum" && $0.batchSize == 256 }) {
            let large = results.filter { ["LARS", "LAMB"].contains($0.recipe) && $0.batchSize == 4096 && !$0.diverged }
            if let best = large.max(by: { $0.testAccuracy < $1.testAccuracy }) {
                XCTAssertGreaterThanOrEqual(best.testAccuracy, baseline.testAccuracy - 0.015,
                                            "\(best.recipe) at 4096 vs SGD+momentum at 256")
            }
        }
    }
}
