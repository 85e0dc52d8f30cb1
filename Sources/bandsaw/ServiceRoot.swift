#if canImport(Glibc)
import Glibc
#endif
import BandsawService
import Foundation
import ImageCore
import MPIKit
import SPMDEngine

/// Rank 0 of the service: the HTTP server on threads of its own, and this (the MPI) thread
/// taking jobs from the queue, telling every rank what comes next and running its share.
struct ServiceRoot {
    let world: Communicator
    let options: ServiceOptions
    let peers: [RankWatch.Peer]
    /// Where each job's private folder is made.
    let scratch: String

    func run() throws -> ExitStatus {
        let queue = JobQueue(capacity: options.queueLength)
        let http = HTTPService(options: options, queue: queue, opsJSON: (try? OpsCommand.jsonText()) ?? "[]",
                               validate: { JobDescriptor.check(options: $0, format: $1) })
        let ended = DispatchSemaphore(value: 0)
        let failure = LockedFlag()
        let host = options.host, ranks = world.size
        Task.detached {
            do {
                try await http.run { port in
                    Console.out("bandsaw serve: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port) with \(ranks) rank\(ranks == 1 ? "" : "s")")
                }
            } catch {
                Console.error("cannot serve on \(host):\(options.port): \(error)")
                failure.set()
                queue.close(with: .failure(503, "the service could not start"))
            }
            ended.signal()
        }
        let stopper = Stopper(queue: queue, http: http)
        ServeSignals.install { sender in stopper.signalled(by: sender) }
        RankWatch.start(peers: peers, me: world.rank) { what in
            stopper.lost("node lost\(queue.isBusy ? " during the job" : ""): \(what); the service is stopping")
        }

        while let job = queue.next() {
            var word: [Int64] = [ServeWord.job.rawValue]
            try world.broadcastWaiting(&word)
            var bytes = Array((try JSONEncoder().encode(JobDescriptor(options: job.request.options, format: job.request.format))))
            try world.broadcast(bytes: &bytes)
            do {
                job.finish(try JobRunner.run(job.request, maxPixels: options.maxPixels, scratch: scratch, world: world))
            } catch let error as MPIError {
                // The ranks can no longer agree: answer, then leave without MPI_Finalize (it
                // would wait for the lost rank).
                stopper.lost("node lost during the job: \(error)")
            } catch {
                job.finish(.failure(500, "\(error)"))
            }
        }
        var stop: [Int64] = [ServeWord.stop.rawValue]
        try world.broadcastWaiting(&stop)
        Task.detached { await http.stop() }
        _ = ended.wait(timeout: .now() + 5)
        return failure.isSet ? .failure : .success
    }
}

/// Ends the service on a signal or a lost rank, once.
final class Stopper: @unchecked Sendable {
    let queue: JobQueue
    let http: HTTPService
    private let once = LockedFlag()

    init(queue: JobQueue, http: HTTPService) { self.queue = queue; self.http = http }

    /// SIGTERM or SIGINT from `sender`. The launcher (our parent: mpirun, or its daemon on this
    /// host) signals a rank when it is ending the whole job: a rank or node was lost, or mpirun
    /// itself was stopped; it kills the ranks a second later, so a running job cannot finish.
    /// Anyone else asks for a drain: finish the job in progress, then stop.
    func signalled(by sender: pid_t) {
        if sender == getppid() && queue.isBusy {
            lost("node lost during the job: the MPI launcher (pid \(sender)) is ending the job: a rank or its node was lost, or mpirun was stopped")
            return
        }
        guard once.setFirst() else { return }
        Console.note("stopping: finishing the job in progress, taking no new ones")
        queue.close(with: .failure(503, HTTPService.stoppingLine))
        Task.detached { [http] in await http.stop() }
    }

    /// A rank is gone: the running job and every waiting one get 503 with `line`, then the
    /// process leaves with exit 1 (MPI cannot finalise without the lost rank).
    func lost(_ line: String) {
        guard once.setFirst() else { return }
        Console.error(line)
        queue.close(with: .failure(503, line), includingRunning: true)
        Task.detached { [http] in await http.stop() }
        // Time for the answers to reach the clients.
        usleep(400_000)
        _exit(1)
    }
}

/// A flag set once, from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }

    /// Sets the flag; true for the one caller that set it first.
    func setFirst() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if value { return false }
        value = true
        return true
    }
}
