// The one builder of mpirun command lines, and the trait for tests that need mpirun.
import Foundation
import Testing

/// One `mpirun` command line: the launch options every test uses, built in one place.
///
/// On this machine: `mpirun [-q] --oversubscribe --bind-to none -np N [options] [-x NAME]... COMMAND`
/// (oversubscribed: the tests start more ranks than the machine has cores; `oversubscribe: false`
/// drops it). With a hostfile,
/// one rank per host instead: `mpirun [-q] --hostfile FILE --map-by node --bind-to none -np N ...`.
public struct MPIRun: Sendable {
    /// `-np`.
    public var ranks: Int
    /// `-q`: no launcher banners when a rank fails (the tests check bandsaw's own one line).
    public var quiet: Bool
    /// Environment variables passed on to every rank (`-x NAME`), in this order.
    public var exports: [String]
    /// Hosts to spread the ranks over, one per host; nil: every rank on this machine.
    public var hostfile: String?
    /// Further launch options (`--mca` settings and the like), before the exports.
    public var options: [String]
    /// `--oversubscribe` (without a hostfile): allow more ranks than this machine has cores.
    public var oversubscribe: Bool

    /// A launch of `ranks` ranks; the other settings as their properties say.
    public init(ranks: Int, quiet: Bool = true, exports: [String] = [], hostfile: String? = nil, options: [String] = [],
                oversubscribe: Bool = true) {
        self.ranks = ranks
        self.quiet = quiet
        self.oversubscribe = oversubscribe
        self.exports = exports
        self.hostfile = hostfile
        self.options = options
    }

    /// The whole argument vector: `mpirun`, its options, then `command` (the program and its
    /// arguments, run on every rank).
    public func arguments(_ command: [String]) -> [String] {
        let placement = hostfile.map { ["--hostfile", $0, "--map-by", "node"] } ?? (oversubscribe ? ["--oversubscribe"] : [])
        return ["mpirun"] + (quiet ? ["-q"] : []) + placement + ["--bind-to", "none", "-np", String(ranks)]
            + options + exports.flatMap { ["-x", $0] } + command
    }

    /// Whether `mpirun` runs here (`mpirun --version` succeeds), checked once per test process.
    public static let isAvailable: Bool = (try? Harness.run(["mpirun", "--version"], timeout: 20).status) == 0

    /// Whether this run is CI's (`CI=true`), where whatever a test needs must be there.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}

/// Why a test that needs mpirun failed in CI.
struct MPIRunMissing: Error, CustomStringConvertible {
    var description: String { "mpirun is not on PATH, and CI=true: tests that need it fail instead of skipping" }
}

extension Trait where Self == ConditionTrait {
    /// For tests and suites that run `mpirun`: where it is not installed they are skipped with
    /// a message, except under `CI=true`, where they fail (the error the condition throws is
    /// recorded as the test's issue).
    public static var needsMPIRun: Self {
        .enabled("mpirun is not installed (under CI=true this is a failure)") {
            if MPIRun.isAvailable { return true }
            if MPIRun.isCI { throw MPIRunMissing() }
            return false
        }
    }
}
