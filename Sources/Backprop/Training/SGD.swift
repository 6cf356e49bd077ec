/// Plain stochastic gradient descent: `W ← W − η·dLoss/dW`, `b ← b − η·dLoss/db`.
///
/// No state and no norms; each element is updated on its own, so results do not depend on
/// how the trainer splits the parameters.
public struct SGD: Optimizer {
    /// `η`.
    public var learningRate: Float

    /// SGD with learning rate `η = learningRate`.
    public init(learningRate: Float) { self.learningRate = learningRate }

    public var stateCountPerParameter: Int { 0 }

    public func update(_ chunk: ParameterChunk, step: OptimizerStep) {
        let eta = learningRate
        let w = chunk.parameters, g = chunk.gradients
        for j in 0..<chunk.count { w[j] -= eta * g[j] }
    }
}
