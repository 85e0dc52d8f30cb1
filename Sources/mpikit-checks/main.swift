// Checks of MPIKit under a real mpirun, run by Tests/EndToEndTests/MPIKitTests.swift:
//
//     mpirun -np 3 mpikit-checks
//
// Every rank runs every check; rank 0 prints one line per check, "ok NAME" or
// "FAIL NAME: why", and the process exits 1 if any check failed on any rank.
#if canImport(Glibc)
import Glibc
#endif
import ImageCore
import MPIKit

nonisolated(unsafe) var failures: [String] = []  // one thread
func expect(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { failures.append(what()) }
}

let status: Int32 = try MPI.run { world in
    let rank = world.rank, size = world.size
    var results: [(String, Bool)] = []

    // Each check collects failures on every rank; the ranks agree on the verdict.
    func check(_ name: String, _ body: () throws -> Void) throws {
        failures = []
        do { try body() } catch { failures.append("threw \(error)") }
        let bad = try world.allReduce([failures.isEmpty ? 0 : 1], op: .max)[0]
        if rank == 0 { print(bad == 0 ? "ok \(name)" : "FAIL \(name): \(failures.first ?? "on another rank")") }
        results.append((name, bad == 0))
    }

    try check("a count over Int32.max throws before any MPI call") {
        let big = Int(Int32.max) + 1
        var buffer = [UInt8](repeating: 0, count: 1)
        do {
            try buffer.withUnsafeMutableBytes { b in
                try world.scatterv(send: nil, counts: [Int](repeating: big, count: size), displacements: [Int](repeating: 0, count: size),
                                   type: .byte, receive: b, receiveCount: big)
            }
            expect(false, "no error for count \(big)")
        } catch let error as MPIError {
            expect(error.call == "MPI_Scatterv" && error.message.contains("\(big)"), "wrong error: \(error)")
        }
    }

    try check("an MPI error comes back as MPIError with MPI's words, not an abort") {
        var values: [Int64] = [1]
        do {
            try world.broadcast(&values, root: size + 5)
            expect(false, "a broadcast from rank \(size + 5) succeeded")
        } catch let error as MPIError {
            expect(error.code != 0 && !error.message.isEmpty && error.description.hasPrefix("MPI MPI_Bcast failed"), "\(error)")
        }
    }

    try check("broadcastWaiting delivers each root's values, after a late root too, and sleeps while it waits") {
        for root in 0..<size {
            var values: [Int64] = rank == root ? [Int64(root) * 7, -3, Int64.max] : [0, 0, 0]
            try world.broadcastWaiting(&values, root: root)
            expect(values == [Int64(root) * 7, -3, Int64.max], "from rank \(root): \(values)")
        }
        // The root comes 300 ms late: the others wait in the back-off, not in a busy loop.
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let before = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        if rank == 0 { usleep(300_000) }
        var late: [Int64] = rank == 0 ? [42] : [0]
        try world.broadcastWaiting(&late)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let after = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        expect(late == [42], "late root: \(late)")
        // A spinning wait would use about the whole 0.3 s; the back-off uses a few ms.
        expect(rank == 0 || after - before < 0.15, "rank \(rank) used \(after - before) s of CPU waiting 0.3 s")
    }

    try check("allReduce max and min, broadcast of bytes from the last rank") {
        let max = try world.allReduce([Int64(rank), Int64(-rank)], op: .max)
        let min = try world.allReduce([Int64(rank)], op: .min)
        expect(max == [Int64(size - 1), 0] && min == [0], "max \(max) min \(min)")
        var text = rank == size - 1 ? Array("from the last rank".utf8) : []
        try world.broadcast(bytes: &text, root: size - 1)
        expect(String(decoding: text, as: UTF8.self) == "from the last rank", "got \(text)")
    }

    try check("scatter, halo exchange and gather with more ranks than rows (empty bands)") {
        let height = max(1, size - 2), width = 3
        for halo in [0, 1, 3] {
            let plan = BandPlan(height: height, ranks: size, halo: halo)
            let share = plan.shares[rank]
            let image = (0..<(height * width)).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
            var band = [UInt8](repeating: 0, count: share.needed.count * width)
            do {
                try band.withUnsafeMutableBytes { buffer in
                    let offset = share.haloAbove * width
                    let owned = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + share.owned.count * width)])
                    if rank == 0 {
                        try image.withUnsafeBytes { send in
                            try world.scatterv(send: send, counts: plan.ownedCounts, displacements: plan.ownedDisplacements,
                                               unit: width, receive: owned, receiveCount: share.owned.count, root: 0)
                        }
                    } else {
                        try world.scatterv(send: nil, counts: plan.ownedCounts, displacements: plan.ownedDisplacements,
                                           unit: width, receive: owned, receiveCount: share.owned.count, root: 0)
                    }
                    try world.exchangeRows(buffer: buffer, held: share.needed, rowBytes: width,
                                           reach: plan.exchangeReach, transfer: plan.transfer)
                }
                let expected = share.needed.isEmpty ? [] : Array(image[(share.needed.lowerBound * width)..<(share.needed.upperBound * width)])
                expect(band == expected, "halo \(halo): rank \(rank) holds \(band), wants \(expected)")
                var gathered = [UInt8](repeating: 0, count: rank == 0 ? height * width : 0)
                let mine = Array(band[(share.haloAbove * width)..<((share.haloAbove + share.owned.count) * width)])
                try mine.withUnsafeBytes { send in
                    try gathered.withUnsafeMutableBytes { receive in
                        try world.gatherv(send: send, sendCount: share.owned.count, unit: width, receive: rank == 0 ? receive : nil,
                                          counts: plan.ownedCounts, displacements: plan.ownedDisplacements, root: 0)
                    }
                }
                if rank == 0 { expect(gathered == image, "halo \(halo): gathered \(gathered)") }
            }
        }
    }

    try check("MPI-IO: every rank writes and reads back its own part, some ranks none") {
        var name = rank == 0 ? Array("/tmp/mpikit-checks-\(getpid()).bin".utf8) : []
        try world.broadcast(bytes: &name)
        let path = String(decoding: name, as: UTF8.self)
        defer { if rank == 0 { unlink(path) } }
        let count = rank % 2 == 0 ? 5 : 0
        let mine = [UInt8](repeating: UInt8(rank + 1), count: count)
        try File.withOpen(path, mode: .createWrite, on: world) { file in
            try mine.withUnsafeBytes { try file.writeAll(at: rank * 5, from: $0, count: count, type: .byte) }
            try file.sync()
        }
        var back = [UInt8](repeating: 0, count: count)
        try File.withOpen(path, mode: .read, on: world) { file in
            try back.withUnsafeMutableBytes { try file.readAll(at: rank * 5, into: $0, count: count, type: .byte) }
        }
        expect(back == mine, "read back \(back)")
    }

    return results.allSatisfy(\.1) ? 0 : 1
}
exit(status)
