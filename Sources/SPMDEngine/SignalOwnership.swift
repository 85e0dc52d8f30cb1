/// Who handles SIGINT, SIGTERM and SIGHUP in this process.
public enum SignalOwnership {
    /// Set by a host that outlives its jobs (`bandsaw serve`: SIGTERM there means "finish the
    /// job in progress, then stop"): the engine then leaves the three signals alone instead of
    /// installing its remove-the-temporary-file-and-die handlers for each run.
    nonisolated(unsafe) public static var hostHandlesSignals = false
}
