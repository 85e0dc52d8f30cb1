import CMPI

/// Tagged point-to-point messages of any length, for work that is not lock-step: a rank that
/// deals jobs to others as they become free, and ranks that report back whenever they finish.
///
/// ``Communicator`` implements it over `MPI_Isend` / `MPI_Probe` / `MPI_Recv`; SPMDEngine's
/// in-process world implements it in memory. Messages from one sender with one tag arrive in
/// the order they were sent (MPI's non-overtaking rule).
public protocol Messaging {
    /// This rank, `0..<size`.
    var rank: Int { get }
    /// Number of ranks.
    var size: Int { get }
    /// Starts sending `bytes` to `destination` and returns at once; the send completes while the
    /// caller goes on (keep the returned value and finish it with ``PendingSend/isDone()`` or
    /// ``PendingSend/wait()`` before the end of the run).
    func post(_ bytes: [UInt8], to destination: Int, tag: Int) throws -> PendingSend
    /// Waits for the next message with `tag`, from `source` or (nil) from any rank.
    func receive(from source: Int?, tag: Int) throws -> Message
    /// The next message with `tag` from any rank if one has arrived, else nil at once.
    func poll(tag: Int) throws -> Message?
}

/// A received message and who sent it.
public struct Message: Sendable {
    public var source: Int
    public var bytes: [UInt8]

    public init(source: Int, bytes: [UInt8]) { self.source = source; self.bytes = bytes }
}

/// A send under way: its buffer lives until the send completes.
public final class PendingSend {
    private let test: () throws -> Bool
    private let finish: () throws -> Void
    private var done = false

    /// A send that is already complete (a buffered in-memory send).
    public static var completed: PendingSend { PendingSend(test: { true }, finish: {}) }

    public init(test: @escaping () throws -> Bool, finish: @escaping () throws -> Void) {
        self.test = test; self.finish = finish
    }

    /// True once the send has completed (and progresses it, as `MPI_Test` does).
    public func isDone() throws -> Bool {
        if !done { done = try test() }
        return done
    }

    /// Waits for the send to complete.
    public func wait() throws {
        if !done { try finish(); done = true }
    }
}

extension Communicator: Messaging {
    public func post(_ bytes: [UInt8], to destination: Int, tag: Int) throws -> PendingSend {
        let n = try mpiCount(bytes.count, "MPI_Isend")
        // MPI reads the buffer until the send completes: a copy of our own, freed then.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { if $0.count > 0 { buffer.copyMemory(from: $0) } }
        let request = UnsafeMutablePointer<MPI_Request?>.allocate(capacity: 1)
        request.initialize(to: cmpi_request_null())
        do {
            try check(MPI_Isend(buffer.baseAddress, n, cmpi_type_byte(), Int32(destination), Int32(tag), raw, request),
                      "MPI_Isend")
        } catch {
            buffer.deallocate(); request.deallocate()
            throw error
        }
        var released = false
        func release() {
            guard !released else { return }
            released = true
            buffer.deallocate(); request.deallocate()
        }
        return PendingSend(
            test: {
                var flag: Int32 = 0
                try check(MPI_Test(request, &flag, cmpi_status_ignore()), "MPI_Test")
                if flag != 0 { release() }
                return flag != 0
            },
            finish: {
                try check(MPI_Wait(request, cmpi_status_ignore()), "MPI_Wait")
                release()
            })
    }

    public func receive(from source: Int?, tag: Int) throws -> Message {
        var status = MPI_Status()
        try check(MPI_Probe(source.map(Int32.init) ?? Int32(cmpi_any_source()), Int32(tag), raw, &status), "MPI_Probe")
        return try take(status, tag: tag)
    }

    public func poll(tag: Int) throws -> Message? {
        var status = MPI_Status(), flag: Int32 = 0
        try check(MPI_Iprobe(Int32(cmpi_any_source()), Int32(tag), raw, &flag, &status), "MPI_Iprobe")
        return flag == 0 ? nil : try take(status, tag: tag)
    }

    /// Receives the message `status` announced.
    private func take(_ status: MPI_Status, tag: Int) throws -> Message {
        var status = status, count: Int32 = 0
        try check(MPI_Get_count(&status, cmpi_type_byte(), &count), "MPI_Get_count")
        var bytes = [UInt8](repeating: 0, count: Int(count))
        let rc = bytes.withUnsafeMutableBytes {
            MPI_Recv($0.baseAddress, count, cmpi_type_byte(), status.MPI_SOURCE, Int32(tag), raw, cmpi_status_ignore())
        }
        try check(rc, "MPI_Recv")
        return Message(source: Int(status.MPI_SOURCE), bytes: bytes)
    }
}
