import Backprop
import Foundation
import XCTest

/// Interoperability with Python's `safetensors` and NumPy, through Tests/interop/check_safetensors.py.
/// Skipped when `python3 -c 'import safetensors, numpy'` fails (`pip install safetensors numpy`).
final class CheckpointInteropTests: DataTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/check_safetensors.py").path

    /// Runs `python3 ARGS`; returns the exit status and the combined output.
    func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let probe = try? python(["-c", "import safetensors, numpy"])
        guard probe?.status == 0 else {
            throw XCTSkip("python3 with safetensors and numpy is not available (pip install safetensors numpy)")
        }
    }

    func testPythonWrittenFilesLoad() throws {
        let run = try python([Self.script, "write", directory])
        XCTAssertEqual(run.status, 0, run.output)
        let (tensors, metadata) = try Safetensors.read(path("python.safetensors"))
        XCTAssertEqual(metadata, ["source": "python"])
        XCTAssertEqual(tensors["layers.0.weight"]?.shape, [3, 4])
        XCTAssertEqual(tensors["layers.0.weight"]?.values, (0..<12).map { Float($0) / 8 - 0.75 })
        XCTAssertEqual(tensors["layers.0.bias"]?.values, [0.1, -0.25, 0.5])
        XCTAssertEqual(tensors["layers.1.weight"]?.shape, [2, 3])
        XCTAssertEqual(tensors["layers.1.weight"]?.values, (0..<6).map { Float($0) / 4 - 0.5 })
        XCTAssertEqual(tensors["layers.1.bias"]?.values, [Float(1.0 / 3.0), -1])  // F64 rounded once to Float

        let checkpoint = try Checkpoint.load(path("python.safetensors"))
        XCTAssertEqual(checkpoint.model.sizes, [4, 3, 2])
        XCTAssertEqual(checkpoint.model.activations, [.relu, .identity])
        XCTAssertNil(checkpoint.training)
        XCTAssertEqual(checkpoint.metadata, ["source": "python"])

        let fortran = try NPY.readMatrix(path("python-fortran.npy"))
        XCTAssertEqual(fortran.rows, 2)
        XCTAssertEqual(fortran.values, [0.5, 1.5, 2.5, 10.5, 11.5, 12.5])
        XCTAssertEqual(try NPY.readLabels(path("python-labels.npy")), [3, 0, 9, 1])
    }

    func testNumPyReproducesPredictions() throws {
        let model = try MLP(sizes: [6, 9, 8, 7, 6, 5, 3],
                            activations: [.relu, .gelu, .sigmoid, .tanh, .leakyReLU(negativeSlope: 0.1), .identity], seed: 21)
        var generator = SplitMix64(seed: 4)
        let input = Matrix(rows: 40, columns: 6) { _, _ in 2 * generator.nextSignedUnitFloat() }
        let predictions = try model.predict(input)
        try Checkpoint(model: model, loss: .softmaxCrossEntropy, epoch: 1).save(to: path("model.safetensors"))
        try NPY.write(input, to: path("input.npy"))
        try NPY.write(predictions, to: path("predictions.npy"))
        let run = try python([Self.script, "check", path("model.safetensors"), path("input.npy"), path("predictions.npy")])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.hasPrefix("ok: 6 layers"), run.output)

        // The check can fail: a prediction off by 1e-3 is caught.
        var wrong = predictions
        wrong[7, 1] += 1e-3
        try NPY.write(wrong, to: path("wrong.npy"))
        let rejected = try python([Self.script, "check", path("model.safetensors"), path("input.npy"), path("wrong.npy")])
        XCTAssertEqual(rejected.status, 1, rejected.output)
        XCTAssertTrue(rejected.output.contains("worst (7, 1)"), rejected.output)
    }
}
