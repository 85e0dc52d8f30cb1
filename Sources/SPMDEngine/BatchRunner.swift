import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit

/// Runs a list of images on all ranks by a ``Schedule``: images dealt whole to ranks as they
/// become free (each rank runs the engine alone on a ``SingleRank`` world, so every output has
/// the bits of a one-process run), then the images banded across all ranks (``SPMDRunner``,
/// one image at a time, as a single image is always run).
///
/// Dealing: rank 0 keeps every worker ``Dealer/ahead`` images ahead and processes images
/// itself in between, answering the workers' reports between its own images (no dealer
/// thread: the queue a worker holds covers the time rank 0 spends on one image). A worker that
/// sees an input file as rank 0 does (same path, size and first KiB) reads it itself, and
/// writes its output itself when it can read a marker rank 0 wrote in the output folder;
/// otherwise rank 0 sends the file's stored bytes and receives the encoded output. Pixels never
/// travel for a dealt image.
public struct BatchRunner {
    let world: any Collectives & Messaging
    let settings: RunSettings
    let schedule: Schedule
    let events: RunEvents
    let fault: FaultInjection?
    let ahead: Int
    /// Rank 0's source of images that arrive while the batch runs (an open batch, the
    /// service's): called between images while dealing; what it returns is dealt into the
    /// running batch, and the dealing ends when it returns nothing and no image is out. With a
    /// feed, a batch too short to deal (fewer images than ranks) is dealt all the same: more
    /// may join it.
    public var feed: (() -> [ImageJob])? = nil
    /// Rank 0's whole batch as listed, when the jobs run are what is left of it (the others'
    /// outputs exist: `--skip-existing`): the plan is made over the whole, so a resumed batch
    /// runs every image as the uninterrupted batch would have (a PNG banded across ranks has
    /// other bytes than one dealt whole, and two images left on three ranks would be banded).
    public var planning: [ImageJob]? = nil

    /// - Parameters:
    ///   - ahead: How many images each worker holds at once (the one it works on included); nil:
    ///     ``aheadFor(medianBytes:)`` of the batch.
    public init(world: any Collectives & Messaging, settings: RunSettings, schedule: Schedule = .auto,
                events: RunEvents = RunEvents(), fault: FaultInjection? = nil, ahead: Int? = nil) {
        self.world = world; self.settings = settings; self.schedule = schedule; self.events = events
        self.fault = fault; self.ahead = ahead.map { max(1, $0) } ?? 0
    }

    /// How many images a worker holds for images of this median size: enough work queued to
    /// ride out rank 0 being busy with its own image or descheduled on a shared machine (about
    /// 2 MiB of input, and never fewer than 4 images), and few enough that the end of the batch
    /// stays even (what a worker holds when the queue runs dry, the others cannot take). With 2
    /// images of 1600x1200 held, the worker of a 2-rank batch of 200 JPEGs sat idle a quarter
    /// of the time (busy 1.7 s of 2.2 s); with 4 both ranks were busy to the end.
    public static func aheadFor(medianBytes: Int) -> Int { min(8, max(4, (2 << 20) / max(1, medianBytes))) }

