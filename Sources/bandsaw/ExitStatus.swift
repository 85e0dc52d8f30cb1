import ImageCodecs
import ImageCore
import ImageFilters
import ImageFilters
import MPIKit
import SPMDEngine

/// The documented exit codes, and the one mapping from errors to them.
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | internal or MPI failure (a rank died, a collective failed) |
/// | 2 | bad usage: unknown option or filter, out-of-range parameter, unknown output extension, a launch MPI cannot join |
/// | 3 | bad input or output image: missing, empty, truncated, corrupt, unsupported, too large, unwritable |
enum ExitStatus: Int32, Sendable {
    case success = 0
    case failure = 1
    case usage = 2
    case badImage = 3

    init(for error: any Error) {
        switch error {
        // An output extension bandsaw cannot write is a usage error, not a bad image.
        case ImageError.unknownOutputFormat: self = .usage
        case is ImageError: self = .badImage
        case is FilterSpecError, is LaunchError: self = .usage
        default: self = .failure
        }
    }

    /// The exit code of a status the ranks agreed on.
    init(_ status: RunStatus) {
        switch status {
        case .success: self = .success
        case .failure: self = .failure
        case .usage: self = .usage
        case .badImage: self = .badImage
        }
    }
}
