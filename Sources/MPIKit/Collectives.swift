/// What the SPMD engine asks of a group of ranks: the collectives it uses, point-to-point
/// neighbour steps, and collective file access.
///
/// ``Communicator`` implements it over MPI; an in-process world of threads implements it in
/// memory (SPMDEngine's `InProcessWorld`), so the engine's protocol logic can be tested without
/// mpirun, as swift-nio's embedded channel tests a handler without sockets.
///
/// Buffers are raw bytes. Counts and displacements are in *units* of `unit` bytes (an image row,
/// say): MPI counts are 32-bit, and a whole row as one element keeps them far from that limit.
/// Every rank must call each collective in the same order with matching units.
public protocol Collectives {
    /// This rank, `0..<size`.
    var rank: Int { get }
    /// Number of ranks.
    var size: Int { get }

    /// Sends `values` from `root` to every rank; every rank passes an array of the same length.
    func broadcast(_ values: inout [Int64], root: Int) throws
    /// Broadcasts bytes whose length only the root knows.
    func broadcast(bytes: inout [UInt8], root: Int) throws
    /// Rank `r` receives `counts[r]` units from offset `displacements[r]` of the root's `send`
    /// (ignored on other ranks) into `receive`. Runs must not overlap.
    func scatterv(send: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int], unit: Int,
                  receive: UnsafeMutableRawBufferPointer, receiveCount: Int, root: Int) throws
    /// The root's side of a scatter that leaves the root's own run where it is in `send`.
    func scattervInPlaceAtRoot(send: UnsafeRawBufferPointer, counts: [Int], displacements: [Int], unit: Int) throws
    /// Rank `r`'s `sendCount` units land at `displacements[r]` units of the root's `receive`.
    func gatherv(send: UnsafeRawBufferPointer, sendCount: Int, unit: Int, receive: UnsafeMutableRawBufferPointer?,
                 counts: [Int], displacements: [Int], root: Int) throws
    /// Sends to one rank while receiving from another; `nil` peers transfer nothing.
    func sendReceive(send: UnsafeRawBufferPointer, sendCount: Int, to destination: Int?,
                     receive: UnsafeMutableRawBufferPointer, receiveCount: Int, from source: Int?,
                     unit: Int) throws
    /// Combines `values` element-wise over all ranks; every rank gets the result.
    func allReduce(_ values: [Int64], op: Reduction) throws -> [Int64]
    /// Combines `values` element-wise over all ranks into `root` (meaningful there only).
    func reduce(_ values: [Double], op: Reduction, root: Int) throws -> [Double]

    /// Every rank reads `count` units at byte `offset` of `path` into `buffer` (collective; a
    /// rank with nothing to read passes 0).
    func readFile(_ path: String, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int,
                  unit: Int) throws
    /// Every rank writes its `writes` (each `count` units of `unit` bytes at a byte offset) into
    /// `path`, created if needed, then the file is flushed to storage (collective).
    func writeFile(_ path: String, _ writes: [FileWrite]) throws
}

/// One rank's part of a collective file write.
public struct FileWrite {
    public var offset: Int
    public var bytes: UnsafeRawBufferPointer
    public var count: Int
    public var unit: Int

    public init(offset: Int, bytes: UnsafeRawBufferPointer, count: Int, unit: Int) {
        self.offset = offset; self.bytes = bytes; self.count = count; self.unit = unit
    }
}

/// An element-wise reduction. The MPI operations are `MPI_MIN`, `MPI_MAX` and `MPI_SUM`.
public enum Reduction: Sendable {
    case min, max, sum
}

extension Collectives {
    public func broadcast(_ values: inout [Int64]) throws { try broadcast(&values, root: 0) }
    public func broadcast(bytes: inout [UInt8]) throws { try broadcast(bytes: &bytes, root: 0) }
    public func reduce(_ values: [Double], op: Reduction) throws -> [Double] { try reduce(values, op: op, root: 0) }

    /// True on every rank when `ok` is true on every rank (one all-reduce).
    public func everyRank(_ ok: Bool) throws -> Bool {
        try allReduce([ok ? 1 : 0], op: .min)[0] == 1
    }

    /// Every rank's `values` (the same count on each), concatenated by rank on `root` (empty
    /// elsewhere).
    public func gather(_ values: [Int64], root: Int = 0) throws -> [Int64] {
        let n = values.count
        var all = [Int64](repeating: 0, count: rank == root ? n * size : 0)
        try values.withUnsafeBytes { send in
            try all.withUnsafeMutableBytes { receive in
                try gatherv(send: send, sendCount: n, unit: 8, receive: rank == root ? receive : nil,
                            counts: [Int](repeating: n, count: size), displacements: (0..<size).map { n * $0 },
                            root: root)
            }
        }
        return all
    }

