#if canImport(Glibc)
import Glibc
#endif
import BandsawService
import Foundation
import ImageCodecs
import ImageCore
import MPIKit
import SPMDEngine

/// Several waiting jobs with one pipeline and output format, run on rank 0 as one batch of the
/// dataset scheduler (``BatchRunner``) over their private folders: small images are dealt whole
/// to the ranks as they become free instead of each being banded across all of them in turn.
///
/// Every job is answered as soon as its own image ends (from the batch's `ended` event), with
/// the bytes its image got from the rank that ran it alone (a one-process run's bytes), its own
/// phases, its own failure line and status; a bad upload fails only its own job.
enum ServeBatch {
    /// The most jobs in one batch: enough to keep every rank of a busy service fed, few enough
    /// that a job of another pipeline queued behind them waits at most one batch.
    static let limit = 64

    /// How a batch is spread. `auto` deals the images while there are at least as many as
    /// ranks and bands an upload far larger than the rest (so one 64 MP upload does not hold
    /// one rank while the others idle), and bands every image of a batch smaller than the
    /// rank count, as a lone job is run.
    static let schedule = Schedule.auto

    /// Runs `jobs` (stored in `folders`, in the same order) with every rank; the workers have
    /// been told a batch follows. Jobs with the same descriptor that `queue` receives meanwhile
    /// are stored in `scratch` and dealt into the running batch (up to ``limit`` in all, none
    /// that would be an outlier of ``BatchPlan``): no rank idles while they wait. Throws only
    /// what the ranks cannot agree on (an `MPIError`).
    static func run(_ jobs: [QueuedJob], folders: [JobFolder], descriptor: JobDescriptor, maxPixels: Int,
                    world: Communicator, queue: JobQueue, scratch: String) throws {
        var settings = try descriptor.command(input: folders[0].input, output: folders[0].output).settings()
        settings.maxPixels = maxPixels
        let answers = Answers(jobs: jobs, folders: folders)
        let events = RunEvents(failed: { answers.failed($0) }, finished: { answers.finished($0) },
                               ended: { answers.ended($0) })
        var runner = BatchRunner(world: world, settings: settings, schedule: schedule, events: events,
                                 fault: FaultInjection.fromEnvironment)
        let lead = jobs[0].request
        let sizes = jobs.map(\.request.upload.count).sorted()
        let maxBytes = max(BatchPlan.outlierMinimumBytes, BatchPlan.outlierFactor * sizes[sizes.count / 2])
        var room = limit - jobs.count
        runner.feed = {
            guard room > 0 else { return [] }
            let more = queue.more(like: lead, limit: room, maxBytes: maxBytes)
            room -= more.count
            var added: [ImageJob] = []
            for job in more {
                switch JobFolder.make(for: job.request, in: scratch) {
                case .success(let folder):
                    answers.add(job, folder)
                    added.append(ImageJob(input: folder.input, output: folder.output))
                case .failure(let failure):
                    job.finish(failure.result)
                }
            }
            return added
        }
        do {
            _ = try runner.run(.jobs(folders.map { ImageJob(input: $0.input, output: $0.output) }))
        } catch {
            // The caller answers the jobs still open (503 when a rank is lost).
            answers.finishRest(answering: false)
            throw error
        }
        answers.finishRest(answering: true)
    }

    /// What the batch's events learn about each job, by its input path, until it is answered.
    final class Answers: @unchecked Sendable {
        private struct Entry {
            let job: QueuedJob
            let folder: JobFolder
            var line: String?
            var report: ImageReport?
        }
        private let lock = NSLock()
        private var open: [String: Entry] = [:]

        init(jobs: [QueuedJob], folders: [JobFolder]) {
            for (job, folder) in zip(jobs, folders) { open[folder.input] = Entry(job: job, folder: folder) }
        }

        /// A job dealt into the running batch.
        func add(_ job: QueuedJob, _ folder: JobFolder) {
            lock.lock(); defer { lock.unlock() }
            open[folder.input] = Entry(job: job, folder: folder)
        }

        /// A failure line names the input (or the output) by its path: the job whose folder it is.
        func failed(_ line: String) {
            lock.lock(); defer { lock.unlock() }
            guard let key = open.first(where: { line.contains($0.value.folder.path + "/") })?.key else { return }
            if open[key]?.line == nil { open[key]?.line = line }
        }

        func finished(_ report: ImageReport) {
            lock.lock(); defer { lock.unlock() }
            open[report.input]?.report = report
        }

        /// The image of one job ended: answer it now, and remove its folder.
        func ended(_ batchEntry: BatchEntry) {
            lock.lock()
            let entry = open.removeValue(forKey: batchEntry.input)
            lock.unlock()
            guard let entry else { return }
            defer { entry.folder.remove() }
            if batchEntry.status == "written", let image = entry.report,
               let bytes = try? readFileBytes(path: entry.folder.output) {
                var result = JobResult(status: 200, body: bytes, phases: JobRunner.phases(of: image))
                result.rank = batchEntry.schedule == "dealt" ? String(batchEntry.rank) : "all"
                entry.job.finish(result)
                return
            }
            let line = entry.line.map(entry.folder.clientLine)
            if let line { Console.error(line) }
            let status = RunStatus(rawValue: batchEntry.exit ?? RunStatus.failure.rawValue) ?? .failure
            entry.job.finish(.failure(status == .success ? 500 : JobRunner.httpStatus(status, line ?? ""),
                                      line ?? (status == .success ? "the output was not written" : "the job failed (status \(status))")))
        }

        /// Removes the folders of the jobs the batch did not answer, and answers them with 500
        /// when `answering` (the batch returned without ending their images).
        func finishRest(answering: Bool) {
            lock.lock()
            let rest = open
            open = [:]
            lock.unlock()
            for entry in rest.values {
                entry.folder.remove()
                if answering {
                    entry.job.finish(.failure(500, entry.line.map(entry.folder.clientLine) ?? "the batch ended before this job"))
                }
            }
        }
    }
}
