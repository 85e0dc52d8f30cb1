#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MPIKit

/// Notices a rank that died while the service waits or works. Open MPI's launcher ends the
/// whole job about a second after a rank dies; the watch lets rank 0 answer the request in
/// flight with 503 (and say which rank) before that.
enum RankWatch {
    /// A rank's process: its pid and host, learnt once at start.
    struct Peer: Sendable {
        var rank: Int, pid: Int32, host: String

        /// Every rank's pid and host name, on every rank.
        static func all(over world: Communicator) throws -> [Peer] {
            var pids = [Int64](repeating: 0, count: world.size)
            pids[world.rank] = Int64(getpid())
            pids = try world.allReduce(pids, op: .sum)
            var peers: [Peer] = []
            for rank in 0..<world.size {
                var name = rank == world.rank ? Array(hostName.utf8) : []
                try world.broadcast(bytes: &name, root: rank)
                peers.append(Peer(rank: rank, pid: Int32(pids[rank]), host: String(decoding: name, as: UTF8.self)))
            }
            return peers
        }
    }

    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(cString: buffer)
    }

    /// Polls the ranks on this host every 100 ms (a stat of /proc each; ranks elsewhere are
    /// the launcher's to watch: it signals rank 0 when one is lost) and calls `lost` once with
    /// what happened.
    static func start(peers: [Peer], me: Int, lost: @escaping @Sendable (String) -> Void) {
        let here = hostName
        let local = peers.filter { $0.rank != me && $0.host == here }
        guard !local.isEmpty else { return }
        Thread.detachNewThread {
            while true {
                usleep(100_000)
                if let gone = local.first(where: { !isAlive($0.pid) }) {
                    lost("rank \(gone.rank) (pid \(gone.pid) on \(gone.host)) exited")
                    return
                }
            }
        }
    }

    /// Whether the process runs (a zombie, dead but not yet reaped, does not).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return kill(pid, 0) == 0 }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }
}
