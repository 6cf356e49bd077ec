import Backprop
@testable import BackpropCLI
import Foundation
import XCTest

/// Base class of the `mlp-train` tests: a temporary directory per test, a tiny synthetic
/// classification data set written there as IDX files, and an in-process runner.
class CLITestCase: XCTestCase {
    /// A directory that exists for the duration of one test.
    var directory = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = NSTemporaryDirectory() + "/backprop-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if !directory.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
        try super.tearDownWithError()
    }

    /// `directory/name`.
    func path(_ name: String) -> String { directory + "/" + name }

    /// The result of one in-process run of `mlp-train`.
    struct Result {
        var status: Int32
        var output: String
        var error: String
        /// Standard output's lines, without empty ones.
        var outputLines: [String] { output.split(separator: "\n").map(String.init) }
    }

    /// Runs `mlp-train arguments` in-process (signals not caught), capturing its output.
    func run(_ arguments: [String]) -> Result {
        let (console, text) = Console.capturing()
        let status = TrainCommand.main(arguments, console: console, catchSignals: false)
        return Result(status: status, output: text.standardOutput, error: text.standardError)
    }

    /// Sizes of the synthetic data: images of `side × side` bytes, `classes` classes.
    static let side = 4, classes = 3
    static var features: Int { side * side }

    /// Writes a synthetic `classes`-class IDX data set under `directory` (`train-…` and `t10k-…`
    /// files, as in an MNIST directory) with `trainCount` and `testCount` samples, and returns
    /// the directory. Class `c` lights up its own band of pixels, plus deterministic noise, so
    /// a small MLP learns it in a few epochs.
    @discardableResult
    func writeSyntheticIDX(trainCount: Int = 90, testCount: Int = 30, seed: UInt64 = 42) throws -> String {
        var generator = SplitMix64(seed: seed)
        func samples(_ n: Int) -> (images: [UInt8], labels: [UInt8]) {
            var images: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<n {
                let label = i % Self.classes
                labels.append(UInt8(label))
                for p in 0..<Self.features {
                    let band = p % Self.classes == label
                    let noise = Int(generator.next() % 80)
                    images.append(UInt8(band ? 150 + noise : noise))
                }
            }
            return (images, labels)
        }
        let train = samples(trainCount), test = samples(testCount)
        try writeIDXImages(train.images, count: trainCount, to: path("train-images-idx3-ubyte"))
        try writeIDXLabels(train.labels, to: path("train-labels-idx1-ubyte"))
        try writeIDXImages(test.images, count: testCount, to: path("t10k-images-idx3-ubyte"))
        try writeIDXLabels(test.labels, to: path("t10k-labels-idx1-ubyte"))
        return directory
    }

    func writeIDXImages(_ pixels: [UInt8], count: Int, to file: String) throws {
        var bytes: [UInt8] = [0, 0, 8, 3]
        for dimension in [count, Self.side, Self.side] { bytes += bigEndian(dimension) }
        try Data(bytes + pixels).write(to: URL(fileURLWithPath: file))
    }

    func writeIDXLabels(_ labels: [UInt8], to file: String) throws {
        try Data([0, 0, 8, 1] + bigEndian(labels.count) + labels).write(to: URL(fileURLWithPath: file))
    }

    private func bigEndian(_ n: Int) -> [UInt8] {
        let v = UInt32(n)
        return [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// The arguments of a small, fast run on the synthetic data in `directory`.
    func tinyRun(_ extra: [String], layers: String = "\(CLITestCase.features),8,\(CLITestCase.classes)") -> [String] {
        ["--data", directory, "--layers", layers, "--batch-size", "8",
         "--lr", "0.1", "--threads", "2", "--seed", "5", "--quiet"] + extra
    }

    /// The tensors of a safetensors file, each value as its bit pattern (so NaNs compare too).
    func tensorBits(_ file: String) throws -> [String: [UInt32]] {
        let (tensors, _) = try Safetensors.read(file)
        return tensors.mapValues { $0.values.map(\.bitPattern) }
    }

    /// Asserts that two safetensors files hold the same tensors, bitwise, naming the first difference.
    func assertSameTensors(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try tensorBits(a), y = try tensorBits(b)
        XCTAssertEqual(x.keys.sorted(), y.keys.sorted(), file: file, line: line)
        for name in x.keys.sorted() {
            guard let u = x[name], let v = y[name] else { continue }
            if u != v {
                let index = zip(u, v).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(u.count, v.count)
                XCTFail("\(name) differs at element \(index) of \(u.count)", file: file, line: line)
                return
            }
        }
    }

    /// Whether two safetensors files hold bitwise the same tensors.
    func sameTensors(_ a: String, _ b: String) throws -> Bool {
        try tensorBits(a) == tensorBits(b)
    }

    /// The metadata of a safetensors file.
    func metadata(_ file: String) throws -> [String: String] {
        try Safetensors.read(file).metadata
    }

    func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }
}

extension XCTestCase {
    /// The error `mlp-train`'s parser gives for `arguments`; a test failure (and nil) when it
    /// accepts them.
    func parseError(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) -> CLIError? {
        do {
            _ = try TrainOptions.parse(arguments)
            XCTFail("expected \(arguments) to be refused", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }
}
