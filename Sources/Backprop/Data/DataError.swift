/// A fault in loading, parsing or writing a file: names the file and what is wrong with it.
///
/// `description` is one line, `"PATH: fault"`; line breaks in `fault` are replaced by spaces.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path of the file at fault, as the caller gave it (or a directory, for a directory of files).
    public var file: String
    /// What is wrong, in words, naming the offending value, line, column or tensor.
    public var fault: String

    /// A fault `fault` in `file`.
    public init(file: String, fault: String) {
        self.file = file
        self.fault = fault
    }

    /// `"PATH: fault"` on one line.
    public var description: String {
        let line = fault.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: " ")
        return "\(file): \(line)"
    }
}
