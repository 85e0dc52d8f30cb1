import CMPI

/// A file opened by every rank of a communicator together: MPI-IO (`MPI_File`).
///
/// Each rank reads or writes its own part at explicit offsets, so no byte passes through
/// another rank. Every rank must see the same file: one host, or a filesystem they share.
/// Failures come back as `MPIError` (MPI-IO's default error handler is `MPI_ERRORS_RETURN`).
public struct File: @unchecked Sendable {
    var raw: MPI_File?

    /// How the file is opened.
    public enum Mode: Sendable {
        /// `MPI_MODE_RDONLY`.
        case read
        /// `MPI_MODE_CREATE | MPI_MODE_WRONLY`.
        case createWrite

        var amode: Int32 { self == .read ? cmpi_mode_rdonly() : cmpi_mode_create_wronly() }
    }

    /// Opens `path` on every rank of `communicator` (`MPI_File_open`, collective).
    public static func open(_ path: String, mode: Mode, on communicator: Communicator) throws(MPIError) -> File {
        var handle: MPI_File? = cmpi_file_null()
        try check(MPI_File_open(communicator.raw, path, mode.amode, cmpi_info_null(), &handle), "MPI_File_open")
        return File(raw: handle)
    }

    /// Runs `body` with the file open and closes it afterwards, even when `body` throws.
    public static func withOpen<T>(_ path: String, mode: Mode, on communicator: Communicator,
                                   _ body: (inout File) throws -> T) throws -> T {
        var file = try open(path, mode: mode, on: communicator)
        defer { file.close() }
        return try body(&file)
    }

    /// Reads `count` elements of `type` at byte `offset` into `buffer`, every rank at once
    /// (`MPI_File_read_at_all`, collective: a rank with nothing to read passes a count of 0).
    public mutating func readAll(at offset: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int,
                                 type: Datatype) throws(MPIError) {
        let n = try mpiCount(count, "MPI_File_read_at_all")
        try check(MPI_File_read_at_all(raw, MPI_Offset(offset), buffer.baseAddress, n, type.raw, cmpi_status_ignore()),
                  "MPI_File_read_at_all")
    }

    /// Writes `count` elements of `type` from `buffer` at byte `offset`, every rank at once
    /// (`MPI_File_write_at_all`, collective).
    public mutating func writeAll(at offset: Int, from buffer: UnsafeRawBufferPointer, count: Int,
                                  type: Datatype) throws(MPIError) {
        let n = try mpiCount(count, "MPI_File_write_at_all")
        try check(MPI_File_write_at_all(raw, MPI_Offset(offset), buffer.baseAddress, n, type.raw, cmpi_status_ignore()),
                  "MPI_File_write_at_all")
    }

    /// Flushes what every rank wrote to the storage device (`MPI_File_sync`, collective).
    public mutating func sync() throws(MPIError) {
        try check(MPI_File_sync(raw), "MPI_File_sync")
    }

    /// Closes the file (`MPI_File_close`, collective). Errors are dropped: by then every
    /// write has been checked, and `sync` reports what reaching the disk costs.
    public mutating func close() {
        if raw != cmpi_file_null() { _ = MPI_File_close(&raw) }
    }
}
