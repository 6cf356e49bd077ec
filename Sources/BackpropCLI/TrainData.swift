import Backprop

/// The data sets of a run, loaded from a `TrainOptions.DataSource`.
struct TrainData {
    /// The samples trained on (without the validation hold-out).
    var train: Dataset
    /// The `--validation` hold-out: the last fraction of the training file(s).
    var validation: Dataset?
    /// The test set, when the source has one.
    var test: Dataset?
    /// The training file(s), for messages.
    var trainName: String
    /// The test file(s), for messages.
    var testName: String?

    /// Loads `source` and splits off `validationFraction` of the training samples.
    /// - Throws: `CLIError.unreadableFile` naming the file at fault (exit status 1).
    static func load(_ source: TrainOptions.DataSource, validationFraction: Double?) throws(CLIError) -> TrainData {
        var data: TrainData
        do {
            switch source {
            case .mnistDirectory(let directory):
                let (train, test) = try MNISTDirectory.load(directory)
                data = TrainData(train: train, test: test, trainName: directory, testName: directory)
            case .idx(let trainImages, let trainLabels, let testImages, let testLabels):
                let train = try IDX.load(images: trainImages, labels: trainLabels)
                var test: Dataset?
                if let testImages, let testLabels { test = try IDX.load(images: testImages, labels: testLabels) }
                data = TrainData(train: train, test: test, trainName: trainImages, testName: testImages)
            case .npy(let trainFeatures, let trainLabels, let testFeatures, let testLabels):
                let train = try loadNPY(features: trainFeatures, labels: trainLabels)
                var test: Dataset?
                if let testFeatures, let testLabels { test = try loadNPY(features: testFeatures, labels: testLabels) }
                data = TrainData(train: train, test: test, trainName: trainFeatures, testName: testFeatures)
            case .csv(let train, let test, let labelColumn):
                let trainSet = try CSV.load(train, labelColumn: labelColumn)
                let testSet = try test.map { try CSV.load($0, labelColumn: labelColumn) }
                data = TrainData(train: trainSet, test: testSet, trainName: train, testName: test)
            }
        } catch let error as DataError {
            throw .unreadableFile(path: error.file, message: error.fault)
        } catch {
            throw .unreadableFile(path: source.trainPath, message: "\(error)")
        }
        guard data.train.count > 0 else {
            throw .unreadableFile(path: data.trainName, message: "the training set has no samples")
        }
        if let test = data.test, test.featureCount != data.train.featureCount {
            throw .unreadableFile(path: data.testName ?? "test set",
                                  message: "test samples have \(test.featureCount) features but the training samples in \(data.trainName) have \(data.train.featureCount)")
        }
        if let fraction = validationFraction {
            do {
                let (train, validation) = try data.train.split(validationFraction: fraction)
                guard validation.count > 0 else {
                    throw CLIError.invalidValue(flag: "--validation", value: "\(fraction)",
                                                expected: "a fraction that holds out at least one of the \(data.train.count) training samples")
                }
                data.train = train
                data.validation = validation
            } catch let error as CLIError {
                throw error
            } catch {
                throw .invalidValue(flag: "--validation", value: "\(fraction)", expected: "a fraction that leaves training samples (\(error))")
            }
        }
        return data
    }

    /// A labelled data set from an NPY feature array (one sample per row; N-D arrays flattened
    /// per sample; values as stored) and an NPY integer label array.
    static func loadNPY(features: String, labels: String) throws -> Dataset {
        let x = try NPY.readMatrix(features)
        let y = try NPY.readLabels(labels)
        guard x.rows == y.count else {
            throw DataError(file: features, fault: "holds \(x.rows) samples but the labels file \(labels) holds \(y.count) labels")
        }
        return try Dataset(features: x, labels: y)
    }

    /// Number of classes (for labelled data: one more than the largest label of either set) or
    /// target columns (for float targets).
    var outputCount: Int {
        if let targets = train.targets { return targets.columns }
        let trainClasses = train.classCount ?? 0
        let testClasses = test?.classCount ?? 0
        let validationClasses = validation?.classCount ?? 0
        return max(trainClasses, testClasses, validationClasses)
    }
}

extension TrainOptions.DataSource {
    /// The training file (or directory) of the source, for messages.
    var trainPath: String {
        switch self {
        case .mnistDirectory(let directory): return directory
        case .idx(let images, _, _, _): return images
        case .npy(let features, _, _, _): return features
        case .csv(let train, _, _): return train
        }
    }
}
