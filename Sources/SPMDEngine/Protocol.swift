#if canImport(Glibc)
import Glibc
#endif
import ImageCore
import MPIKit

// MARK: - The job list

/// Rank 0's word on the whole run: how many images follow, or why there are none.
struct JobListHeader: Equatable {
    var status = ExitStatus.success
    var count = 0

    var wire: [Int64] { [Int64(status.rawValue), Int64(count)] }

    init(status: ExitStatus = .success, count: Int = 0) { self.status = status; self.count = count }

    init(wire w: [Int64]) {
        precondition(w.count == 2, "a job list header has 2 fields")
        status = ExitStatus(rawValue: Int32(w[0])) ?? .failure
        count = Int(w[1])
    }
}

// MARK: - The job header

/// What rank 0 tells every rank about an image before any pixel moves: one broadcast, encoded
/// and decoded here and nowhere else.
struct JobHeader: Equatable {
    /// Whether rank 0 could read the image; the rest is meaningful only on success.
    var status = ExitStatus.success
    var width = 0, height = 0, channels = 0
    /// Every rank filters and deflates its own PNG rows; rank 0 stitches.
    var encodesInParallel = false
    /// How the ranks decode the image.
    var decode = DecodeMode.whole
    /// Restart segments of a PNG bandsaw wrote (decode == .segments).
    var segments = 0
    /// Sample range and first sample byte of a PGM/PPM read by rows (decode == .file).
    var pnmMaxval = 0, pnmDataOffset = 0
    /// Every rank writes its own PGM/PPM output rows (MPI-IO).
    var writesRows = false

    /// The header as the broadcast carries it.
    var wire: [Int64] {
        [Int64(status.rawValue), Int64(width), Int64(height), Int64(channels), encodesInParallel ? 1 : 0,
         decode.rawValue, Int64(segments), Int64(pnmMaxval), Int64(pnmDataOffset), writesRows ? 1 : 0]
    }

    static let wireCount = 10

    init() {}

    init(wire w: [Int64]) {
        precondition(w.count == Self.wireCount, "a job header has \(Self.wireCount) fields")
        status = ExitStatus(rawValue: Int32(w[0])) ?? .failure
        width = Int(w[1]); height = Int(w[2]); channels = Int(w[3])
        encodesInParallel = w[4] == 1
        decode = DecodeMode(rawValue: w[5]) ?? .whole
        segments = Int(w[6]); pnmMaxval = Int(w[7]); pnmDataOffset = Int(w[8])
        writesRows = w[9] == 1
    }
}

/// How the ranks decode an image (the header's code for it).
enum DecodeMode: Int64 {
    /// Rank 0 decodes the whole image and scatters pixels.
    case whole = 0
    /// Every rank decodes its own restart segments (PNGs bandsaw wrote).
    case segments = 1
    /// Rank 0 inflates, every rank unfilters its own rows (other PNGs).
    case rows = 2
    /// Every rank reads its own rows of a PGM/PPM (`--io mpiio`).
    case file = 3
    /// Every rank decodes its own rows of a TIFF, from the strips or tiles that hold them.
    case tiff = 4

    var name: String { ["whole", "segments", "rows", "mpiio", "tiff"][Int(rawValue)] }
}

// MARK: - Agreement

/// Why a phase failed on one rank: the exit code it maps to and the line to print.
struct Failure: Error {
    var status: ExitStatus
    var message: String

    init(_ error: ImageError) { status = ExitStatus(for: error); message = error.description }
    init(status: ExitStatus, message: String) { self.status = status; self.message = message }
}

extension SPMDRunner {
    /// The ranks agree on how `phase` ended: every rank gives its own failure (or none, or the
    /// one `BANDSAW_FAULT` injects here), all learn the worst status (the lowest rank among
    /// equals) with one `MPI_Allreduce`, and on failure that rank's message reaches rank 0,
    /// which prints it once. Returns the agreed failure on every rank, nil when all succeeded.
    func agree(_ phase: Phase, _ failure: Failure? = nil) throws -> Failure? {
        var mine = failure
        if mine == nil, let fault = FaultInjection.current, fault.phase == phase, fault.rank == world.rank {
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
        let status = ExitStatus(rawValue: Int32(worst >> 32)) ?? .failure
        guard status != .success else { return nil }
        let rank = Int(Int64(UInt32.max) - (worst & Int64(UInt32.max)))
        var text = Array((mine?.message ?? "").utf8)
        if rank != 0 { try world.broadcast(bytes: &text, root: rank) }
        let message = String(decoding: text, as: UTF8.self)
        // A user's bad file read by rank 0 keeps its plain words (the same as on one rank);
        // anything else says where it happened.
        let line = rank == 0 && status == .badImage ? message : "\(phase.name) failed on rank \(rank): \(message)"
        if isRoot { Console.error(line) }
        return Failure(status: status, message: line)
    }
}

// MARK: - Fault injection (a testing aid)

/// `BANDSAW_FAULT=PHASE:RANK` makes phase PHASE (read, decode, scatter, compute, encode,
/// gather, write) fail on rank RANK when the ranks next agree on it, exit code 1; with
/// `:stall` appended, that rank sleeps 60 s there instead (for the signal tests: at `write`
/// on rank 0, the temporary output file exists). Documented in README's testing notes; it
/// costs nothing when unset.
struct FaultInjection {
    var phase: Phase, rank: Int, stall: Bool, text: String

    static let current: FaultInjection? = {
        guard let raw = getenv("BANDSAW_FAULT").map({ String(cString: $0) }), !raw.isEmpty else { return nil }
        let parts = raw.split(separator: ":").map(String.init)
        guard parts.count >= 2, let phase = Phase.allCases.first(where: { $0.name == parts[0] }),
              let rank = Int(parts[1]) else { return nil }
        return FaultInjection(phase: phase, rank: rank, stall: parts.count > 2 && parts[2] == "stall", text: raw)
    }()
}

// MARK: - Temporary files and signals

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
enum TemporaryFiles {
    static func installSignalHandlers() {
        guard !SignalOwnership.hostHandlesSignals else { return }
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            _ = Glibc.signal(signal, removeTemporaryAndDie)
            sigaddset(&set, signal)
        }
        // A parent may have blocked them (the mask is inherited across exec): let them in.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Records the temporary file being written (nil: none any more).
    static func track(_ path: String?) {
        let old = pendingTemporary
        pendingTemporary = path.map { strdup($0) }
        free(old)
    }
}
