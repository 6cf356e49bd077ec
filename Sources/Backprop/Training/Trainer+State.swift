extension Trainer {
    /// The weights, the step count and the optimizer state, to continue later with `restore`.
    public func exportState() -> TrainingState {
        TrainingState(model: model, stepCount: stepCount,
                      optimizerState: (0..<(2 * structure.layers.count)).map { Array(engine.stateRegion($0)) })
    }

    /// Continues from `state`: afterwards the trainer behaves exactly (bitwise) as the one that
    /// exported it.
    /// - Throws: `BackpropError.shapeMismatch` when the model's sizes or an optimizer state
    ///   array's length differ from this trainer's (`stateCountPerParameter × tensor size`, or the
    ///   number of tensors); `.invalidConfiguration` when the activations differ or `stepCount`
    ///   is negative. On error nothing changes.
    public func restore(_ state: TrainingState) throws {
        let current = model
        guard state.model.sizes == current.sizes else {
            throw BackpropError.shapeMismatch(
                "the restored model has sizes \(state.model.sizes) but the trainer trains \(current.sizes)")
        }
        guard state.model.activations == current.activations else {
            throw BackpropError.invalidConfiguration(
                "the restored model has activations \(state.model.activations) but the trainer trains \(current.activations)")
        }
        guard state.stepCount >= 0 else {
            throw BackpropError.invalidConfiguration("the restored step count is \(state.stepCount), below 0")
        }
        let tensors = 2 * current.layers.count
        guard state.optimizerState.count == tensors else {
            throw BackpropError.shapeMismatch(
                "the optimizer state has \(state.optimizerState.count) arrays but the model has \(tensors) parameter tensors")
        }
        let perParameter = optimizer.stateCountPerParameter
        for (index, values) in state.optimizerState.enumerated() {
            let layer = current.layers[index / 2]
            let size = index % 2 == 0 ? layer.weight.count : layer.bias.count
            guard values.count == perParameter * size else {
                throw BackpropError.shapeMismatch(
                    "the optimizer state of layers[\(index / 2)].\(index % 2 == 0 ? "weight" : "bias") has \(values.count) floats but needs \(perParameter) × \(size)")
            }
        }
        engine.load(state.model)
        for (index, values) in state.optimizerState.enumerated() {
            let region = engine.stateRegion(index)
            values.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { region.baseAddress!.update(from: base, count: values.count) }
            }
        }
        engine.stepCount = state.stepCount
        cachedModel = nil
    }
}
