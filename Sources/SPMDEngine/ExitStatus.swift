import ImageCore
import ImageFilters
import MPIKit

/// The documented exit codes, and the one mapping from errors to them.
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | internal or MPI failure (a rank died, a collective failed) |
/// | 2 | bad usage: unknown option or filter, out-of-range parameter, unknown output extension, a launch MPI cannot join |
/// | 3 | bad input or output image: missing, empty, truncated, corrupt, unsupported, too large, unwritable |
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case failure = 1
    case usage = 2
    case badImage = 3

    public init(for error: any Error) {
        switch error {
        // An output extension bandsaw cannot write is a usage error, not a bad image.
        case ImageError.unknownOutputFormat: self = .usage
        case is ImageError: self = .badImage
        case is FilterSpecError, is LaunchError, is UsageError: self = .usage
        default: self = .failure
        }
    }
}

/// A command line that names something impossible, found only once rank 0 looks at the files
/// (two inputs of a batch that would write the same output, say): exit 2.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
