import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The temporary output file this rank is writing, for the signal handler to remove (a C string
/// allocated once per file; the handler only reads it and calls unlink, which is safe there).
nonisolated(unsafe) private var pendingTemporary: UnsafeMutablePointer<CChar>? = nil

/// How many written temporary files can wait for their commit at once (``OutputCommitter``
/// holds fewer; the rest is margin).
private let heldCapacity = 64

/// Written temporary files waiting for the committer thread's sync and rename, one slot each,
/// for the signal handler to remove too. A fixed array: the handler must not meet a buffer
/// being reallocated.
nonisolated(unsafe) private let heldTemporaries: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
    let slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: heldCapacity)
    slots.initialize(repeating: nil, count: heldCapacity)
    return slots
}()

/// Removes the pending and held temporary files, then dies of the signal as if no handler were set.
private let removeTemporaryAndDie: @convention(c) (Int32) -> Void = { signal in
    if let path = pendingTemporary { unlink(path) }
    for slot in 0..<heldCapacity { if let path = heldTemporaries[slot] { unlink(path) } }
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

    /// Serialises ``track(_:)``, ``hold(_:)`` and ``release(_:)``: several images may be written
    /// at once in one process (the engine tests' in-process worlds, the committer thread), and
    /// two threads must not free the same string.
    private static let lock = NSLock()

    /// Removes temporary files a killed run left beside these outputs (`.NAME.tmp-PID`, see
    /// `temporaryPath(for:)`): a rank killed outright (SIGKILL, a lost node) cannot remove its
    /// own, and the run about to write these outputs is the one to clear them. One listing per
    /// output folder. Returns how many were removed.
    @discardableResult
    public static func removeLeftovers(of outputs: [String]) -> Int {
        var byFolder: [String: Set<String>] = [:]
        for output in outputs {
            let folder = (output as NSString).deletingLastPathComponent
            byFolder[folder.isEmpty ? "." : folder, default: []].insert((output as NSString).lastPathComponent)
        }
        var removed = 0
        for (folder, names) in byFolder {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for entry in entries where entry.hasPrefix(".") {
                guard let mark = entry.range(of: ".tmp-", options: .backwards),
                      entry[mark.upperBound...].allSatisfy(\.isNumber),
                      names.contains(String(entry[entry.index(after: entry.startIndex)..<mark.lowerBound])) else { continue }
                if unlink(folder + "/" + entry) == 0 { removed += 1 }
            }
        }
        return removed
    }

    /// Records the temporary file being written (nil: none any more).
    static func track(_ path: String?) {
        lock.lock()
        defer { lock.unlock() }
        let old = pendingTemporary
        pendingTemporary = path.map { strdup($0) }
        free(old)
    }

    /// Records a written temporary file handed to the committer; false when every slot is taken
    /// (the caller then commits it at once).
    static func hold(_ path: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let slot = (0..<heldCapacity).first(where: { heldTemporaries[$0] == nil }) else { return false }
        heldTemporaries[slot] = strdup(path)
        return true
    }

    /// The committer renamed (or removed) a held temporary file.
    static func release(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        for slot in 0..<heldCapacity {
            guard let held = heldTemporaries[slot], String(cString: held) == path else { continue }
            // The slot empties before the string goes, so the handler never reads freed memory.
            heldTemporaries[slot] = nil
            free(held)
            return
        }
    }
}
