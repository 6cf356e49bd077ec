import Backprop
import XCTest

final class IDXTests: DataTestCase {
    /// 3 images of 2×4 pixels and their labels.
    let pixels: [UInt8] = (0..<24).map { UInt8(($0 * 37 + 5) % 256) }
    let labelBytes: [UInt8] = [7, 0, 255]

    func testRawImagesRoundTrip() throws {
        let file = try write(Self.idx(dims: [3, 2, 4], data: pixels), "images-idx3-ubyte")
        let x = try IDX.readImages(file)
        XCTAssertEqual(x.rows, 3)
        XCTAssertEqual(x.columns, 8)
        XCTAssertEqual(x.values, pixels.map { Float($0) / 255 })
        XCTAssertEqual(x[0, 0], 5 / 255)
    }

    func testTwoDimensionalImagesAndLabels() throws {
        let file = try write(Self.idx(dims: [4, 6], data: pixels), "images-2d")
        let x = try IDX.readImages(file)
        XCTAssertEqual(x.rows, 4)
        XCTAssertEqual(x.columns, 6)
        let labels = try write(Self.idx(dims: [3], data: labelBytes), "labels")
        XCTAssertEqual(try IDX.readLabels(labels), [7, 0, 255])
    }

    func testGzipRoundTripDetectedByMagicNotName() throws {
        // A gzip file without .gz and a raw file with .gz: both read by content.
        let images = try write(Self.gzip(Self.idx(dims: [3, 2, 4], data: pixels)), "images-no-suffix")
        let labels = try write(Self.idx(dims: [3], data: labelBytes), "labels.gz")
        let set = try IDX.load(images: images, labels: labels)
        XCTAssertEqual(set.count, 3)
        XCTAssertEqual(set.features.values, pixels.map { Float($0) / 255 })
        XCTAssertEqual(set.labels, [7, 0, 255])
        XCTAssertEqual(set.classCount, 256)
        XCTAssertNil(set.targets)
    }

