import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MPIKit
import SPMDEngine

/// The one progress line of a batch on a terminal: images done of the total, images/s, MP/s,
/// the elapsed time, an estimate of the time left and the failures so far, redrawn in place
/// on stderr at most four times a second. Other lines clear it first and it is drawn again
/// after them. Off when stderr is not a terminal (a log, a pipe, a test) or with --quiet.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private var total = 0, done = 0, failed = 0
    private var megapixels = 0.0
    private var start = 0.0, lastDraw = -1.0
    private var shown = false

    /// Redraws no more often than this (seconds).
    static let interval = 0.25

    init(enabled: Bool) { self.enabled = enabled }

    /// Whether a progress line would be drawn: not --quiet, and stderr is a terminal, or (under
    /// mpirun, which forwards rank 0's stderr through a pipe) the launcher's stderr is one.
    static func wanted(quiet: Bool) -> Bool {
        guard !quiet else { return false }
        if isatty(STDERR_FILENO) == 1 { return true }
        guard MPI.launchedRank != nil else { return false }
        // mpirun starts the ranks of its own host itself: its stderr is our parent's.
        var target = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/\(getppid())/fd/2", &target, target.count - 1)
        guard n > 0 else { return false }
        let path = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.hasPrefix("/dev/pts/") || path.hasPrefix("/dev/tty")
    }

    func planned(_ count: Int) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        total = count; start = Self.now()
        draw(force: true)
    }

    func ended(_ entry: BatchEntry) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        done += 1
        if entry.status != "written" { failed += 1 }
        megapixels += entry.megapixels
        draw(force: done == total)
    }

    /// Runs `body` (which prints a line) with the progress line cleared, then draws it again.
    func around(_ body: () -> Void) {
        guard enabled else { return body() }
        lock.lock(); defer { lock.unlock() }
        if shown { Self.write("\r\u{1B}[K") }
        body()
        if shown { draw(force: true) }
    }

    /// Leaves the last state on its own line at the end of the batch.
    func finish() {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        if shown { Self.write("\n"); shown = false }
    }

    /// The line's text for the counts so far at `elapsed` seconds.
    static func text(done: Int, total: Int, failed: Int, megapixels: Double, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .nan
        return String(format: "%d/%d images  %.1f img/s  %.1f MP/s  %@ elapsed  ETA %@  %d failed",
                      done, total, rate, elapsed > 0 ? megapixels / elapsed : 0, clock(elapsed), clock(eta), failed)
    }

    private static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func draw(force: Bool) {
        let now = Self.now()
        guard force || now - lastDraw >= Self.interval else { return }
        lastDraw = now
        shown = true
        Self.write("\r\u{1B}[K" + Self.text(done: done, total: total, failed: failed, megapixels: megapixels,
                                           elapsed: now - start))
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }
}
