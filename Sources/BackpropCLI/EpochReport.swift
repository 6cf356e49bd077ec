/// What `mlp-train` reports at the end of an epoch.
public struct EpochReport: Sendable, Equatable {
    /// The epoch just finished, 1-based.
    public var epoch: Int
    /// The epoch count of the run.
    public var totalEpochs: Int
    /// The trainer's optimizer step count after the epoch (counting steps of resumed runs).
    public var step: Int
    /// Mean training loss over the samples this run trained on in the epoch (each batch's
    /// loss before its update, weighted by its size); `nil` when the epoch made no step here.
    public var trainLoss: Float?
    /// Mean loss and accuracy on the test set; `nil` without a test set.
    public var testLoss: Float?
    public var testAccuracy: Float?
    /// Mean loss and accuracy on the `--validation` hold-out; `nil` without one.
    public var validationLoss: Float?
    public var validationAccuracy: Float?
    /// Wall time of the epoch in this run, training and evaluation, in seconds.
    public var seconds: Double
    /// Training samples per second of training time (evaluation excluded).
    public var samplesPerSecond: Double

    public init(epoch: Int, totalEpochs: Int, step: Int, trainLoss: Float?, testLoss: Float?,
                testAccuracy: Float?, validationLoss: Float? = nil, validationAccuracy: Float? = nil,
                seconds: Double, samplesPerSecond: Double) {
        self.epoch = epoch
        self.totalEpochs = totalEpochs
        self.step = step
        self.trainLoss = trainLoss
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond
    }

    /// One JSON object on one line (no trailing newline) with the keys `epoch`, `step`,
    /// `train_loss`, `test_loss`, `test_accuracy`, `seconds`, `samples_per_second`, and
    /// `validation_loss`, `validation_accuracy` when there is a hold-out. A missing or
    /// non-finite value is `null` (JSON has no NaN).
    public var jsonLine: String {
        var fields: [(String, String)] = [
            ("epoch", String(epoch)),
            ("step", String(step)),
            ("train_loss", EpochReport.json(trainLoss)),
            ("test_loss", EpochReport.json(testLoss)),
            ("test_accuracy", EpochReport.json(testAccuracy)),
        ]
        if validationLoss != nil || validationAccuracy != nil {
            fields.append(("validation_loss", EpochReport.json(validationLoss)))
            fields.append(("validation_accuracy", EpochReport.json(validationAccuracy)))
        }
        fields.append(("seconds", EpochReport.json(seconds)))
        fields.append(("samples_per_second", EpochReport.json(samplesPerSecond)))
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The human line: `epoch 3/10  train loss 0.4123  test loss 0.4301  accuracy 84.52%  2.9 s  21.4k samples/s`.
    public var humanLine: String {
        var parts = ["epoch \(epoch)/\(totalEpochs)"]
        if let trainLoss { parts.append("train loss \(Format.fixed(trainLoss, 4))") }
        if let validationLoss { parts.append("val loss \(Format.fixed(validationLoss, 4))") }
        if let validationAccuracy { parts.append("val accuracy \(Format.percent(validationAccuracy))") }
        if let testLoss { parts.append("test loss \(Format.fixed(testLoss, 4))") }
        if let testAccuracy { parts.append("test accuracy \(Format.percent(testAccuracy))") }
        parts.append("\(Format.fixed(seconds, 1)) s")
        parts.append("\(Format.rate(samplesPerSecond)) samples/s")
        return parts.joined(separator: "  ")
    }

    static func json(_ value: Float?) -> String {
        guard let value, value.isFinite else { return "null" }
        return "\(value)"
    }

    static func json(_ value: Double) -> String {
        value.isFinite ? "\(value)" : "null"
    }
}
