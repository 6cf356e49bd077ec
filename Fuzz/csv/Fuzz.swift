// libFuzzer target: a CSV file, loaded with the defaults (label last, header detected) and
// with the label first and no header.
@testable import Backprop

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    for (labelColumn, hasHeader) in [(-1, nil), (0, false)] as [(Int, Bool?)] {
        guard let set = parse("CSV.load", { try CSV.load(bytes: bytes, path: fuzzPath, labelColumn: labelColumn, hasHeader: hasHeader) })
        else { continue }
        check(set.count > 0 && set.featureCount > 0, "an empty data set was accepted")
        check(set.labels?.count == set.count, "labels and rows disagree")
        check(set.count * (set.featureCount + 1) <= size, "more fields than input bytes allow")
        set.features.withUnsafeBufferPointer { values in
            check(values.allSatisfy(\.isFinite), "a non-finite feature")
        }
    }
    return 0
}
