import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MPIKit

/// N ranks as N threads of this process, passing real messages in memory: the engine's
/// protocol logic (bands, halos, agreement, fallbacks, faults) runs and is tested without
/// mpirun, as swift-nio's embedded channel tests a handler without sockets.
///
/// Every send copies its bytes into the receiver's mailbox and returns at once (a buffered
/// send); a receive waits for the next message from that rank. Collectives are built from
/// those messages in the obvious way (the root sends to or receives from every rank), so they
/// keep MPI's rule that every rank calls them in the same order. A rank whose body throws
/// wakes every waiting rank with ``InProcessWorldError/abandoned``, and a receive that waits
/// longer than the world's timeout throws ``InProcessWorldError/timedOut(rank:from:)``: a
/// protocol bug ends a test instead of hanging it.
public enum InProcessWorld {
    /// Runs `body` on `ranks` threads, one per rank, and returns each rank's result by rank.
    public static func run<T: Sendable>(ranks: Int, timeout: Double = 60,
                                        _ body: @escaping @Sendable (InProcessRank) throws -> T) -> [Result<T, any Error>] {
        precondition(ranks >= 1, "no ranks")
        let hub = Mailboxes(ranks: ranks, timeout: timeout)
        let results = ResultSlots<T>(count: ranks)
        let done = DispatchGroup()
        for rank in 0..<ranks {
            done.enter()
            let thread = Thread {
                let outcome = Result { try body(InProcessRank(rank: rank, mailboxes: hub)) }
                if case .failure = outcome { hub.abandon() }
                results.set(rank, outcome)
                done.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        return results.all
    }
}

/// Why an in-process collective did not complete.
public enum InProcessWorldError: Error, Equatable, CustomStringConvertible {
    /// Another rank's body threw while this one waited.
    case abandoned
    /// No message from `from` reached `rank` within the world's timeout.
    case timedOut(rank: Int, from: Int)
    /// A message longer than the receive buffer (MPI would report truncation).
    case truncated(rank: Int, from: Int)
    /// A file could not be opened, read or written.
    case file(String)

    public var description: String {
        switch self {
        case .abandoned: "another rank failed"
        case .timedOut(let rank, let from): "rank \(rank) waited too long for rank \(from)"
        case .truncated(let rank, let from): "rank \(rank) received a message from rank \(from) longer than its buffer"
        case .file(let what): what
        }
    }
}

/// One rank of an ``InProcessWorld``.
public struct InProcessRank: Collectives, Sendable {
    public let rank: Int
    let mailboxes: Mailboxes
    public var size: Int { mailboxes.ranks }

    private func send(_ bytes: UnsafeRawBufferPointer, to peer: Int, _ channel: Mailboxes.Channel) {
        mailboxes.post(Array(bytes), from: rank, to: peer, channel)
    }

    private func receive(from peer: Int, _ channel: Mailboxes.Channel) throws -> [UInt8] {
        try mailboxes.take(from: peer, to: rank, channel)
    }

    /// Receives into `buffer` (at most its size), returning the bytes received.
    @discardableResult
    private func receive(into buffer: UnsafeMutableRawBufferPointer, from peer: Int,
                         _ channel: Mailboxes.Channel) throws -> Int {
        let message = try receive(from: peer, channel)
        guard message.count <= buffer.count else { throw InProcessWorldError.truncated(rank: rank, from: peer) }
        message.withUnsafeBytes { if let base = buffer.baseAddress, $0.count > 0 { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        return message.count
    }

    public func broadcast(_ values: inout [Int64], root: Int) throws {
        if rank == root {
            try values.withUnsafeBytes { bytes in for peer in 0..<size where peer != root { send(bytes, to: peer, .collective) } }
        } else {
            try values.withUnsafeMutableBytes { try receive(into: $0, from: root, .collective) }
        }
    }

    public func broadcast(bytes: inout [UInt8], root: Int) throws {
        if rank == root {
            bytes.withUnsafeBytes { data in for peer in 0..<size where peer != root { send(data, to: peer, .collective) } }
        } else {
            bytes = try receive(from: root, .collective)
        }
    }

    public func scatterv(send data: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int], unit: Int,
                         receive buffer: UnsafeMutableRawBufferPointer, receiveCount: Int, root: Int) throws {
        if rank == root, let data {
            for peer in 0..<size {
                let run = UnsafeRawBufferPointer(rebasing: data[(displacements[peer] * unit)..<((displacements[peer] + counts[peer]) * unit)])
                if peer == root {
                    if run.count > 0 { buffer.baseAddress!.copyMemory(from: run.baseAddress!, byteCount: run.count) }
                } else {
                    send(run, to: peer, .collective)
                }
            }
        } else {
            try receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(receiveCount * unit)), from: root, .collective)
        }
    }

    public func scattervInPlaceAtRoot(send data: UnsafeRawBufferPointer, counts: [Int], displacements: [Int],
                                      unit: Int) throws {
        for peer in 0..<size where peer != rank {
            send(UnsafeRawBufferPointer(rebasing: data[(displacements[peer] * unit)..<((displacements[peer] + counts[peer]) * unit)]),
                 to: peer, .collective)
        }
    }

    public func gatherv(send data: UnsafeRawBufferPointer, sendCount: Int, unit: Int,
                        receive buffer: UnsafeMutableRawBufferPointer?, counts: [Int], displacements: [Int],
                        root: Int) throws {
        let mine = UnsafeRawBufferPointer(rebasing: data.prefix(sendCount * unit))
        guard rank == root, let buffer else { return send(mine, to: root, .collective) }
        for peer in 0..<size {
            let place = UnsafeMutableRawBufferPointer(
                rebasing: buffer[(displacements[peer] * unit)..<((displacements[peer] + counts[peer]) * unit)])
            if peer == root {
                if mine.count > 0 { place.baseAddress!.copyMemory(from: mine.baseAddress!, byteCount: mine.count) }
            } else {
                try receive(into: place, from: peer, .collective)
            }
        }
    }

    public func sendReceive(send data: UnsafeRawBufferPointer, sendCount: Int, to destination: Int?,
                            receive buffer: UnsafeMutableRawBufferPointer, receiveCount: Int, from source: Int?,
                            unit: Int) throws {
        if let destination { send(UnsafeRawBufferPointer(rebasing: data.prefix(sendCount * unit)), to: destination, .pointToPoint) }
        if let source {
            try receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(receiveCount * unit)), from: source, .pointToPoint)
        }
    }

    public func allReduce(_ values: [Int64], op: Reduction) throws -> [Int64] {
        var result = try combine(values, op: op, root: 0)
        try broadcast(&result, root: 0)
        return result
    }

    public func reduce(_ values: [Double], op: Reduction, root: Int) throws -> [Double] {
        try combine(values, op: op, root: root)
    }

    /// Every rank's `values` combined on `root` (`values` elsewhere).
    private func combine<V: Numeric & Comparable>(_ values: [V], op: Reduction, root: Int) throws -> [V] {
        guard rank == root else {
            values.withUnsafeBytes { send($0, to: root, .collective) }
            return values
        }
        var result = values
        for peer in 0..<size where peer != root {
            let message = try receive(from: peer, .collective)
            var theirs = [V](repeating: 0, count: values.count)
            theirs.withUnsafeMutableBytes { out in message.withUnsafeBytes { out.copyMemory(from: $0) } }
            for i in result.indices {
                switch op {
                case .min: result[i] = Swift.min(result[i], theirs[i])
                case .max: result[i] = Swift.max(result[i], theirs[i])
                case .sum: result[i] += theirs[i]
                }
            }
        }
        return result
    }

    /// Every rank has arrived.
    private func barrier() throws { _ = try allReduce([0], op: .max) }

    public func readFile(_ path: String, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int,
                         unit: Int) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InProcessWorldError.file("cannot open \(path)") }
        defer { close(fd) }
        let wanted = count * unit
        guard wanted == 0 || pread(fd, buffer.baseAddress, wanted, off_t(offset)) == wanted else {
            throw InProcessWorldError.file("short read of \(path)")
        }
        try barrier()
    }

    public func writeFile(_ path: String, _ writes: [FileWrite]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw InProcessWorldError.file("cannot open \(path)") }
        defer { close(fd) }
        for write in writes where write.count > 0 {
            let n = write.count * write.unit
            guard pwrite(fd, write.bytes.baseAddress, n, off_t(write.offset)) == n else {
                throw InProcessWorldError.file("short write to \(path)")
            }
        }
        guard fsync(fd) == 0 else { throw InProcessWorldError.file("cannot sync \(path)") }
        try barrier()
    }
}

