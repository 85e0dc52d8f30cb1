import CMPI

/// An MPI call that returned something other than `MPI_SUCCESS`.
///
/// The wrapper sets `MPI_ERRORS_RETURN` on every communicator it hands out, so failures come back
/// as values (this error) instead of aborting the job from inside the library.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    /// The MPI error code.
    public var code: Int32
    /// Which wrapper call failed.
    public var call: String
    /// `MPI_Error_string` for `code`.
    public var message: String

    public init(code: Int32, call: String) {
        self.code = code
        self.call = call
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        if MPI_Error_string(code, &buffer, &length) == cmpi_success() {
            message = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else {
            message = "MPI error \(code)"
        }
    }

    /// A count or displacement that does not fit MPI's `int`.
    public static func countOverflow(_ call: String, _ value: Int) -> MPIError {
        var e = MPIError(code: 0, call: call)
        e.message = "count \(value) does not fit in a 32-bit MPI int"
        return e
    }

    public var description: String { "MPI \(call) failed: \(message)" }
}

/// Throws `MPIError` unless `code` is `MPI_SUCCESS`.
@inline(__always)
func check(_ code: Int32, _ call: @autoclosure () -> String) throws(MPIError) {
    if code != cmpi_success() { throw MPIError(code: code, call: call()) }
}

/// Converts a Swift count to MPI's `int`, refusing silent truncation.
@inline(__always)
func mpiCount(_ value: Int, _ call: String) throws(MPIError) -> Int32 {
    guard let v = Int32(exactly: value) else { throw MPIError.countOverflow(call, value) }
    return v
}
