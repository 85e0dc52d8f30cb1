import CMPI

/// A group of ranks that talk to one another: a thin wrapper over `MPI_Comm`.
///
/// Buffers are Swift arrays or raw buffer pointers; counts are `Int` here and converted to
/// MPI's 32-bit `int` with `Int32(exactly:)`, so an overflow throws instead of wrapping.
public struct Communicator: @unchecked Sendable {
    let raw: MPI_Comm?

    init(raw: MPI_Comm?) { self.raw = raw }

    /// This process's rank (`MPI_Comm_rank`).
    public var rank: Int {
        var r: Int32 = 0
        MPI_Comm_rank(raw, &r)
        return Int(r)
    }

    /// Number of ranks (`MPI_Comm_size`).
    public var size: Int {
        var s: Int32 = 0
        MPI_Comm_size(raw, &s)
        return Int(s)
    }

    /// Sends `values` from `root` to every rank (`MPI_Bcast`); every rank passes an array of
    /// the same length, and non-roots receive into it.
    public func broadcast(_ values: inout [Int64], root: Int = 0) throws(MPIError) {
        let n = try mpiCount(values.count, "MPI_Bcast")
        let rc = values.withUnsafeMutableBytes { MPI_Bcast($0.baseAddress, n, cmpi_type_int64(), Int32(root), raw) }
        try check(rc, "MPI_Bcast")
    }

    /// Broadcasts bytes whose length only the root knows: the length first, then the bytes.
    public func broadcast(bytes: inout [UInt8], root: Int = 0) throws(MPIError) {
        var length: [Int64] = [Int64(bytes.count)]
        try broadcast(&length, root: root)
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        let n = try mpiCount(bytes.count, "MPI_Bcast")
        let rc = bytes.withUnsafeMutableBytes { MPI_Bcast($0.baseAddress, n, cmpi_type_byte(), Int32(root), raw) }
        try check(rc, "MPI_Bcast")
    }

    /// Scatters consecutive runs of `type` elements from `root`'s `send` (`MPI_Scatterv`):
    /// rank `r` receives `counts[r]` elements from offset `displacements[r]` into `receive`.
    ///
    /// The MPI standard forbids reading any location of the root's buffer twice, so the
    /// runs must not overlap; callers that need overlapping halo rows exchange them afterwards.
    public func scatterv(send: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int],
                         type: Datatype, receive: UnsafeMutableRawBufferPointer, receiveCount: Int,
                         root: Int = 0) throws(MPIError) {
        let c = try counts.map { c throws(MPIError) in try mpiCount(c, "MPI_Scatterv") }
        let d = try displacements.map { d throws(MPIError) in try mpiCount(d, "MPI_Scatterv") }
        let rc = try mpiCount(receiveCount, "MPI_Scatterv")
        try check(MPI_Scatterv(send?.baseAddress, c, d, type.raw, receive.baseAddress, rc, type.raw,
                               Int32(root), raw), "MPI_Scatterv")
    }

    /// The root's side of a scatter that leaves the root's own run where it is in `send`
    /// (`MPI_Scatterv` with `MPI_IN_PLACE` as the receive buffer): the root copies nothing to
    /// itself. Other ranks call `scatterv` as usual.
    public func scattervInPlaceAtRoot(send: UnsafeRawBufferPointer, counts: [Int], displacements: [Int],
                                      type: Datatype) throws(MPIError) {
        let c = try counts.map { c throws(MPIError) in try mpiCount(c, "MPI_Scatterv") }
        let d = try displacements.map { d throws(MPIError) in try mpiCount(d, "MPI_Scatterv") }
        try check(MPI_Scatterv(send.baseAddress, c, d, type.raw, cmpi_in_place(), 0, type.raw,
                               Int32(rank), raw), "MPI_Scatterv")
    }

    /// Gathers runs of `type` elements into `root`'s `receive` (`MPI_Gatherv`): rank `r`'s
    /// `sendCount` elements land at offset `displacements[r]`.
    public func gatherv(send: UnsafeRawBufferPointer, sendCount: Int, type: Datatype,
                        receive: UnsafeMutableRawBufferPointer?, counts: [Int], displacements: [Int],
                        root: Int = 0) throws(MPIError) {
        let c = try counts.map { c throws(MPIError) in try mpiCount(c, "MPI_Gatherv") }
        let d = try displacements.map { d throws(MPIError) in try mpiCount(d, "MPI_Gatherv") }
        let sc = try mpiCount(sendCount, "MPI_Gatherv")
        try check(MPI_Gatherv(send.baseAddress, sc, type.raw, receive?.baseAddress, c, d, type.raw,
                              Int32(root), raw), "MPI_Gatherv")
    }

    /// Sends to one rank while receiving from another (`MPI_Sendrecv`), the deadlock-free
    /// neighbour step of a halo exchange. `nil` peers stand for `MPI_PROC_NULL` (no transfer).
    public func sendReceive(send: UnsafeRawBufferPointer, sendCount: Int, to destination: Int?,
                            receive: UnsafeMutableRawBufferPointer, receiveCount: Int, from source: Int?,
                            type: Datatype, tag: Int = 0) throws(MPIError) {
        let sc = try mpiCount(sendCount, "MPI_Sendrecv"), rc = try mpiCount(receiveCount, "MPI_Sendrecv")
        try check(MPI_Sendrecv(send.baseAddress, sc, type.raw, Int32(destination ?? Int(cmpi_proc_null())), Int32(tag),
                               receive.baseAddress, rc, type.raw, Int32(source ?? Int(cmpi_proc_null())), Int32(tag),
                               raw, cmpi_status_ignore()), "MPI_Sendrecv")
    }

    /// Combines `values` element-wise over all ranks and gives every rank the result
    /// (`MPI_Allreduce`): one collective for the ranks to agree on, say, the worst status.
    public func allReduce(_ values: [Int64], op: Reduction) throws(MPIError) -> [Int64] {
        var result = [Int64](repeating: 0, count: values.count)
        let n = try mpiCount(values.count, "MPI_Allreduce")
        let rc = values.withUnsafeBytes { s in
            result.withUnsafeMutableBytes { r in
                MPI_Allreduce(s.baseAddress, r.baseAddress, n, cmpi_type_int64(), ReduceOp(op).raw, raw)
            }
        }
        try check(rc, "MPI_Allreduce")
        return result
    }

    /// Combines `values` element-wise over all ranks into `root` (`MPI_Reduce`); the result is
    /// meaningful on `root` only.
    public func reduce(_ values: [Double], op: Reduction, root: Int = 0) throws(MPIError) -> [Double] {
        var result = [Double](repeating: 0, count: values.count)
        let n = try mpiCount(values.count, "MPI_Reduce")
        let rc = values.withUnsafeBytes { s in
            result.withUnsafeMutableBytes { r in
                MPI_Reduce(s.baseAddress, r.baseAddress, n, cmpi_type_double(), ReduceOp(op).raw, Int32(root), raw)
            }
        }
        try check(rc, "MPI_Reduce")
        return result
    }
}
