import Foundation

/// Trains an `MLP` with data-parallel backpropagation. (Skeleton: single-threaded for now.)
public final class Trainer {
    /// The model as of the last step.
    public private(set) var model: MLP
    public let loss: Loss
    public var optimizer: any Optimizer
    public let threads: Int
    public private(set) var stepCount = 0

    public init(model: MLP, loss: Loss, optimizer: any Optimizer,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard threads >= 1 else { throw BackpropError.invalidThreadCount(threads) }
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.threads = threads
    }

    /// One step on a batch with class labels; returns the batch's mean loss before the update.
    public func step(input: Matrix, labels: [Int]) throws -> Float {
        let (l, g) = try model.lossAndGradients(input: input, labels: labels, loss: loss)
        apply(g)
        return l
    }

    /// One step on a batch with float targets.
    public func step(input: Matrix, targets: Matrix) throws -> Float {
        let (l, g) = try model.lossAndGradients(input: input, targets: targets, loss: loss)
        apply(g)
        return l
    }

    private func apply(_ gradients: [LayerGradients]) {
        stepCount += 1
        let dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { dummy.deallocate() }
        for l in model.layers.indices {
            model.layers[l].weight.withUnsafeMutableBufferPointer { w in
                gradients[l].weight.withUnsafeBufferPointer { g in
                    optimizer.update(parameters: w.baseAddress!, gradients: g.baseAddress!, state: dummy,
                                     count: w.count, step: stepCount)
                }
            }
            model.layers[l].bias.withUnsafeMutableBufferPointer { b in
                gradients[l].bias.withUnsafeBufferPointer { g in
                    optimizer.update(parameters: b.baseAddress!, gradients: g.baseAddress!, state: dummy,
                                     count: b.count, step: stepCount)
                }
            }
        }
    }
}
