import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// How a rank waits for a non-blocking collective: test, and sleep between tests. The sleep
/// doubles from `first` up to `brisk` and stays there for `patience`, then doubles up to
/// `longest`.
///
/// Open MPI's blocking collectives poll their transports in a loop, a whole core per waiting
/// rank; a long-lived service whose ranks wait for work most of the time would burn every core
/// it holds. Testing with a back-off costs one wake-up per `longest` once the wait is long, and
/// adds at most `longest` of latency to the first message after it; a message that follows
/// soon after the last one (a busy service) waits at most `brisk`.
public struct WaitPolicy: Sendable {
    /// The first sleep after an unfinished test.
    public var first: Duration
    /// The sleep held while the wait is younger than `patience`.
    public var brisk: Duration
    /// How long the wait stays brisk.
    public var patience: Duration
    /// The longest sleep between two tests.
    public var longest: Duration

    public init(first: Duration = .microseconds(20), brisk: Duration = .milliseconds(1),
                patience: Duration = .seconds(2), longest: Duration = .milliseconds(20)) {
        self.first = first; self.brisk = brisk; self.patience = patience; self.longest = longest
    }
}

extension Communicator {
    /// Sends `values` from `root` to every rank like ``broadcast(_:root:)``, but through
    /// `MPI_Ibcast`, completed by `MPI_Test` with `policy`'s sleeps in between: a rank that
    /// waits here for minutes uses almost no CPU. Every rank passes an array of the same length.
    public func broadcastWaiting(_ values: inout [Int64], root: Int = 0, policy: WaitPolicy = WaitPolicy()) throws(MPIError) {
        let n = try mpiCount(values.count, "MPI_Ibcast")
        // Started and completed inside one access to the buffer: MPI writes into it until the
        // request completes, so it must not move or be copied meanwhile.
        let failure: MPIError? = values.withUnsafeMutableBytes { buffer in
            var request: MPI_Request? = cmpi_request_null()
            do throws(MPIError) {
                try check(MPI_Ibcast(buffer.baseAddress, n, cmpi_type_int64(), Int32(root), raw, &request), "MPI_Ibcast")
                try wait(&request, policy: policy)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Tests `request` until it completes, sleeping with back-off between tests.
    private func wait(_ request: inout MPI_Request?, policy: WaitPolicy) throws(MPIError) {
        var pause = policy.first
        let start = ContinuousClock.now
        while true {
            var done: Int32 = 0
            try check(MPI_Test(&request, &done, cmpi_status_ignore()), "MPI_Test")
            if done != 0 { return }
            var delay = timespec(tv_sec: Int(pause.components.seconds),
                                 tv_nsec: Int(pause.components.attoseconds / 1_000_000_000))
            nanosleep(&delay, nil)
            let ceiling = ContinuousClock.now - start < policy.patience ? policy.brisk : policy.longest
            pause = min(pause * 2, ceiling)
        }
    }
}
