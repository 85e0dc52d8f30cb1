import Foundation
import MPIKit

/// The in-process world's tagged messages: one list in arrival order, taken by receiver, tag
/// and (optionally) sender, so per sender and tag the order is the order of sending, as in MPI.
final class TaggedMessages: @unchecked Sendable {
    private struct Entry { var from: Int, to: Int, tag: Int, bytes: [UInt8] }

    private let condition = NSCondition()
    private var entries: [Entry] = []
    private var abandoned = false

    func post(_ bytes: [UInt8], from: Int, to: Int, tag: Int) {
        condition.lock()
        entries.append(Entry(from: from, to: to, tag: tag, bytes: bytes))
        condition.broadcast()
        condition.unlock()
    }

    /// The first waiting message for `to` with `tag` (from `from`, or anyone); with `wait`, waits
    /// up to `timeout` seconds for one.
    func take(to: Int, from: Int?, tag: Int, wait: Bool, timeout: Double) throws -> Message? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let index = entries.firstIndex(where: { $0.to == to && $0.tag == tag && (from == nil || $0.from == from) }) {
                let entry = entries.remove(at: index)
                return Message(source: entry.from, bytes: entry.bytes)
            }
            // A rank that threw ends the others' polling too, not only their waits.
            if abandoned { throw InProcessWorldError.abandoned }
            guard wait else { return nil }
            guard condition.wait(until: deadline) else { throw InProcessWorldError.timedOut(rank: to, from: from ?? -1) }
        }
    }

    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }
}

extension InProcessRank: Messaging {
    public func post(_ bytes: [UInt8], to destination: Int, tag: Int) throws -> PendingSend {
        mailboxes.tagged.post(bytes, from: rank, to: destination, tag: tag)
        return .completed
    }

    public func receive(from source: Int?, tag: Int) throws -> Message {
        try mailboxes.tagged.take(to: rank, from: source, tag: tag, wait: true, timeout: mailboxes.timeout)!
    }

    public func poll(tag: Int) throws -> Message? {
        try mailboxes.tagged.take(to: rank, from: nil, tag: tag, wait: false, timeout: 0)
    }
}
