// The POSIX file layer: whole-file and prefix reads, and the temporary-file protocol every
// output goes through (write beside the target, sync, rename into place; unlink on failure).
import ImageCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A short, lower-case reason for an errno value, for `.io` details.
private func reason(_ code: Int32) -> String {
    switch code {
    case ENOENT: return "no such file"
    case EACCES, EPERM: return "permission denied"
    case EISDIR: return "is a directory"
    case ENOTDIR: return "a parent is not a directory"
    case ENOSPC: return "no space left on device"
    case EROFS: return "read-only file system"
    default: return String(cString: strerror(code))
    }
}

/// The whole contents of the file at `path`, undecoded (for decoders that split the work,
/// such as ``PNGRestart``).
///
/// - Throws: `.io` when the file cannot be read, with a detail such as "no such file".
public func readFileBytes(path: String) throws(ImageError) -> [UInt8] {
    let (fd, size) = try openForReading(path)
    defer { close(fd) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(size)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { return bytes }
        if n < 0 {
            if errno == EINTR { continue }
            throw .io(path: path, detail: "cannot read: \(reason(errno))")
        }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it into place;
/// removes the temporary file on any failure.
public func writeFileAtomically(_ bytes: [UInt8], path: String) throws(ImageError) {
    try commitTemporary(writeTemporaryFile(bytes, for: path), to: path)
}

/// The first half of ``writeFileAtomically(_:path:)``: writes and syncs `bytes` to the
/// temporary file beside `path` (``temporaryPath(for:)``) and returns its name; removes it on
/// failure. ``commitTemporary(_:to:)`` finishes, or the caller unlinks it.
///
/// - Parameter sync: false leaves the sync to ``syncAndCommitTemporary(_:to:)`` (a batch's
///   committer thread, so the wait for the disk is not on the image's path).
public func writeTemporaryFile(_ bytes: [UInt8], for path: String, sync: Bool = true) throws(ImageError) -> String {
    let temporary = temporaryPath(for: path)

    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw .io(path: path, detail: "cannot write: \(reason(errno))") }
    var failure: Int32 = 0
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            done += n
        }
    }
    if failure == 0, sync, fsync(fd) != 0 { failure = errno }
    if close(fd) != 0, failure == 0 { failure = errno }
    if failure != 0 {
        unlink(temporary)
        throw .io(path: path, detail: "cannot write: \(reason(failure))")
    }
    return temporary
}

/// The temporary file an output is written to before it is renamed into place:
/// `.<name>.tmp-<pid>` beside `path`.
public func temporaryPath(for path: String) -> String {
    let name = fileName(of: path)
    let directory = path.dropLast(name.count)  // "" or ends with "/"
    return "\(directory).\(name).tmp-\(getpid())"
}

/// Renames a finished temporary file over `path`; removes it when that fails.
public func commitTemporary(_ temporary: String, to path: String) throws(ImageError) {
    guard rename(temporary, path) == 0 else {
        let failure = errno
        unlink(temporary)
        throw .io(path: path, detail: "cannot write: \(reason(failure))")
    }
}

/// Syncs a written temporary file to the disk, then renames it over `path` (never the other way
/// round: a name that appears must hold the whole file even after a power cut); removes it when
/// either fails.
public func syncAndCommitTemporary(_ temporary: String, to path: String) throws(ImageError) {
    let fd = open(temporary, O_RDONLY | O_CLOEXEC)
    var failure: Int32 = fd < 0 ? errno : 0
    if fd >= 0 {
        if fsync(fd) != 0 { failure = errno }
        close(fd)
    }
    if failure != 0 {
        unlink(temporary)
        throw .io(path: path, detail: "cannot write: \(reason(failure))")
    }
    try commitTemporary(temporary, to: path)
}

/// Creates (or empties) the file at `path` for writing, then closes it.
public func createEmptyFile(_ path: String) throws(ImageError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw .io(path: path, detail: "cannot write: \(reason(errno))") }
    close(fd)
}

/// The first `limit` bytes of the file at `path` (fewer when it is shorter) and its size.
public func readFilePrefix(path: String, limit: Int) throws(ImageError) -> (bytes: [UInt8], size: Int) {
    let (fd, size) = try openForReading(path)
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: limit)
    var done = 0
    while done < limit {
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, limit - done, off_t(done)) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }
            throw .io(path: path, detail: "cannot read: \(reason(errno))")
        }
        done += n
    }
    return (Array(bytes[0..<done]), size)
}

/// Opens a file to read and returns the descriptor and the file's size; refuses a directory.
private func openForReading(_ path: String) throws(ImageError) -> (fd: Int32, size: Int) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, detail: "cannot read: \(reason(errno))") }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
        let failure = errno
        close(fd)
        throw .io(path: path, detail: "cannot read: \(reason(failure))")
    }
    // open(2) succeeds on a directory; say so rather than fail later with EISDIR from read(2).
    guard info.st_mode & 0o170000 != 0o040000 else {
        close(fd)
        throw .io(path: path, detail: "cannot read: is a directory")
    }
    return (fd, max(Int(info.st_size), 0))
}

/// Whether this process can open `path` for reading (`write`: for writing), without changing it.
public func canOpen(_ path: String, write: Bool = false) -> Bool {
    let fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC)
    guard fd >= 0 else { return false }
    close(fd)
    return true
}
