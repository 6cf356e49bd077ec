import Backprop
import Foundation
import XCTest

final class CheckpointTests: DataTestCase {
    /// A model with non-zero biases and every kind of activation.
    func makeModel() throws -> MLP {
        var model = try MLP(sizes: [5, 7, 6, 4, 3],
                            activations: [.relu, .leakyReLU(negativeSlope: 0.2), .gelu, .identity], seed: 99)
        var generator = SplitMix64(seed: 5)
        for l in model.layers.indices {
            model.layers[l].bias = model.layers[l].bias.map { _ in generator.nextSignedUnitFloat() }
        }
        return model
    }

    func assertBitwiseEqual(_ a: MLP, _ b: MLP, line: UInt = #line) {
        XCTAssertEqual(a.sizes, b.sizes, line: line)
        XCTAssertEqual(a.activations, b.activations, line: line)
        for (x, y) in zip(a.layers, b.layers) {
            XCTAssertEqual(x.weight.values.map(\.bitPattern), y.weight.values.map(\.bitPattern), line: line)
            XCTAssertEqual(x.bias.map(\.bitPattern), y.bias.map(\.bitPattern), line: line)
        }
    }

    func testRoundTripWithTrainingState() throws {
        let model = try makeModel()
        var generator = SplitMix64(seed: 8)
        let state = model.layers.flatMap { [$0.weight.count, $0.bias.count] }.map { n in
            (0..<(2 * n)).map { _ in generator.nextSignedUnitFloat() }
        }
        let checkpoint = Checkpoint(model: model, loss: .softmaxCrossEntropy,
                                    training: TrainingState(model: model, stepCount: 1234, optimizerState: state),
                                    epoch: 7, rngState: UInt64.max - 5, metadata: ["note": "first run", "lr": "0.05"])
        let file = path("run.safetensors")
        try checkpoint.save(to: file)
        let loaded = try Checkpoint.load(file)
        assertBitwiseEqual(loaded.model, model)
        XCTAssertEqual(loaded.loss, .softmaxCrossEntropy)
        XCTAssertEqual(loaded.epoch, 7)
        XCTAssertEqual(loaded.rngState, UInt64.max - 5)
        XCTAssertEqual(loaded.metadata, ["note": "first run", "lr": "0.05"])
        let training = try XCTUnwrap(loaded.training)
        XCTAssertEqual(training.stepCount, 1234)
        XCTAssertEqual(training.optimizerState.map { $0.map(\.bitPattern) }, state.map { $0.map(\.bitPattern) })
        assertBitwiseEqual(training.model, model)
        let input = Matrix(rows: 3, columns: 5) { i, j in Float(i - j) / 3 }
        XCTAssertEqual(try loaded.model.predict(input), try model.predict(input))

        // The file is plain safetensors with the documented names and metadata.
        let (tensors, metadata) = try Safetensors.read(file)
        XCTAssertEqual(tensors["layers.0.weight"]?.shape, [7, 5])
        XCTAssertEqual(tensors["layers.3.bias"]?.shape, [3])
        XCTAssertEqual(tensors["optimizer.7"]?.shape, [6])
        XCTAssertEqual(tensors.count, 16)
        XCTAssertEqual(metadata["sizes"], "5,7,6,4,3")
        XCTAssertEqual(metadata["activations"], "relu,leaky_relu:0.2,gelu,identity")
        XCTAssertEqual(metadata["loss"], "cross_entropy")
        XCTAssertEqual(metadata["step"], "1234")
        XCTAssertEqual(metadata["epoch"], "7")
        XCTAssertEqual(metadata["rng"], "18446744073709551610")
        XCTAssertEqual(metadata["format"], "backprop-mlp")
        XCTAssertEqual(metadata["format_version"], "1")
        XCTAssertEqual(metadata["optimizer_tensors"], "8")
    }

