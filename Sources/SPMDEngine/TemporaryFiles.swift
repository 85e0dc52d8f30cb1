import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The temporary output file this rank has open, for the signal handler to remove (a C string
/// allocated once per file; the handler only reads it and calls unlink, which is safe there).
nonisolated(unsafe) private var pendingTemporary: UnsafeMutablePointer<CChar>? = nil

/// Removes the pending temporary file, then dies of the signal as if no handler were set.
private let removeTemporaryAndDie: @convention(c) (Int32) -> Void = { signal in
    if let path = pendingTemporary { unlink(path) }
    Glibc.signal(signal, SIG_DFL)
    raise(signal)
}

/// Keeps a killed run from leaving its temporary output behind: SIGINT, SIGTERM and SIGHUP
/// (Ctrl-C on run.sh, mpirun ending the job, a closed terminal) remove it before the rank dies.
public enum TemporaryFiles {
    /// Installs the handlers (once per process, by the command line, before the first image).
    public static func installSignalHandlers() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            _ = Glibc.signal(signal, removeTemporaryAndDie)
            sigaddset(&set, signal)
        }
        // A parent may have blocked them (the mask is inherited across exec): let them in.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Serialises ``track(_:)``: several images may be written at once in one process (the
    /// engine tests' in-process worlds), and two threads must not free the same string.
    private static let lock = NSLock()

    /// Records the temporary file being written (nil: none any more).
    static func track(_ path: String?) {
        lock.lock()
        defer { lock.unlock() }
        let old = pendingTemporary
        pendingTemporary = path.map { strdup($0) }
        free(old)
    }
}
