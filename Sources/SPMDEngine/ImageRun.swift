import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit

/// Who this rank is for one image: rank 0 holds the job (its input and output), every other
/// rank works on what rank 0 tells it.
enum Role {
    case root(ImageJob)
    case worker
}

/// Called on rank 0 as a run goes: the command line prints from these, the engine never does.
public struct RunEvents: Sendable {
    /// The one line that says why an image (or the run) failed.
    public var failed: @Sendable (String) -> Void
    /// An image was written.
    public var finished: @Sendable (ImageReport) -> Void
    /// A batch of this many images begins (called once, before the first image).
    public var planned: @Sendable (Int) -> Void
    /// One image of a batch ended, written or failed (for a progress line).
    public var ended: @Sendable (BatchEntry) -> Void

    public init(failed: @escaping @Sendable (String) -> Void = { _ in },
                finished: @escaping @Sendable (ImageReport) -> Void = { _ in },
                planned: @escaping @Sendable (Int) -> Void = { _ in },
                ended: @escaping @Sendable (BatchEntry) -> Void = { _ in }) {
        self.failed = failed; self.finished = finished; self.planned = planned; self.ended = ended
    }
}

/// One image on one rank: the ranks, the settings, this rank's role, its phase clock, and the
/// steps every band source and sink shares (agreement, halo rows, temporary output).
final class ImageRun {
    let world: any Collectives
    let settings: RunSettings
    let role: Role
    let events: RunEvents
    let fault: FaultInjection?
    private(set) var clock = PhaseClock()
    /// The input's path on every rank, for sources that open the file on every rank (rank 0
    /// sends it with the header); empty otherwise.
    var inputPath = ""

    init(world: any Collectives, settings: RunSettings, role: Role, events: RunEvents, fault: FaultInjection?) {
        self.world = world; self.settings = settings; self.role = role; self.events = events; self.fault = fault
    }

    var isRoot: Bool { if case .root = role { true } else { false } }
    var rank: Int { world.rank }

    /// Rank 0's job; nil on every other rank.
    var job: ImageJob? { if case .root(let job) = role { job } else { nil } }

    /// Runs `body` and adds its wall time to `phase`.
    func time<T, E: Error>(_ phase: Phase, _ body: () throws(E) -> T) throws(E) -> T {
        let start = monotonicSeconds()
        defer { clock.add(phase, monotonicSeconds() - start) }
        return try body()
    }

    /// True on every rank when `ok` is true on every rank.
    func everyRank(_ ok: Bool) throws -> Bool { try world.everyRank(ok) }

    /// Fills the halo rows of `pixels` (this rank's needed rows under `plan`, its owned rows in
    /// place) from the neighbours, timed as `halo`.
    func exchangeHalo(_ pixels: inout [UInt8], plan: BandPlan, rowBytes: Int) throws {
        let share = plan.shares[rank]
        try time(.halo) {
            try pixels.withUnsafeMutableBytes { buffer in
                try world.exchangeRows(buffer: buffer, held: share.needed, rowBytes: rowBytes,
                                       reach: plan.exchangeReach, transfer: plan.transfer)
            }
        }
    }

    /// A band of this rank's needed rows, its owned rows already in place, with the halo rows
    /// filled from the neighbours.
    func band(filling pixels: consuming [UInt8], plan: BandPlan, width: Int, channels: Int) throws -> Band {
        var pixels = pixels
        try exchangeHalo(&pixels, plan: plan, rowBytes: width * channels)
        return Band(width: width, channels: channels, imageHeight: plan.height,
                    firstRow: plan.shares[rank].needed.lowerBound, pixels: pixels)
    }

    /// Whether the sync and rename of the output go to the settings' committer: only on one
    /// rank, where no other rank waits for the agreement on the rename.
    var defersCommit: Bool { settings.committer != nil && world.size == 1 }

    /// Rank 0 writes `bytes` to a temporary file beside `job`'s output (tracked, so a signal
    /// removes it); returns its name, or the failure to agree on.
    func writeTemporary(_ bytes: [UInt8], for job: ImageJob) -> (String?, Failure?) {
        time(.write) {
            TemporaryFiles.track(temporaryPath(for: job.output))
            do throws(ImageError) {
                return (try writeTemporaryFile(bytes, for: job.output, sync: !defersCommit), nil)
            } catch {
                TemporaryFiles.track(nil)
                return (nil, Failure(error))
            }
        }
    }
}