/// The in-process world's messages: one queue per sender, receiver and channel.
final class Mailboxes: @unchecked Sendable {
    /// Collectives and point-to-point steps travel apart, as MPI keeps them apart.
    enum Channel: Int { case collective = 0, pointToPoint = 1 }

    let ranks: Int
    let timeout: Double
    /// Tagged messages (``Messaging``), kept apart from the collectives' queues.
    let tagged = TaggedMessages()
    private let condition = NSCondition()
    private var messages: [[[UInt8]]]
    private var abandoned = false

    init(ranks: Int, timeout: Double) {
        self.ranks = ranks
        self.timeout = timeout
        messages = Array(repeating: [], count: ranks * ranks * 2)
    }

    private func index(_ from: Int, _ to: Int, _ channel: Channel) -> Int { (from * ranks + to) * 2 + channel.rawValue }

    func post(_ message: [UInt8], from: Int, to: Int, _ channel: Channel) {
        condition.lock()
        messages[index(from, to, channel)].append(message)
        condition.broadcast()
        condition.unlock()
    }

    func take(from: Int, to: Int, _ channel: Channel) throws -> [UInt8] {
        let slot = index(from, to, channel)
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while messages[slot].isEmpty {
            if abandoned { throw InProcessWorldError.abandoned }
            guard condition.wait(until: deadline) else { throw InProcessWorldError.timedOut(rank: to, from: from) }
        }
        return messages[slot].removeFirst()
    }

    /// Wakes every waiting rank with ``InProcessWorldError/abandoned``.
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
        tagged.abandon()
    }
}

/// Each rank's result, written by its thread.
private final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ rank: Int, _ result: Result<T, any Error>) {
        lock.lock()
        slots[rank] = result
        lock.unlock()
    }

    var all: [Result<T, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
