#if canImport(Glibc)
import Glibc
#endif
import BandsawService
import Foundation
import ImageCore
import MPIKit
import SPMDEngine

/// Rank 0 of the service: the HTTP server on threads of its own, and this (the MPI) thread
/// taking jobs from the queue (several at once when they share a pipeline), telling every rank
/// what comes next and running its share.
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

        // One rank has no one to deal to: every job runs alone, as the command line would.
        let limit = world.size > 1 ? ServeBatch.limit : 1
        while true {
            let jobs = queue.nextBatch(limit: limit)
            if jobs.isEmpty { break }
            do {
                try run(jobs, queue: queue)
            } catch let error as MPIError {
                // The ranks can no longer agree: answer, then leave without MPI_Finalize (it
                // would wait for the lost rank).
                stopper.lost("node lost during the job: \(error)")
            } catch {
                for job in jobs { job.finish(.failure(500, "\(error)")) }
            }
        }
        var stop: [Int64] = [ServeWord.stop.rawValue]
        try world.broadcastWaiting(&stop)
        Task.detached { await http.stop() }
        _ = ended.wait(timeout: .now() + 5)
        return failure.isSet ? .failure : .success
    }
}

extension ServiceRoot {
    /// Runs jobs that share one descriptor: one alone (banded across every rank, as the command
    /// line runs it), or several stored first and then run as a batch (``ServeBatch``) when at
    /// least two could be stored, which the jobs of that pipeline arriving meanwhile join.
    ///
    /// A lone job stays banded even when it is small: dealt to one rank instead (same bytes for
    /// JPEG), a lone 2 MP JPEG's round trip was 36.0 ms against 31.8 ms banded (1 MP: 27.9
    /// against 26.3), and 8 clients' throughput did not measurably change either way.
    private func run(_ jobs: [QueuedJob], queue: JobQueue) throws {
        let descriptor = JobDescriptor(options: jobs[0].request.options, format: jobs[0].request.format)
        var stored: [(job: QueuedJob, folder: JobFolder)] = []
        if jobs.count > 1 {
            for job in jobs {
                switch JobFolder.make(for: job.request, in: scratch) {
                case .success(let folder): stored.append((job, folder))
                case .failure(let failure): job.finish(failure.result)
                }
            }
        }
        guard stored.count > 1 else {
            for entry in stored { entry.folder.remove() }
            for job in jobs where jobs.count == 1 || stored.contains(where: { $0.job === job }) {
                try runAlone(job, descriptor)
            }
            return
        }
        try tell(.batch, descriptor)
        var count: [Int64] = [Int64(stored.count)]
        try world.broadcast(&count)
        try ServeBatch.run(stored.map(\.job), folders: stored.map(\.folder), descriptor: descriptor,
                           maxPixels: options.maxPixels, world: world, queue: queue, scratch: scratch)
    }

    /// One job banded across every rank.
    private func runAlone(_ job: QueuedJob, _ descriptor: JobDescriptor) throws {
        try tell(.job, descriptor)
        do {
            job.finish(try JobRunner.run(job.request, maxPixels: options.maxPixels, scratch: scratch, world: world))
        } catch let error as MPIError {
            throw error
        } catch {
            job.finish(.failure(500, "\(error)"))
        }
    }

    /// Wakes every rank with `word`, then sends the jobs' descriptor.
    private func tell(_ word: ServeWord, _ descriptor: JobDescriptor) throws {
        var raw: [Int64] = [word.rawValue]
        try world.broadcastWaiting(&raw)
        var bytes = Array(try JSONEncoder().encode(descriptor))
        try world.broadcast(bytes: &bytes)
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
