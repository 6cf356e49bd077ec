/// Updates parameters from their gradients, once per training step.
///
/// The trainer holds every parameter tensor in its own flat buffers and, once per step:
/// 1. checks that the loss and every gradient are finite (otherwise nothing below happens);
/// 2. when `requestedNorms` is not empty, computes `‖W‖` and/or `‖dLoss/dW‖` of every tensor,
///    in a fixed order, so the norms are bitwise reproducible (see `TensorNorms`);
/// 3. calls `prepare(step:)` once, on the caller's thread, for the step's scalars (learning-rate
///    schedules, bias corrections);
/// 4. calls `update(_:step:)` once for each `ParameterChunk`: a range of whole rows of one
///    weight, or a range of one bias, from several threads at once; the chunks of a step cover
///    every parameter exactly once and never overlap.
///
/// Chunk boundaries depend on the thread count, so `update` must treat each element on its
/// own (given the step's scalars and the tensor's norms) for results that do not depend on it.
/// Conforming types are values (`Sendable`); per-parameter state lives in the trainer (see
/// `stateCountPerParameter`), per-step state is returned by `prepare(step:)`.
public protocol Optimizer: Sendable {
    /// Floats of state per parameter (0 for plain SGD, 1 for momentum, 2 for Adam). The
    /// trainer keeps them, zero-initialised, exports them in `TrainingState.optimizerState`
    /// and hands them to `update` in `ParameterChunk.state`.
    var stateCountPerParameter: Int { get }

    /// The per-tensor norms `update` needs (LARS and LAMB need both; SGD none). Computing
    /// them costs one extra read of the parameters and gradients.
    var requestedNorms: TensorNormRequest { get }

    /// The scalars of step `step` (1 for the first step), computed once before any `update`
    /// call of that step.
    func prepare(step: Int) -> OptimizerStep

    /// Updates `chunk.parameters[0..<chunk.count]` in place from `chunk.gradients` (the
    /// batch-mean gradients `dLoss/dW` or `dLoss/db`) and `chunk.state`.
    func update(_ chunk: ParameterChunk, step: OptimizerStep)
}

extension Optimizer {
    /// No state by default.
    public var stateCountPerParameter: Int { 0 }
    /// No norms by default.
    public var requestedNorms: TensorNormRequest { [] }
    /// The step number and no scalars by default.
    public func prepare(step: Int) -> OptimizerStep { OptimizerStep(number: step) }
}

/// One parameter tensor of an `MLP`: the weight or the bias of a layer.
public struct ParameterTensor: Sendable, Hashable, CustomStringConvertible {
    /// Weight `W` (`outputSize × inputSize`) or bias `b` (`outputSize`).
    public enum Kind: Sendable, Hashable {
        case weight
        case bias
    }

    /// The layer, `0` nearest the input.
    public var layer: Int
    /// Weight or bias.
    public var kind: Kind
    /// Rows: the layer's `outputSize` (a bias is a column of `outputSize` rows).
    public var rows: Int
    /// Columns: the layer's `inputSize` for a weight, `1` for a bias.
    public var columns: Int

    public init(layer: Int, kind: Kind, rows: Int, columns: Int) {
        self.layer = layer
        self.kind = kind
        self.rows = rows
        self.columns = columns
    }

    /// Elements, `rows · columns`.
    public var count: Int { rows * columns }
    /// Position in the order `layers[0].weight, layers[0].bias, layers[1].weight, …`
    /// (the order of `TrainingState.optimizerState`).
    public var index: Int { 2 * layer + (kind == .bias ? 1 : 0) }

    public var description: String { "layers[\(layer)].\(kind == .weight ? "weight" : "bias")" }
}

/// Which per-tensor norms an optimizer needs.
public struct TensorNormRequest: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// `‖W‖` (or `‖b‖`) before the update.
    public static let parameters = TensorNormRequest(rawValue: 1)
    /// `‖dLoss/dW‖` (or `‖dLoss/db‖`) of the batch.
    public static let gradients = TensorNormRequest(rawValue: 2)
}

/// The Euclidean norms of a whole tensor (all its chunks). Each row's sum of squares is
/// accumulated in `Double` in increasing column order and the rows' sums in increasing row
/// order, so the norms do not depend on how the work was split. A norm that was not
/// requested is 0.
public struct TensorNorms: Sendable, Hashable {
    /// `‖W‖`.
    public var parameters: Float
    /// `‖dLoss/dW‖`.
    public var gradients: Float

    public init(parameters: Float = 0, gradients: Float = 0) {
        self.parameters = parameters
        self.gradients = gradients
    }
}

/// The scalars of one optimizer step, computed once by `Optimizer.prepare(step:)`.
public struct OptimizerStep: Sendable, Hashable {
    /// The step being taken, 1 for the first.
    public var number: Int
    /// Up to eight scalars of the optimizer's choosing (a scheduled learning rate, Adam's
    /// bias corrections `1 − β₁ᵗ`, `1 − β₂ᵗ`, …).
    public var scalars: SIMD8<Float>

    public init(number: Int, scalars: SIMD8<Float> = SIMD8<Float>()) {
        self.number = number
        self.scalars = scalars
    }
}

/// A contiguous range of one parameter tensor, handed to `Optimizer.update`.
///
/// Element `j` (`0 ≤ j < count`) is element `elements.lowerBound + j` of the tensor in
/// row-major order; its `s`-th state float is `state[s · stateStride + j]`.
public struct ParameterChunk {
    /// The tensor the chunk belongs to (layer, weight or bias, shape).
    public var tensor: ParameterTensor
    /// The tensor's elements the chunk covers; a weight's chunks are whole rows.
    public var elements: Range<Int>
    /// The parameters, updated in place.
    public var parameters: UnsafeMutablePointer<Float>
    /// The batch-mean gradients of the parameters.
    public var gradients: UnsafePointer<Float>
    /// The first state float of the first element (see the type's documentation).
    public var state: UnsafeMutablePointer<Float>
    /// Distance between an element's consecutive state floats: the tensor's element count.
    public var stateStride: Int
    /// The whole tensor's norms, as requested by `Optimizer.requestedNorms`.
    public var norms: TensorNorms

    public init(tensor: ParameterTensor, elements: Range<Int>, parameters: UnsafeMutablePointer<Float>,
                gradients: UnsafePointer<Float>, state: UnsafeMutablePointer<Float>, stateStride: Int,
                norms: TensorNorms) {
        self.tensor = tensor
        self.elements = elements
        self.parameters = parameters
        self.gradients = gradients
        self.state = state
        self.stateStride = stateStride
        self.norms = norms
    }

    /// Elements in the chunk.
    public var count: Int { elements.count }
}