    /// Fills the rows of `buffer` that other ranks own, for an array of rows split over the ranks.
    ///
    /// `buffer` holds rows `held` (this rank's owned rows, already in place, plus the rows it
    /// needs from others); `transfer(owner, receiver)` names the rows `receiver` needs from
    /// `owner`, and every rank must compute it identically. Step `d` pairs each rank with the
    /// ranks `d` above and `d` below through a send-receive (first sending down, then up), so
    /// no rank waits on a send that is never received; `reach` is the largest `d` over which
    /// any rows move (1 unless bands are thinner than the halo). This is the standard-conforming
    /// way to give bands overlapping rows: the scatter that precedes it reads each root
    /// location once.
    public func exchangeRows(buffer: UnsafeMutableRawBufferPointer, held: Range<Int>, rowBytes: Int, reach: Int,
                             transfer: (_ owner: Int, _ receiver: Int) -> Range<Int>) throws {
        guard reach > 0 else { return }
        let me = rank, ranks = size
        // A rank with no rows still takes part in every step (with zero counts), so it needs
        // some address even when its buffer is empty.
        var spare: UInt8 = 0
        try withUnsafeMutableBytes(of: &spare) { spareBytes in
            let base = buffer.baseAddress ?? spareBytes.baseAddress!
            func rows(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
                range.isEmpty ? UnsafeMutableRawBufferPointer(start: base, count: 0)
                    : UnsafeMutableRawBufferPointer(start: base + (range.lowerBound - held.lowerBound) * rowBytes,
                                                    count: range.count * rowBytes)
            }
            for distance in 1...reach {
                for direction in [1, -1] {
                    let destination = me + direction * distance, source = me - direction * distance
                    let sendPeer = (0..<ranks).contains(destination) ? destination : nil
                    let receivePeer = (0..<ranks).contains(source) ? source : nil
                    let sendRange = sendPeer.map { transfer(me, $0) } ?? 0..<0
                    let receiveRange = receivePeer.map { transfer($0, me) } ?? 0..<0
                    try sendReceive(send: UnsafeRawBufferPointer(rows(sendRange)), sendCount: sendRange.count,
                                    to: sendPeer, receive: rows(receiveRange), receiveCount: receiveRange.count,
                                    from: receivePeer, unit: rowBytes)
                }
            }
        }
    }
}

// MARK: - MPI

extension Communicator: Collectives {
    /// Runs `body` with `MPI_BYTE` for a unit of one byte, else a contiguous type of `unit` bytes
    /// (freed afterwards).
    private func withUnit<T>(_ unit: Int, _ body: (Datatype) throws -> T) throws -> T {
        unit == 1 ? try body(.byte) : try Datatype.withContiguous(unit, of: .byte, body)
    }

    public func scatterv(send: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int], unit: Int,
                         receive: UnsafeMutableRawBufferPointer, receiveCount: Int, root: Int) throws {
        try withUnit(unit) { type in
            try scatterv(send: send, counts: counts, displacements: displacements, type: type, receive: receive,
                         receiveCount: receiveCount, root: root)
        }
    }

    public func scattervInPlaceAtRoot(send: UnsafeRawBufferPointer, counts: [Int], displacements: [Int],
                                      unit: Int) throws {
        try withUnit(unit) { type in
            try scattervInPlaceAtRoot(send: send, counts: counts, displacements: displacements, type: type)
        }
    }

    public func gatherv(send: UnsafeRawBufferPointer, sendCount: Int, unit: Int, receive: UnsafeMutableRawBufferPointer?,
                        counts: [Int], displacements: [Int], root: Int) throws {
        try withUnit(unit) { type in
            try gatherv(send: send, sendCount: sendCount, type: type, receive: receive, counts: counts,
                        displacements: displacements, root: root)
        }
    }

    public func sendReceive(send: UnsafeRawBufferPointer, sendCount: Int, to destination: Int?,
                            receive: UnsafeMutableRawBufferPointer, receiveCount: Int, from source: Int?,
                            unit: Int) throws {
        try withUnit(unit) { type in
            try sendReceive(send: send, sendCount: sendCount, to: destination, receive: receive,
                            receiveCount: receiveCount, from: source, type: type)
        }
    }

    public func readFile(_ path: String, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int,
                         unit: Int) throws {
        try File.withOpen(path, mode: .read, on: self) { file in
            try withUnit(unit) { type in try file.readAll(at: offset, into: buffer, count: count, type: type) }
        }
    }

    public func writeFile(_ path: String, _ writes: [FileWrite]) throws {
        try File.withOpen(path, mode: .createWrite, on: self) { file in
            for write in writes {
                try withUnit(write.unit) { type in
                    try file.writeAll(at: write.offset, from: write.bytes, count: write.count, type: type)
                }
            }
            try file.sync()
        }
    }
}
