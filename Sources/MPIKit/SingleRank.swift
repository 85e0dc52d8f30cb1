#if canImport(Glibc)
import Glibc
#endif

/// A world of one rank, for a rank that processes an image alone (a dealt image in a batch):
/// every collective is the identity and costs no MPI call, and file access is plain `pread` /
/// `pwrite`. The same engine runs on it as on every rank of the world, so a dealt image's
/// output has the bits of a one-process run.
public struct SingleRank: Collectives, Sendable {
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }

    public func broadcast(_ values: inout [Int64], root: Int) throws {}
    public func broadcast(bytes: inout [UInt8], root: Int) throws {}

    public func scatterv(send: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int], unit: Int,
                         receive: UnsafeMutableRawBufferPointer, receiveCount: Int, root: Int) throws {
        guard let send, counts[0] > 0 else { return }
        receive.baseAddress!.copyMemory(from: send.baseAddress! + displacements[0] * unit, byteCount: counts[0] * unit)
    }

    public func scattervInPlaceAtRoot(send: UnsafeRawBufferPointer, counts: [Int], displacements: [Int],
                                      unit: Int) throws {}

    public func gatherv(send: UnsafeRawBufferPointer, sendCount: Int, unit: Int, receive: UnsafeMutableRawBufferPointer?,
                        counts: [Int], displacements: [Int], root: Int) throws {
        guard let receive, sendCount > 0 else { return }
        (receive.baseAddress! + displacements[0] * unit).copyMemory(from: send.baseAddress!, byteCount: sendCount * unit)
    }

    public func sendReceive(send: UnsafeRawBufferPointer, sendCount: Int, to destination: Int?,
                            receive: UnsafeMutableRawBufferPointer, receiveCount: Int, from source: Int?,
                            unit: Int) throws {
        // One rank has no neighbours: the engine never names a peer here.
        precondition(destination == nil && source == nil, "a single rank has no peers")
    }

    public func allReduce(_ values: [Int64], op: Reduction) throws -> [Int64] { values }
    public func reduce(_ values: [Double], op: Reduction, root: Int) throws -> [Double] { values }

    public func readFile(_ path: String, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int,
                         unit: Int) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SingleRankError.file("cannot open \(path)") }
        defer { close(fd) }
        var done = 0
        let wanted = count * unit
        while done < wanted {
            let n = pread(fd, buffer.baseAddress! + done, wanted - done, off_t(offset + done))
            guard n > 0 else { throw SingleRankError.file("short read of \(path)") }
            done += n
        }
    }

    public func writeFile(_ path: String, _ writes: [FileWrite]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw SingleRankError.file("cannot open \(path)") }
        defer { close(fd) }
        for write in writes where write.count > 0 {
            var done = 0
            let wanted = write.count * write.unit
            while done < wanted {
                let n = pwrite(fd, write.bytes.baseAddress! + done, wanted - done, off_t(write.offset + done))
                guard n > 0 else { throw SingleRankError.file("short write to \(path)") }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw SingleRankError.file("cannot sync \(path)") }
    }
}

/// Why a ``SingleRank`` file access failed.
public enum SingleRankError: Error, CustomStringConvertible {
    case file(String)

    public var description: String { if case .file(let what) = self { what } else { "" } }
}
