/// Updates parameters from their gradients. The trainer calls `update` once per step on
/// each contiguous chunk of each parameter tensor, from several threads at once.
public protocol Optimizer: Sendable {
    /// Floats of per-parameter state (0 for plain SGD, 1 for momentum, 2 for Adam).
    var stateCountPerParameter: Int { get }
    /// Updates `parameters[0..<count]` in place from `gradients`, with `state` holding
    /// `stateCountPerParameter · count` floats laid out one state vector after another.
    func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                state: UnsafeMutablePointer<Float>, count: Int, step: Int)
}

/// Plain stochastic gradient descent: `W ← W − η·dLoss/dW`, `b ← b − η·dLoss/db`.
public struct SGD: Optimizer {
    /// `η`.
    public var learningRate: Float

    public init(learningRate: Float) { self.learningRate = learningRate }

    public var stateCountPerParameter: Int { 0 }

    public func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                       state: UnsafeMutablePointer<Float>, count: Int, step: Int) {
        let eta = learningRate
        for i in 0..<count { parameters[i] -= eta * gradients[i] }
    }
}
