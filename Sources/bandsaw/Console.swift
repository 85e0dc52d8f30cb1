#if canImport(Glibc)
import Glibc
#endif

/// Output helpers: results to stdout, the one-line `error:` messages to stderr.
///
/// Writes go straight to the file descriptors (no stdio buffering), so lines from rank 0 are
/// never held back or interleaved with mpirun's forwarding.
enum Console {
    static func out(_ text: String) { write(text + "\n", to: STDOUT_FILENO) }

    /// Prints `error: <message>` as a single line (newlines in the message are flattened).
    static func error(_ message: String) {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        write("error: \(line)\n", to: STDERR_FILENO)
    }

    /// A remark that is not an error, on stderr.
    static func note(_ message: String) { write("bandsaw: \(message)\n", to: STDERR_FILENO) }

    private static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
