import CMPI

extension Communicator {
    /// Fills the rows of `buffer` that other ranks own, for an array of rows split over the ranks.
    ///
    /// `buffer` holds rows `held` (this rank's owned rows, already in place, plus the rows it
    /// needs from others); `transfer(owner, receiver)` names the rows `receiver` needs from
    /// `owner`, and every rank must compute it identically. Step `d` pairs each rank with the
    /// ranks `d` above and `d` below through `MPI_Sendrecv` (first sending down, then up), so
    /// no rank waits on a send that is never received; `reach` is the largest `d` over which
    /// any rows move (1 unless bands are thinner than the halo). This is the standard-conforming
    /// way to give bands overlapping rows: the scatter that precedes it reads each root
    /// location once.
    public func exchangeRows(buffer: UnsafeMutableRawBufferPointer, held: Range<Int>, rowBytes: Int,
                             rowType: Datatype, reach: Int,
                             transfer: (_ owner: Int, _ receiver: Int) -> Range<Int>) throws(MPIError) {
        let me = rank, ranks = size
        guard reach > 0 else { return }
        // A rank with no rows still takes part in every step (with zero counts), so it needs
        // some address even when its buffer is empty.
        var spare: UInt8 = 0
        try withUnsafeMutableBytes(of: &spare) { (spareBytes) throws(MPIError) in
            let base = buffer.baseAddress ?? spareBytes.baseAddress!
        func rows(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: base + (range.lowerBound - held.lowerBound) * rowBytes,
                                          count: range.count * rowBytes)
        }
        let empty = UnsafeMutableRawBufferPointer(start: base, count: 0)
        for distance in 1...reach {
            for direction in [1, -1] {
                let destination = me + direction * distance, source = me - direction * distance
                let sendPeer = (0..<ranks).contains(destination) ? destination : nil
                let receivePeer = (0..<ranks).contains(source) ? source : nil
                let sendRange = sendPeer.map { transfer(me, $0) } ?? 0..<0
                let receiveRange = receivePeer.map { transfer($0, me) } ?? 0..<0
                try sendReceive(send: UnsafeRawBufferPointer(sendRange.isEmpty ? empty : rows(sendRange)),
                                sendCount: sendRange.count, to: sendPeer,
                                receive: receiveRange.isEmpty ? empty : rows(receiveRange),
                                receiveCount: receiveRange.count, from: receivePeer, type: rowType)
            }
        }
        }
    }
}