    /// Runs rank 0's list (`.worker` elsewhere). A single image or a refused list goes to
    /// ``SPMDRunner`` as it is; a batch is planned by size and run by the plan.
    public func run(_ jobs: JobList) throws -> RunOutcome {
        var plan = BatchPlan(dealt: [], banded: [])
        var list: [ImageJob] = []
        var median = 0
        var header: [Int64] = [0, 0, 0, 0]
        let whole = planning ?? []
        if case .jobs(let found) = jobs, found.count > 1 || (feed != nil && !found.isEmpty)
            || (whole.count > 1 && !found.isEmpty) {
            list = found
            func size(_ job: ImageJob) -> Int {
                var info = stat()
                return stat(job.input, &info) == 0 ? Int(info.st_size) : 0
            }
            let sizes = found.map(size)
            if whole.count > 1 {
                let wholePlan = BatchPlan.make(sizes: whole.map(size), ranks: world.size, schedule: schedule)
                let position = Dictionary(found.indices.map { (found[$0].output, $0) }, uniquingKeysWith: { first, _ in first })
                plan = BatchPlan(dealt: wholePlan.dealt.compactMap { position[whole[$0].output] },
                                 banded: wholePlan.banded.compactMap { position[whole[$0].output] })
            } else {
                plan = BatchPlan.make(sizes: sizes, ranks: world.size, schedule: schedule)
            }
            if feed != nil && plan.dealt.isEmpty {
                // Too few to deal for now, but more may come: dealt, so that they join in.
                plan = BatchPlan(dealt: found.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 },
                                 banded: [])
            }
            median = sizes.sorted()[sizes.count / 2]
            // Outputs are committed off the image's path only when no two images share one
            // (the command line refuses such a list; an engine caller might not).
            let distinct = Set(found.map(\.output)).count == found.count
            header = [1, Int64(plan.dealt.count), Int64(plan.banded.count), distinct ? 1 : 0]
        }
        try world.broadcast(&header)
        guard header[0] == 1 else {
            return try SPMDRunner(world: world, settings: settings, events: events, fault: fault).run(jobs)
        }
        let start = monotonicSeconds()
        if world.rank == 0 { events.planned(list.count) }
        let committer = header[3] == 1 ? OutputCommitter() : nil
        defer { committer?.stop() }
        var batch = Batch(ranks: world.size)
        if header[1] > 0 {
            if world.rank == 0 {
                try deal(plan.dealt, of: list, ahead: ahead > 0 ? ahead : Self.aheadFor(medianBytes: median),
                         committer: committer, into: &batch)
            } else {
                try work(committer: committer)
            }
        }
        for index in 0..<Int(header[2]) {
            let job = world.rank == 0 ? list[plan.banded[index]] : nil
            try band(job, committer: committer, into: &batch)
            if let committer { batch.settle(committer.take(), events: events) }
        }
        if let committer { batch.settle(committer.takeAll(), events: events) }
        var report = RunReport(ranks: world.size, halo_mode: settings.haloMode.rawValue,
                               pipeline: settings.specs.map(\.description).joined(separator: " | "), images: batch.images)
        if world.rank == 0 {
            report.schedule = schedule.rawValue
            report.batch = batch.entries
            report.rank_load = batch.load
            report.elapsed_ms = ((monotonicSeconds() - start) * 1_000_000).rounded() / 1000
        }
        // Workers learn the worst status from rank 0, so every rank exits alike.
        var worst: [Int64] = [Int64(batch.worst.rawValue)]
        try world.broadcast(&worst)
        return RunOutcome(status: RunStatus(rawValue: Int(worst[0])) ?? .failure, report: report)
    }

    /// What rank 0 gathers while the batch runs.
    private struct Batch {
        var images: [ImageReport] = []
        var entries: [BatchEntry] = []
        var load: [RankLoad]
        var worst = RunStatus.success

        /// An image of rank 0's whose output waits for the committer: recorded once renamed.
        struct Awaiting {
            var entry: BatchEntry
            var report: ImageReport?
            var status: RunStatus
            var allRanks: Bool
        }
        /// By output path (distinct within a batch that commits this way).
        var awaiting: [String: Awaiting] = [:]

        init(ranks: Int) { load = (0..<ranks).map { RankLoad(rank: $0, images: 0, busy_s: 0) } }

        mutating func add(_ entry: BatchEntry, report: ImageReport?, status: RunStatus, allRanks: Bool) {
            entries.append(entry)
            if let report { images.append(report) }
            worst = max(worst, status)
            for rank in allRanks ? Array(load.indices) : [entry.rank] {
                load[rank].images += 1
                load[rank].busy_s = ((load[rank].busy_s + entry.seconds) * 1e6).rounded() / 1e6
            }
        }

        /// Records the images whose outputs the committer finished (a failed sync or rename
        /// fails the image, with its line, as a failed write would have).
        mutating func settle(_ completions: [OutputCommitter.Completion], events: RunEvents) {
            for completion in completions {
                guard var held = awaiting.removeValue(forKey: completion.output) else { continue }
                if let failure = completion.failure {
                    events.failed(failure.message)
                    held.entry.status = "failed"
                    held.report = nil
                    held.status = failure.status
                }
                held.entry.exit = held.status.rawValue
                if let report = held.report { events.finished(report) }
                add(held.entry, report: held.report, status: held.status, allRanks: held.allRanks)
                events.ended(held.entry)
            }
        }
    }

    // MARK: - Banded

    /// One image across all ranks (rank 0 holds `job`). On one rank, its output is committed off
    /// its path as a dealt image's is: a one-process folder is the baseline a dealt batch is
    /// measured against, and pays the disk's wait no more than it.
    private func band(_ job: ImageJob?, committer: OutputCommitter?, into batch: inout Batch) throws {
        let start = monotonicSeconds()
        var banded = settings
        var local = events
        if world.size == 1, let committer {
            banded.committer = committer
            // Reported from `settle`, once renamed.
            local.finished = { _ in }
        }
        let outcome = try SPMDRunner(world: world, settings: banded, events: local, fault: fault)
            .run(job.map { .jobs([$0]) } ?? .worker)
        guard let job else { return }
        let report = outcome.report.images.first
        let entry = BatchEntry(input: job.input, output: job.output, rank: 0, schedule: "banded",
                               status: outcome.status == .success ? "written" : "failed",
                               seconds: monotonicSeconds() - start, input_access: "read", output_access: "wrote",
                               megapixels: report.map { Double($0.width * $0.height) / 1e6 } ?? 0,
                               exit: outcome.status.rawValue)
        if banded.committer != nil, outcome.status == .success {
            batch.awaiting[job.output] = Batch.Awaiting(entry: entry, report: report, status: outcome.status, allRanks: true)
            return
        }
        batch.add(entry, report: report, status: outcome.status, allRanks: true)
        events.ended(entry)
    }

    // MARK: - Waiting

    /// The next message with `tag` (from any rank: only rank 0 sends jobs, only workers report),
    /// waited for by polling with a sleep that grows from 20 µs to 1 ms. A blocking MPI receive
    /// spins on its core the whole time, and a rank waiting that way (rank 0 after its last
    /// image, a worker at the end) takes CPU from the ranks still working whenever the machine
    /// has more runnable processes than cores. At most 1 ms is lost per wait, and a worker
    /// holding images ahead rarely waits at all.
    ///
    /// `between` runs before each sleep (a worker posts the reports its committer finished
    /// meanwhile); when it did something, the wait starts again from the shortest sleep.
    private func awaitMessage(tag: Int, between: () throws -> Bool = { false }) throws -> Message {
        var backoff = Backoff()
        while true {
            if let message = try world.poll(tag: tag) { return message }
            if try between() { backoff.reset(); continue }
            backoff.sleep()
        }
    }

    /// The sleep between two looks while a rank waits (``awaitMessage(tag:between:)``): 20 µs,
    /// doubling to 1 ms.
    private struct Backoff {
        private var pause: UInt32 = 20
        mutating func reset() { pause = 20 }
        mutating func sleep() {
            usleep(pause)
            pause = min(pause * 2, 1000)
        }
    }

    // MARK: - Rank 0: dealing

    private func deal(_ order: [Int], of initial: [ImageJob], ahead: Int, committer: OutputCommitter?,
                      into batch: inout Batch) throws {
        var list = initial
        var dealer = Dealer(images: order, ranks: world.size, ahead: ahead)
        var sends: [PendingSend] = []
        var sendsBytes = [Bool](repeating: false, count: world.size)
        var workerWrites = [Bool](repeating: false, count: world.size)
        var prints: [Int: FileFingerprint] = [:]
        func fingerprint(_ index: Int) -> FileFingerprint {
            if let known = prints[index] { return known }
            let print = FileFingerprint(path: list[index].input) ?? FileFingerprint(size: -1, hash: 0)
            prints[index] = print
            return print
        }
        func send(_ order: DealOrder, to rank: Int) throws {
            sends.append(try world.post(order.wire, to: rank, tag: DealTag.job))
            // Completed sends free their buffers; the rest progress.
            sends = try sends.filter { try !$0.isDone() }
        }
        func record(_ entry: BatchEntry, _ report: ImageReport?, _ status: RunStatus) {
            var entry = entry
            entry.exit = status.rawValue
            if let report { events.finished(report) }
            batch.add(entry, report: report, status: status, allRanks: false)
            events.ended(entry)
        }
        func entry(_ index: Int, rank: Int, _ report: ImageReport?, seconds: Double, read: Bool, wrote: Bool) -> BatchEntry {
            BatchEntry(input: list[index].input, output: list[index].output, rank: rank, schedule: "dealt",
                       status: report == nil ? "failed" : "written", seconds: seconds,
                       input_access: read ? "read" : "sent", output_access: wrote ? "wrote" : "sent",
                       megapixels: report.map { Double($0.width * $0.height) / 1e6 } ?? 0)
        }
        /// Hands image `index` to `rank`; an image rank 0 cannot even read for a worker that
        /// needs its bytes fails here, with the line a one-process run gives, and the worker
        /// gets the next one instead.
        func hand(_ index: Int, to rank: Int) throws {
            var image: Int? = index
            while let index = image {
                var bytes: [UInt8]? = nil
                if sendsBytes[rank] {
                    do throws(ImageError) { bytes = try readFileBytes(path: list[index].input) } catch {
                        let failure = Failure(error)
                        events.failed(failure.message)
                        record(entry(index, rank: rank, nil, seconds: 0, read: false, wrote: workerWrites[rank]), nil,
                               failure.status)
                        image = dealer.done(by: rank)
                        continue
                    }
                }
                return try send(.job(index: index, job: list[index], fingerprint: fingerprint(index), bytes: bytes,
                                     writesOutput: workerWrites[rank]), to: rank)
            }
        }

        // Can each worker see the files? One probe each, on the first dealt image and a marker
        // in the output folder.
        if let first = order.first {
            let folder = (list[first].output as NSString).deletingLastPathComponent
            let marker = (folder.isEmpty ? "." : folder) + "/.bandsaw-visible-\(getpid())"
            let token = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            let wroteMarker = (try? writeFileAtomically(Array(token.utf8), path: marker)) != nil
            for rank in 1..<world.size {
                try send(.probe(input: list[first].input, fingerprint: fingerprint(first), marker: wroteMarker ? marker : "",
                                token: token), to: rank)
            }
            for _ in 1..<world.size {
                let reply = try awaitMessage(tag: DealTag.probe)
                var reader = WireReader(reply.bytes)
                sendsBytes[reply.source] = try reader.int() == 0
                workerWrites[reply.source] = try reader.int() == 1
            }
            if wroteMarker { unlink(marker) }
        }

        for (rank, index) in dealer.opening() { try hand(index, to: rank) }
        func handle(_ message: Message) throws {
            let done = try DealReport(wire: message.bytes)
            let rank = message.source
            if done.outcome == .needsBytes {
                // It could not see this file after all: from now on it gets the bytes.
                sendsBytes[rank] = true
                return try hand(done.index, to: rank)
            }
            let job = list[done.index]
            var status = done.status
            var report = done.outcome == .written ? try? JSONDecoder().decode(ImageReport.self, from: Data(done.report)) : nil
            if done.outcome == .failed {
                events.failed(done.message)
            } else if let output = done.output {
                switch commitSent(output, to: job.output, committer: committer) {
                case .failed(let failure):
                    events.failed(failure.message)
                    status = failure.status
                    report = nil
                case .handedOver:
                    batch.awaiting[job.output] = Batch.Awaiting(
                        entry: entry(done.index, rank: rank, report, seconds: done.seconds, read: done.readItself, wrote: false),
                        report: report, status: status, allRanks: false)
                    if let next = dealer.done(by: rank) { try hand(next, to: rank) }
                    return
                case .committed: break
                }
            }
            record(entry(done.index, rank: rank, report, seconds: done.seconds, read: done.readItself,
                         wrote: done.output == nil), report, status)
            if let next = dealer.done(by: rank) { try hand(next, to: rank) }
        }

        /// Deals what the feed brought since the last call; whether it brought anything.
        func pull() throws -> Bool {
            guard let more = feed?(), !more.isEmpty else { return false }
            dealer.add(Array(list.count..<list.count + more.count))
            list += more
            for (rank, index) in dealer.refill() { try hand(index, to: rank) }
            return true
        }

        while true {
            while let message = try world.poll(tag: DealTag.done) { try handle(message) }
            if let committer { batch.settle(committer.take(), events: events) }
            _ = try pull()
            if let index = dealer.forRoot() {
                let result = processAlone(list[index], fault: soloFault, committer: committer)
                dealer.rootDone()
                let done = entry(index, rank: 0, result.report, seconds: result.seconds, read: true, wrote: true)
                if committer != nil, result.status == .success {
                    batch.awaiting[list[index].output] = Batch.Awaiting(entry: done, report: result.report,
                                                                        status: result.status, allRanks: false)
                } else {
                    record(done, result.report, result.status)
                }
            } else if dealer.finished {
                break
            } else if feed == nil {
                try handle(try awaitMessage(tag: DealTag.done))
            } else {
                // A worker's report or a new image, whichever comes first, with awaitMessage's
                // sleeps between looks; outputs the committer renamed meanwhile are answered.
                var backoff = Backoff()
                while true {
                    if let message = try world.poll(tag: DealTag.done) { try handle(message); break }
                    if let committer { batch.settle(committer.take(), events: events) }
                    if try pull() { break }
                    backoff.sleep()
                }
            }
        }
        for rank in 1..<world.size { try send(.stop, to: rank) }
        for pending in sends { try pending.wait() }
    }

    /// What became of output bytes a worker sent.
    private enum SentCommit {
        case committed
        /// Written; the committer syncs and renames it.
        case handedOver
        case failed(Failure)
    }

    /// Rank 0 writes output bytes a worker sent (temporary file, then rename, by the committer
    /// when there is one).
    private func commitSent(_ bytes: [UInt8], to output: String, committer: OutputCommitter?) -> SentCommit {
        TemporaryFiles.track(temporaryPath(for: output))
        defer { TemporaryFiles.track(nil) }
        do throws(ImageError) {
            let temporary = try writeTemporaryFile(bytes, for: output, sync: committer == nil)
            if let committer {
                committer.submit(temporary, to: output)
                return .handedOver
            }
            do throws(ImageError) { try commitTemporary(temporary, to: output) } catch {
                unlink(temporary)
                throw error
            }
            return .committed
        } catch {
            return .failed(Failure(error))
        }
    }

    // MARK: - One image alone

    /// This rank's injected fault, as rank 0 of its one-rank world (a testing aid).
    private var soloFault: FaultInjection? {
        guard var fault, fault.rank == world.rank else { return nil }
        fault.rank = 0
        return fault
    }

    /// `job` through the engine on this rank alone: its status, its report (written only), the
    /// failure's line (with this rank's number where the engine says rank 0) and the wall time.
    /// With a `committer`, a written output is handed to it, not yet in place when this returns.
    private func processAlone(_ job: ImageJob, fault: FaultInjection?, committer: OutputCommitter? = nil,
                              forwardFailures: Bool = true) -> (status: RunStatus, report: ImageReport?, line: String?, seconds: Double) {
        let start = monotonicSeconds()
        let lines = Lines()
        let rank = world.rank
        let failed = events.failed
        let local = RunEvents(failed: { line in
            let named = rank == 0 ? line : line.replacingOccurrences(of: " on rank 0:", with: " on rank \(rank):")
            lines.append(named)
            if forwardFailures { failed(named) }
        })
        let outcome: RunOutcome
        do {
            var alone = settings
            alone.committer = committer
            outcome = try SPMDRunner(world: SingleRank(), settings: alone, events: local, fault: fault).run(.jobs([job]))
        } catch {
            let line = "\(job.input): rank \(rank) failed: \(error)"
            if forwardFailures { failed(line) }
            return (.failure, nil, line, monotonicSeconds() - start)
        }
        return (outcome.status, outcome.status == .success ? outcome.report.images.first : nil, lines.first,
                monotonicSeconds() - start)
    }

    // MARK: - Workers

    private func work(committer: OutputCommitter?) throws {
        var sends: [PendingSend] = []
        // Reports of images whose outputs wait for the committer, by output path: posted once
        // renamed (rank 0 counts an image done only then).
        var awaiting: [String: DealReport] = [:]
        let scratch = FileManager.default.temporaryDirectory.path + "/bandsaw-\(getpid())-rank\(world.rank)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func report(_ done: DealReport) throws {
            sends.append(try world.post(done.wire, to: 0, tag: DealTag.done))
            sends = try sends.filter { try !$0.isDone() }
        }
        func postCommitted() throws -> Bool {
            guard let committer, !awaiting.isEmpty else { return false }
            let completions = committer.take()
            for completion in completions {
                guard var done = awaiting.removeValue(forKey: completion.output) else { continue }
                if let failure = completion.failure {
                    done = DealReport(index: done.index, outcome: .failed, status: failure.status,
                                      message: failure.message, seconds: done.seconds, readItself: done.readItself)
                }
                try report(done)
            }
            return !completions.isEmpty
        }
        loop: while true {
            _ = try postCommitted()
            let message = try awaitMessage(tag: DealTag.job, between: postCommitted)
            switch try DealOrder(wire: message.bytes) {
            case .stop:
                break loop
            case .probe(let input, let print, let marker, let token):
                let sees = FileFingerprint(path: input) == print
                let writes = !marker.isEmpty && (try? readFileBytes(path: marker)) == Array(token.utf8)
                var w = WireWriter()
                w.int(sees ? 1 : 0); w.int(writes ? 1 : 0)
                sends.append(try world.post(w.bytes, to: 0, tag: DealTag.probe))
            case .job(let index, let job, let print, let bytes, let writesOutput):
                if bytes == nil, FileFingerprint(path: job.input) != print {
                    try report(DealReport(index: index, outcome: .needsBytes))
                    continue
                }
                let deferred = writesOutput ? committer : nil
                let done = processDealt(index: index, job: job, bytes: bytes, writesOutput: writesOutput,
                                        committer: deferred, scratch: scratch)
                if deferred != nil, done.outcome == .written {
                    awaiting[job.output] = done
                } else {
                    try report(done)
                }
            }
        }
        for pending in sends { try pending.wait() }
    }

    /// A dealt image on this worker: read from its path or from the sent bytes (kept in a
    /// scratch file under the input's own name, so every message reads as on one process),
    /// written in place or encoded into a scratch file whose bytes go back to rank 0.
    /// With a `committer`, the written output is handed to it (the caller reports it once renamed).
    private func processDealt(index: Int, job: ImageJob, bytes: [UInt8]?, writesOutput: Bool,
                              committer: OutputCommitter?, scratch: String) -> DealReport {
        var local = job
        if bytes != nil || !writesOutput {
            try? FileManager.default.createDirectory(atPath: scratch + "/in", withIntermediateDirectories: true)
            try? FileManager.default.createDirectory(atPath: scratch + "/out", withIntermediateDirectories: true)
        }
        if let bytes {
            local.input = scratch + "/in/" + (job.input as NSString).lastPathComponent
            if (try? writeFileAtomically(bytes, path: local.input)) == nil {
                return DealReport(index: index, outcome: .failed, status: .failure,
                                  message: "\(job.input): rank \(world.rank) cannot keep the file it was sent")
            }
        }
        if !writesOutput { local.output = scratch + "/out/" + (job.output as NSString).lastPathComponent }
        defer {
            if local.input != job.input { unlink(local.input) }
            if local.output != job.output { unlink(local.output) }
        }
        let result = processAlone(local, fault: soloFault, committer: committer, forwardFailures: false)
        func restored(_ text: String) -> String {
            text.replacingOccurrences(of: local.input, with: job.input).replacingOccurrences(of: local.output, with: job.output)
        }
        guard result.status == .success, var report = result.report else {
            return DealReport(index: index, outcome: .failed, status: result.status,
                              message: restored(result.line ?? "\(job.input): failed on rank \(world.rank)"),
                              seconds: result.seconds, readItself: bytes == nil)
        }
        report.input = job.input
        report.output = job.output
        var output: [UInt8]? = nil
        if !writesOutput {
            guard let encoded = try? readFileBytes(path: local.output) else {
                return DealReport(index: index, outcome: .failed, status: .failure,
                                  message: "\(job.output): rank \(world.rank) lost its encoded output",
                                  seconds: result.seconds, readItself: bytes == nil)
            }
            output = encoded
        }
        let json = (try? JSONEncoder().encode(report)).map { Array($0) } ?? []
        return DealReport(index: index, outcome: .written, seconds: result.seconds, readItself: bytes == nil,
                          report: json, output: output)
    }
}

/// Lines appended from a callback.
private final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var first: String? { lock.lock(); defer { lock.unlock() }; return stored.first }
}
