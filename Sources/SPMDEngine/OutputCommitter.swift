import Foundation
import ImageCodecs
import ImageCore

/// Finishes a batch's outputs on a thread of its own: each written temporary file is synced to
/// the disk and only then renamed into place, in the order they were handed over.
///
/// The sync is the wait for the disk, and on the image's path it cost a batch 9% of a JPEG
/// folder's one-process time and 27% of a folder of small PNGs (strace), more when two ranks'
/// syncs queue behind each other on one disk. Here the rank goes on to its next image while the
/// disk catches up. An image counts as done (reported, answered, skipped by `--skip-existing`)
/// only once its ``Completion`` is taken, that is after the rename. The files waiting here stay
/// known to the signal handler (``TemporaryFiles``), so a killed batch still leaves no
/// temporary file, and every output it finished is whole.
public final class OutputCommitter: @unchecked Sendable {
    /// One output renamed into place, or why not.
    public struct Completion: Sendable {
        public let output: String
        public let failure: Failure?
    }

    /// The most files waiting at once; ``submit(_:to:)`` blocks beyond it (the disk is the
    /// bottleneck then, and memory is not held for it: the bytes are already in the page cache).
    public static let capacity = 16

    private let condition = NSCondition()
    private var waiting: [(temporary: String, output: String)] = []
    private var completed: [Completion] = []
    private var working = false
    private var stopping = false
    private var started = false

    public init() {}

    /// Hands over `temporary`, written without a sync, to become `output`.
    public func submit(_ temporary: String, to output: String) {
        guard TemporaryFiles.hold(temporary) else {
            // No slot for the signal handler: finish it here rather than leave it unguarded.
            return finishNow(temporary, to: output)
        }
        condition.lock()
        while waiting.count >= Self.capacity { condition.wait() }
        waiting.append((temporary, output))
        if !started {
            started = true
            let thread = Thread { [self] in loop() }
            thread.name = "bandsaw-commit"
            thread.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Outputs handed over and not yet taken as completions.
    public var outstanding: Int {
        condition.lock(); defer { condition.unlock() }
        return waiting.count + (working ? 1 : 0) + completed.count
    }

    /// The completions so far, without waiting.
    public func take() -> [Completion] {
        condition.lock(); defer { condition.unlock() }
        let done = completed
        completed = []
        return done
    }

    /// Waits until every output handed over is committed, and takes the completions.
    public func takeAll() -> [Completion] {
        condition.lock(); defer { condition.unlock() }
        while !waiting.isEmpty || working { condition.wait() }
        let done = completed
        completed = []
        return done
    }

    /// Ends the thread once the outputs handed over are committed (their completions stay to
    /// take). The thread holds the committer until then: call it when the batch ends.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func finishNow(_ temporary: String, to output: String) {
        var failure: Failure? = nil
        do throws(ImageError) { try syncAndCommitTemporary(temporary, to: output) } catch { failure = Failure(error) }
        condition.lock()
        completed.append(Completion(output: output, failure: failure))
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            while waiting.isEmpty && !stopping { condition.wait() }
            guard !waiting.isEmpty else { break }
            let next = waiting.removeFirst()
            working = true
            condition.broadcast()
            condition.unlock()
            var failure: Failure? = nil
            do throws(ImageError) { try syncAndCommitTemporary(next.temporary, to: next.output) } catch {
                failure = Failure(error)
            }
            TemporaryFiles.release(next.temporary)
            condition.lock()
            working = false
            completed.append(Completion(output: next.output, failure: failure))
            condition.broadcast()
        }
        condition.unlock()
    }
}
