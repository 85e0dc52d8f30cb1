#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The write end of the pipe the signal handler reports to (written only by the handler).
nonisolated(unsafe) private var signalPipe: Int32 = -1

/// SIGTERM and SIGINT for `bandsaw serve`: the handler only writes the sender's pid to a pipe
/// (write is async-signal-safe); a thread reads it and decides what the signal means.
enum ServeSignals {
    static func install(_ handle: @escaping @Sendable (pid_t) -> Void) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return }
        signalPipe = ends[1]
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { _, info, _ in
            var sender: pid_t = info?.pointee._sifields._kill.si_pid ?? 0
            _ = withUnsafeBytes(of: &sender) { write(signalPipe, $0.baseAddress, $0.count) }
        }
        action.sa_flags = SA_SIGINFO | SA_RESTART
        sigemptyset(&action.sa_mask)
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT] {
            sigaction(signal, &action, nil)
            sigaddset(&set, signal)
        }
        // A parent may have blocked them (the mask is inherited across exec).
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let reader = ends[0]
        Thread.detachNewThread {
            var sender: pid_t = 0
            while withUnsafeMutableBytes(of: &sender, { read(reader, $0.baseAddress, $0.count) }) == MemoryLayout<pid_t>.size {
                handle(sender)
            }
        }
    }
}