    func testWeightsOnlyAndSGDState() throws {
        let model = try MLP(sizes: [3, 2], activations: [.sigmoid], seed: 1)
        let file = path("weights.safetensors")
        try Checkpoint(model: model, loss: .meanSquaredError).save(to: file)
        let loaded = try Checkpoint.load(file)
        assertBitwiseEqual(loaded.model, model)
        XCTAssertEqual(loaded.loss, .meanSquaredError)
        XCTAssertNil(loaded.training)
        XCTAssertNil(loaded.rngState)
        XCTAssertEqual(loaded.epoch, 0)
        XCTAssertEqual(loaded.metadata, [:])
        // Plain SGD: empty state arrays survive as empty arrays.
        try Checkpoint(model: model, loss: .meanSquaredError,
                       training: TrainingState(model: model, stepCount: 0, optimizerState: [[], []])).save(to: file)
        let sgd = try XCTUnwrap(try Checkpoint.load(file).training)
        XCTAssertEqual(sgd.optimizerState, [[], []])
        XCTAssertEqual(sgd.stepCount, 0)
    }

    func testBareSafetensorsGetsDocumentedDefaults() throws {
        let file = path("bare.safetensors")
        try Safetensors.write([
            "layers.0.weight": .init(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
            "layers.0.bias": .init(shape: [3], values: [0, 0, -100]),
            "layers.1.weight": .init(shape: [1, 3], values: [1, 1, 1]),
            "layers.1.bias": .init(shape: [1], values: [0.5]),
        ], metadata: ["format": "pt"], to: file)
        let loaded = try Checkpoint.load(file)
        XCTAssertEqual(loaded.model.sizes, [2, 3, 1])
        XCTAssertEqual(loaded.model.activations, [.relu, .identity])
        XCTAssertEqual(loaded.loss, .softmaxCrossEntropy)
        XCTAssertNil(loaded.training)
        XCTAssertEqual(loaded.metadata, [:])
        // relu(W x + b) with x = (1, 1): (3, 7, 0) → 10 + 0.5.
        XCTAssertEqual(try loaded.model.predict(Matrix(rows: 1, columns: 2, values: [1, 1])).values, [10.5])
        try loaded.save(to: path("resaved.safetensors"))
    }

    func testSaveRejectsReservedMetadata() throws {
        let model = try MLP(sizes: [2, 2], activations: [.identity], seed: 1)
        let file = path("x.safetensors")
        assertDataError(try Checkpoint(model: model, loss: .meanSquaredError, metadata: ["epoch": "9"]).save(to: file),
                        file: file, "metadata key 'epoch' is reserved")
        assertDataError(try Checkpoint(model: model, loss: .meanSquaredError, epoch: -1).save(to: file),
                        file: file, "epoch must be non-negative")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file))
    }

    /// Writes `tensors` and `metadata` as safetensors and checks that `Checkpoint.load` rejects them.
    func assertLoadRejects(_ tensors: [String: Safetensors.Tensor], _ metadata: [String: String],
                           _ fault: String..., line: UInt = #line) throws {
        try check(tensors, metadata, fault, line: line)
    }

    /// `assertLoadRejects` without metadata.
    func assertLoadRejects(_ tensors: [String: Safetensors.Tensor], _ fault: String..., line: UInt = #line) throws {
        try check(tensors, [:], fault, line: line)
    }

    private func check(_ tensors: [String: Safetensors.Tensor], _ metadata: [String: String], _ fault: [String],
                       line: UInt) throws {
        let file = path("bad-\(line).safetensors")
        try Safetensors.write(tensors, metadata: metadata, to: file)
        do {
            _ = try Checkpoint.load(file)
            XCTFail("loaded", line: line)
        } catch let error as DataError {
            XCTAssertEqual(error.file, file, line: line)
            for part in fault { XCTAssertTrue(error.fault.contains(part), "\"\(error.fault)\" lacks \"\(part)\"", line: line) }
        }
    }

    func testLoadRejectsInconsistentFiles() throws {
        let w0 = Safetensors.Tensor(shape: [3, 2], values: [Float](repeating: 1, count: 6))
        let b0 = Safetensors.Tensor(shape: [3], values: [0, 0, 0])
        let w1 = Safetensors.Tensor(shape: [2, 3], values: [Float](repeating: 1, count: 6))
        let b1 = Safetensors.Tensor(shape: [2], values: [0, 0])
        let good = ["layers.0.weight": w0, "layers.0.bias": b0, "layers.1.weight": w1, "layers.1.bias": b1]
        try assertLoadRejects([:], "no layers.0.weight")
        try assertLoadRejects(good.merging(["head.weight": w1]) { $1 }, "unexpected tensor 'head.weight'")
        try assertLoadRejects(good.merging(["layers.01.bias": b1]) { $1 }, "unexpected tensor 'layers.01.bias'")
        try assertLoadRejects(good.filter { $0.key != "layers.1.bias" }, "no layers.1.bias")
        try assertLoadRejects(["layers.1.weight": w1, "layers.1.bias": b1], "layers.0 is missing")
        try assertLoadRejects(good.merging(["layers.1.weight": .init(shape: [2, 4], values: [Float](repeating: 0, count: 8))]) { $1 },
                              "takes 4 inputs but layers.0 gives 3")
        try assertLoadRejects(good.merging(["layers.0.bias": .init(shape: [2], values: [0, 0])]) { $1 }, "layers.0.bias has shape [2]")
        try assertLoadRejects(good.merging(["layers.0.weight": .init(shape: [6], values: [Float](repeating: 0, count: 6))]) { $1 },
                              "layers.0.weight has shape [6]")
        try assertLoadRejects(good, ["sizes": "2,4,2"], "metadata sizes '2,4,2' disagree", "2,3,2")
        try assertLoadRejects(good, ["activations": "relu"], "1 activations for 2 layers")
        try assertLoadRejects(good, ["activations": "relu,swish"], "unknown activation 'swish'")
        try assertLoadRejects(good, ["loss": "hinge"], "unknown loss 'hinge'")
        try assertLoadRejects(good, ["epoch": "-1"], "epoch '-1'")
        try assertLoadRejects(good, ["rng": "x"], "rng 'x'")
        try assertLoadRejects(good, ["step": "1.5"], "step '1.5'")
        try assertLoadRejects(good, ["format": "backprop-mlp", "format_version": "2"], "format_version 2 is not supported")
        try assertLoadRejects(good.merging(["optimizer.1": b0]) { $1 }, "optimizer.0 is missing")
        try assertLoadRejects(good.merging(["optimizer.0": b0]) { $1 }, ["optimizer_tensors": "2"],
                              "optimizer_tensors is '2' but the file holds 1")
    }

    func testActivationAndLossNames() {
        let all: [Activation] = [.identity, .relu, .leakyReLU, .leakyReLU(negativeSlope: 0.2), .leakyReLU(negativeSlope: 1e-7),
                                 .tanh, .sigmoid, .gelu]
        for activation in all { XCTAssertEqual(Activation(name: activation.name), activation, activation.name) }
        XCTAssertEqual(Activation.leakyReLU.name, "leaky_relu:0.01")
        XCTAssertEqual(Activation(name: "leaky_relu"), .leakyReLU(negativeSlope: 0.01))
        XCTAssertEqual(Activation(name: "leaky_relu:0.3"), .leakyReLU(negativeSlope: 0.3))
        for bad in ["", "ReLU", "relu6", "leaky_relu:", "leaky_relu:abc", "leaky_relu:inf", "leaky_relu:nan", " relu"] {
            XCTAssertNil(Activation(name: bad), bad)
        }
        XCTAssertEqual(Loss(name: "cross_entropy"), .softmaxCrossEntropy)
        XCTAssertEqual(Loss(name: "softmax_cross_entropy"), .softmaxCrossEntropy)
        XCTAssertEqual(Loss(name: "mse"), .meanSquaredError)
        XCTAssertNil(Loss(name: "l1"))
        for loss in Loss.allCases { XCTAssertEqual(Loss(name: loss.name), loss) }
    }
}