    func testConcatenatedGzipMembersAndLargeData() throws {
        // 5000 images of 28×28 pseudo-random pixels, compressed as two gzip members.
        var generator = SplitMix64(seed: 3)
        let data = (0..<(5000 * 784)).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 60) }
        let whole = Self.idx(dims: [5000, 28, 28], data: data)
        let cut = whole.count / 3
        let file = try write(Self.gzip(Array(whole[..<cut])) + Self.gzip(Array(whole[cut...]), level: 1), "big.gz")
        let x = try IDX.readImages(file)
        XCTAssertEqual(x.rows, 5000)
        XCTAssertEqual(x.columns, 784)
        XCTAssertEqual(x[4999, 783], Float(data[data.count - 1]) / 255)
        XCTAssertEqual(x.values, data.map { Float($0) / 255 })
    }

    func testWrongMagic() throws {
        let notIDX = try write([0x12, 0x34, 0x56, 0x78] + pixels, "not-idx")
        assertDataError(try IDX.readImages(notIDX), file: notIDX, "not an IDX file", "12 34 56 78")
        let labelsAsImages = try write(Self.idx(dims: [3], data: labelBytes), "labels")
        assertDataError(try IDX.readImages(labelsAsImages), file: labelsAsImages, "2 or 3 dimensions", "declares 1")
        let imagesAsLabels = try write(Self.idx(dims: [3, 2, 4], data: pixels), "images")
        assertDataError(try IDX.readLabels(imagesAsLabels), file: imagesAsLabels, "need 1 dimensions", "declares 3")
        let floats = try write(Self.idx(dims: [1, 2], data: [UInt8](repeating: 0, count: 8), type: 0x0D), "floats")
        assertDataError(try IDX.readImages(floats), file: floats, "0x0D", "float32", "not supported")
        let tiny = try write([0, 0], "tiny")
        assertDataError(try IDX.readLabels(tiny), file: tiny, "truncated", "magic")
        let headerCut = try write([0, 0, 8, 3, 0, 0, 0], "header-cut")
        assertDataError(try IDX.readImages(headerCut), file: headerCut, "truncated", "dimensions")
    }

    func testTruncatedAndTrailingRawFiles() throws {
        let whole = Self.idx(dims: [3, 2, 4], data: pixels)
        let short = try write(Array(whole.dropLast()), "short")
        assertDataError(try IDX.readImages(short), file: short, "truncated", "3×2×4 = 24 bytes", "holds 23")
        let long = try write(whole + [1, 2], "long")
        assertDataError(try IDX.readImages(long), file: long, "2 unexpected bytes")
        let labelsShort = try write(Self.idx(dims: [4], data: labelBytes), "labels-short")
        assertDataError(try IDX.readLabels(labelsShort), file: labelsShort, "truncated", "4 bytes of labels", "holds 3")
    }

    func testHugeHeaderRefusedBeforeAllocating() throws {
        // 2^31 images of 28×28 would need 1.7 TB: refused by comparing with the file size.
        let raw = try write(Self.idx(dims: [1 << 31, 28, 28], data: pixels), "huge")
        assertDataError(try IDX.readImages(raw), file: raw, "truncated", "2147483648×28×28")
        let gz = try write(Self.gzip(Self.idx(dims: [1 << 31, 28, 28], data: pixels)), "huge.gz")
        assertDataError(try IDX.readImages(gz), file: gz, "more than the gzip file can hold")
        let labels = try write(Self.gzip(Self.idx(dims: [UInt32.max], data: labelBytes)), "huge-labels.gz")
        assertDataError(try IDX.readLabels(labels), file: labels, "more than the gzip file can hold")
    }

    func testCorruptTruncatedAndTrailingGzip() throws {
        var generator = SplitMix64(seed: 9)
        let data = (0..<4000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let gz = Self.gzip(Self.idx(dims: [5, 800], data: data))
        let cut = try write(Array(gz[..<(gz.count / 2)]), "cut.gz")
        assertDataError(try IDX.readImages(cut), file: cut, "truncated")
        let noTrailer = try write(Array(gz.dropLast(4)), "no-trailer.gz")
        assertDataError(try IDX.readImages(noTrailer), file: noTrailer, "truncated gzip stream")
        var flipped = gz
        flipped[gz.count - 6] ^= 0xFF  // inside the CRC-32 of the trailer
        let badCRC = try write(flipped, "bad-crc.gz")
        assertDataError(try IDX.readImages(badCRC), file: badCRC, "corrupt gzip data", "incorrect data check")
        var garbage = gz
        garbage[10] = 0xFF  // the first deflate block header: block type 3 is reserved
        let corrupt = try write(garbage, "corrupt.gz")
        assertDataError(try IDX.readImages(corrupt), file: corrupt, "corrupt gzip data", "invalid block type")
        var badHeader = gz
        badHeader[2] = 7  // compression method must be 8 (deflate)
        let method = try write(badHeader, "method.gz")
        assertDataError(try IDX.readImages(method), file: method, "corrupt gzip data")
        let trailing = try write(gz + [1, 2, 3], "trailing.gz")
        assertDataError(try IDX.readImages(trailing), file: trailing, "3 bytes of trailing garbage")
        let extra = try write(Self.gzip(Self.idx(dims: [5, 800], data: data) + [9, 9]), "extra.gz")
        assertDataError(try IDX.readImages(extra), file: extra, "2 unexpected bytes")
    }

    func testMissingFileAndDirectory() throws {
        let missing = path("nope")
        assertDataError(try IDX.readImages(missing), file: missing, "cannot open", "No such file")
        assertDataError(try IDX.readLabels(directory), file: directory, "is a directory")
    }

    func testCountMismatchNamesBothFiles() throws {
        let images = try write(Self.idx(dims: [3, 2, 4], data: pixels), "images")
        let labels = try write(Self.idx(dims: [2], data: [1, 2]), "labels")
        assertDataError(try IDX.load(images: images, labels: labels), file: images, "3 images", labels, "2 labels")
    }

    func testMNISTDirectory() throws {
        let train = Self.idx(dims: [3, 2, 4], data: pixels)
        try write(Self.gzip(train), "train-images-idx3-ubyte.gz")
        try write(Self.idx(dims: [3], data: labelBytes), "train-labels-idx1-ubyte")
        try write(Self.idx(dims: [1, 2, 4], data: Array(pixels[0..<8])), "t10k-images-idx3-ubyte")
        assertDataError(try MNISTDirectory.load(directory), file: directory,
                        "missing t10k-labels-idx1-ubyte", "train-images-idx3-ubyte[.gz]", "t10k-labels-idx1-ubyte[.gz]")
        try write(Self.gzip(Self.idx(dims: [1], data: [4])), "t10k-labels-idx1-ubyte.gz")
        let (trainSet, testSet) = try MNISTDirectory.load(directory)
        XCTAssertEqual(trainSet.count, 3)
        XCTAssertEqual(testSet.count, 1)
        XCTAssertEqual(testSet.labels, [4])
        XCTAssertEqual(testSet.features.values, Array(pixels[0..<8]).map { Float($0) / 255 })
        let nowhere = path("absent")
        assertDataError(try MNISTDirectory.load(nowhere), file: nowhere, "no such directory", "train-labels-idx1-ubyte[.gz]")
    }

    func testRealFashionMNIST() throws {
        let dir = MNISTDirectory.fashionMNISTDefault
        guard FileManager.default.fileExists(atPath: dir + "/train-images-idx3-ubyte.gz")
            || FileManager.default.fileExists(atPath: dir + "/train-images-idx3-ubyte") else {
            throw XCTSkip("Fashion-MNIST is not installed at \(dir) (apt-get install dataset-fashion-mnist)")
        }
        let (train, test) = try MNISTDirectory.load(dir)
        XCTAssertEqual(train.count, 60000)
        XCTAssertEqual(test.count, 10000)
        XCTAssertEqual(train.featureCount, 784)
        XCTAssertEqual(test.featureCount, 784)
        XCTAssertEqual(Array(train.labels!.prefix(5)), [9, 0, 0, 3, 0])
        XCTAssertEqual(Array(test.labels!.prefix(5)), [9, 2, 1, 1, 6])
        XCTAssertEqual(train.classCount, 10)
        XCTAssertEqual(test.classCount, 10)
        var perClass = [Int](repeating: 0, count: 10)
        for l in train.labels! { perClass[l] += 1 }
        XCTAssertEqual(perClass, [Int](repeating: 6000, count: 10))
        // The first image's pixel bytes sum to 76247.
        let firstSum = train.features.row(0).reduce(0.0) { $0 + Double($1) * 255 }
        XCTAssertEqual(firstSum.rounded(), 76247)
        XCTAssertTrue(train.features.values.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
