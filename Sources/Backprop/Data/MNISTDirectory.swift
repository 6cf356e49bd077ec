/// A directory of the four MNIST-style IDX files, each raw or gzip-compressed:
/// `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
/// `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]` (MNIST, Fashion-MNIST,
/// Kuzushiji-MNIST). When both `NAME` and `NAME.gz` exist, `NAME` is read.
public enum MNISTDirectory {
    /// The four file names, without the optional `.gz`.
    public static let fileNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
    public static let fashionMNISTDefault = "/usr/share/datasets/fashion-mnist"

    /// The training set (60000 samples for MNIST) and the test set (10000), pixels scaled to `[0, 1]`.
    /// - Throws: `DataError` naming the directory when it does not exist or lacks a file (the
    ///   message lists the expected names), naming a file for any fault of `IDX.load`, and
    ///   naming the test images when the two sets have different image sizes.
    public static func load(_ directory: String) throws -> (train: Dataset, test: Dataset) {
        guard FileBytes.exists(directory) else {
            throw DataError(file: directory, fault: "no such directory (expected it to hold \(expectedList))")
        }
        var paths: [String] = []
        for name in fileNames {
            let plain = join(directory, name)
            if FileBytes.exists(plain) {
                paths.append(plain)
            } else if FileBytes.exists(plain + ".gz") {
                paths.append(plain + ".gz")
            } else {
                throw DataError(file: directory, fault: "missing \(name) (or \(name).gz); expected \(expectedList)")
            }
        }
        let train = try IDX.load(images: paths[0], labels: paths[1])
        let test = try IDX.load(images: paths[2], labels: paths[3])
        guard train.featureCount == test.featureCount else {
            throw DataError(file: paths[2], fault: "test images have \(test.featureCount) pixels but the training images "
                + "in \(paths[0]) have \(train.featureCount)")
        }
        return (train, test)
    }

    private static var expectedList: String {
        fileNames.map { "\($0)[.gz]" }.joined(separator: ", ")
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
