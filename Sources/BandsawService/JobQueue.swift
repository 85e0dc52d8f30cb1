import Foundation

/// A job on its way to the MPI thread, answered exactly once: by the MPI thread, by a timeout,
/// by a drain, or by the loss of a rank, whichever comes first.
public final class QueuedJob: @unchecked Sendable {
    /// What to run.
    public let request: JobRequest
    private let lock = NSLock()
    private var answer: (@Sendable (JobResult) -> Void)?

    init(request: JobRequest, answer: @escaping @Sendable (JobResult) -> Void) {
        self.request = request
        self.answer = answer
    }

    /// Answers the client; every call after the first is ignored.
    public func finish(_ result: JobResult) {
        lock.lock()
        let deliver = answer
        answer = nil
        lock.unlock()
        deliver?(result)
    }
}

/// The bounded queue between the HTTP side and rank 0's MPI thread.
///
/// The MPI thread blocks in ``next()`` on a condition variable while nothing is queued, so an
/// idle rank 0 uses no CPU; the HTTP side never waits on it.
public final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [QueuedJob] = []
    /// The job or batch the MPI thread is running.
    private var running: [QueuedJob] = []
    private var closedWith: JobResult? = nil
    /// Jobs that may wait behind the running one.
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    /// The jobs waiting (not counting the one running).
    public var count: Int {
        condition.lock(); defer { condition.unlock() }
        return waiting.count
    }

    /// Queues `request`; `answer` is called once with its result. Refused at once (429 when
    /// full, the closing word once closed).
    @discardableResult
    public func submit(_ request: JobRequest, answer: @escaping @Sendable (JobResult) -> Void) -> QueuedJob {
        let job = QueuedJob(request: request, answer: answer)
        condition.lock()
        if let closedWith {
            condition.unlock()
            job.finish(closedWith)
        } else if waiting.count >= capacity {
            condition.unlock()
            job.finish(.failure(429, "the queue is full (\(capacity) jobs waiting); try again later"))
        } else {
            waiting.append(job)
            condition.signal()
            condition.unlock()
        }
        return job
    }

    /// Takes `job` out of the queue if it has not started (its client gave up).
    public func withdraw(_ job: QueuedJob) {
        condition.lock()
        waiting.removeAll { $0 === job }
        condition.unlock()
    }

    /// The next job, blocking while there is none; nil once the queue is closed. The job
    /// returned is the running one until the next call.
    public func next() -> QueuedJob? { nextBatch(limit: 1).first }

    /// The oldest waiting job and, up to `limit` in all, the other waiting jobs with the same
    /// options and format (in order of arrival), blocking while none waits; empty once the
    /// queue is closed. They are the running jobs until the next call. Jobs with another
    /// pipeline keep their places and lead a later batch.
    public func nextBatch(limit: Int) -> [QueuedJob] {
        condition.lock(); defer { condition.unlock() }
        running = []
        while waiting.isEmpty && closedWith == nil { condition.wait() }
        guard closedWith == nil else { return [] }
        let lead = waiting.removeFirst()
        let first = lead.request
        running = [lead]
        var kept: [QueuedJob] = []
        for job in waiting {
            if running.count < limit && job.request.options == first.options && job.request.format == first.format {
                running.append(job)
            } else {
                kept.append(job)
            }
        }
        waiting = kept
        return running
    }

    /// For a running batch led by `request`: the jobs at the head of the queue with its options
    /// and format and an upload under `maxBytes`, up to `limit`, which join the running ones.
    /// The first job that does not fit stops the taking, so a job of another pipeline (or an
    /// upload too large to deal) ends the batch and leads the next one instead of waiting
    /// behind an endless stream.
    public func more(like request: JobRequest, limit: Int, maxBytes: Int) -> [QueuedJob] {
        condition.lock(); defer { condition.unlock() }
        var taken: [QueuedJob] = []
        while taken.count < limit, let job = waiting.first, job.request.options == request.options,
              job.request.format == request.format, job.request.upload.count < maxBytes {
            taken.append(waiting.removeFirst())
        }
        running += taken
        return taken
    }

    /// Refuses new jobs with `result` and answers the waiting ones with it; the running job
    /// goes on (a drain), unless `includingRunning` (a lost rank: it will never finish).
    public func close(with result: JobResult, includingRunning: Bool = false) {
        condition.lock()
        if closedWith == nil { closedWith = result }
        let refused = waiting + (includingRunning ? running : [])
        waiting = []
        condition.broadcast()
        condition.unlock()
        for job in refused { job.finish(result) }
    }

    /// Whether a job is running now.
    public var isBusy: Bool {
        condition.lock(); defer { condition.unlock() }
        return !running.isEmpty
    }
}
