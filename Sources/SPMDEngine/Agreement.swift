#if canImport(Glibc)
import Glibc
#endif
import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit

/// How a run or one image ended, in rising order of severity: the ranks agree on the worst.
/// The command line maps each to its exit code.
public enum RunStatus: Int, Comparable, Sendable {
    case success = 0
    /// An internal or MPI failure (a rank died, a collective failed, an injected fault).
    case failure = 1
    /// The command line names something impossible (an unknown output extension, say).
    case usage = 2
    /// A bad input or output image: missing, empty, truncated, corrupt, unsupported, too large,
    /// unwritable.
    case badImage = 3

    public static func < (a: RunStatus, b: RunStatus) -> Bool { a.rawValue < b.rawValue }

    /// The status an image error ends an image with.
    public init(_ error: ImageError) {
        // An output extension bandsaw cannot write is a usage error, not a bad image.
        if case .unknownOutputFormat = error { self = .usage } else { self = .badImage }
    }
}

/// Why a phase failed on one rank: its status and the one line that says so.
public struct Failure: Error, Equatable, Sendable {
    public var status: RunStatus
    public var message: String

    public init(_ error: ImageError) { status = RunStatus(error); message = error.description }
    public init(status: RunStatus, message: String) { self.status = status; self.message = message }
}

extension ImageRun {
    /// The ranks agree on how `phase` ended: every rank gives its own failure (or none, or the
    /// one a ``FaultInjection`` plants here), all learn the worst status (the lowest rank among
    /// equals) with one all-reduce, and on failure that rank's message reaches rank 0, which
    /// reports it once. Returns the agreed failure on every rank, nil when all succeeded.
    func agree(_ phase: Phase, _ failure: Failure? = nil) throws -> Failure? {
        var mine = failure
        if mine == nil, let fault, fault.phase == phase, fault.rank == world.rank {
            if fault.stall {
                sleep(60)  // a testing aid: hold the phase open (see FaultInjection)
            } else {
                mine = Failure(status: .failure, message: "injected fault (BANDSAW_FAULT=\(fault.text))")
            }
        }
        // status in the high bits, then the complement of the rank: the maximum is the worst
        // status, and among equal statuses the lowest rank.
        let code = Int64(mine?.status.rawValue ?? 0) << 32 | Int64(UInt32.max) - Int64(world.rank)
        let worst = try world.allReduce([code], op: .max)[0]
        let status = RunStatus(rawValue: Int(worst >> 32)) ?? .failure
        guard status != .success else { return nil }
        let rank = Int(Int64(UInt32.max) - (worst & Int64(UInt32.max)))
        var text = Array((mine?.message ?? "").utf8)
        if rank != 0 { try world.broadcast(bytes: &text, root: rank) }
        let message = String(decoding: text, as: UTF8.self)
        // A user's bad file read by rank 0 keeps its plain words (the same as on one rank);
        // anything else says where it happened.
        let line = rank == 0 && status == .badImage ? message : "\(phase.name) failed on rank \(rank): \(message)"
        if isRoot { events.failed(line) }
        return Failure(status: status, message: line)
    }
}

// MARK: - Fault injection (a testing aid)

/// `BANDSAW_FAULT=PHASE:RANK` makes phase PHASE (read, decode, scatter, compute, encode,
/// gather, write) fail on rank RANK when the ranks next agree on it, exit code 1; with
/// `:stall` appended, that rank sleeps 60 s there instead (for the signal tests: at `write`
/// on rank 0, the temporary output file exists). Documented in README's testing notes; it
/// costs nothing when unset. The engine tests pass one to the runner directly.
public struct FaultInjection: Sendable, Equatable {
    var phase: Phase, rank: Int, stall: Bool, text: String

    /// Parses `PHASE:RANK[:stall]`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count >= 2, let phase = Phase.allCases.first(where: { $0.name == parts[0] }),
              let rank = Int(parts[1]) else { return nil }
        self.phase = phase; self.rank = rank; self.stall = parts.count > 2 && parts[2] == "stall"; self.text = text
    }

    /// The fault `BANDSAW_FAULT` asks for, if any.
    public static let fromEnvironment: FaultInjection? = {
        guard let raw = getenv("BANDSAW_FAULT").map({ String(cString: $0) }), !raw.isEmpty else { return nil }
        return FaultInjection(raw)
    }()
}
