import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ImageCore
import ImageCodecs
import ImageFilters
import MPIKit

/// The phases of one distributed image, in the order they happen.
public enum Phase: Int, CaseIterable, Sendable {
    /// `read`: rank 0 reads the file and, unless the ranks share its decode, decodes it whole.
    /// `decode`: every rank decodes its own part (restart segments, rows, strips or tiles).
    case read, broadcast, scatter, decode, halo, compute, encode, gather, write

    /// The phase's name in the table and the JSON report.
    public var name: String { String(describing: self) }
}

/// Seconds since an arbitrary point, from the monotonic clock (what `MPI_Wtime` reads here,
/// and available without MPI for the in-process world).
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Wall time per phase on this rank.
struct PhaseClock {
    private(set) var seconds = [Double](repeating: 0, count: Phase.allCases.count)

    mutating func add(_ phase: Phase, _ elapsed: Double) { seconds[phase.rawValue] += elapsed }
}

/// Per-phase times reduced over the ranks: the slowest rank and the mean.
public struct PhaseSummary: Sendable, Equatable {
    /// By phase (``Phase/rawValue``), in seconds.
    public var max: [Double]
    public var mean: [Double]
    /// Wall time of the whole image on rank 0, read to write.
    public var total: Double

    /// Reduces every rank's clock to rank 0 (the result is meaningful there only).
    static func reduce(_ clock: PhaseClock, total: Double, over world: any Collectives) throws -> PhaseSummary {
        let max = try world.reduce(clock.seconds, op: .max)
        let sum = try world.reduce(clock.seconds, op: .sum)
        return PhaseSummary(max: max, mean: sum.map { $0 / Double(world.size) }, total: total)
    }
}

extension PhaseSummary: Encodable {
    /// Each phase as `{"max_ms": ..., "mean_ms": ...}` under its name, then `total_ms`; in
    /// milliseconds rounded to microseconds.
    public func encode(to encoder: any Encoder) throws {
        var object = encoder.container(keyedBy: Key.self)
        for phase in Phase.allCases {
            var figures = object.nestedContainer(keyedBy: Key.self, forKey: Key(phase.name))
            try figures.encode(Self.milliseconds(max[phase.rawValue]), forKey: Key("max_ms"))
            try figures.encode(Self.milliseconds(mean[phase.rawValue]), forKey: Key("mean_ms"))
        }
        try object.encode(Self.milliseconds(total), forKey: Key("total_ms"))
    }

    private static func milliseconds(_ seconds: Double) -> Double? {
        seconds.isFinite ? (seconds * 1_000_000).rounded() / 1000 : nil
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// One image's entry in the JSON report (the field names are the report's keys).
public struct ImageReport: Codable, Sendable {
    public var input: String, output: String
    public var width: Int, height: Int, channels: Int, output_channels: Int
    /// How the ranks decoded it: whole, segments, rows, mpiio or tiff (the band source's name).
    public var decode: String
    public var phases: PhaseSummary
    /// Each rank's peak resident memory so far (MiB), by rank.
    public var peak_rss_mib: [Double]
    /// Per non-local stage (canny), the neighbour exchanges its hysteresis took across the
    /// ranks (1, or 0 on one rank, whatever the picture); absent when the pipeline has none.
    public var hysteresis_rounds: [Int]?
}

/// Peak memory of the ranks, for the report.
enum PeakMemory {
    /// This process's peak resident set so far (`getrusage`'s `ru_maxrss`, KiB on Linux), in MiB.
    static var residentMiB: Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
        return (Double(usage.ru_maxrss) / 1024 * 10).rounded() / 10
    }

    /// Every rank's peak, by rank, on rank 0 (one reduce of a vector that is zero but for each
    /// rank's own entry; meaningful on rank 0 only).
    static func byRank(over world: any Collectives) throws -> [Double] {
        var mine = [Double](repeating: 0, count: world.size)
        mine[world.rank] = residentMiB
        return try world.reduce(mine, op: .sum)
    }
}

/// The report of a run, as `--json` prints it and `--report FILE` saves it.
public struct RunReport: Encodable, Sendable {
    public var ranks: Int
    public var halo_mode: String
    public var pipeline: String
    /// The kernel path rank 0 ran (`SIMDPath`); ranks on other hosts may differ, with the same bits.
    public var simd: String = SIMDPath.active.rawValue
    public var images: [ImageReport]
    /// For a batch of several images: how they were spread (``Schedule``), each image's
    /// rank, time and status, and each rank's load (absent for a single image).
    public var schedule: String?
    public var batch: [BatchEntry]?
    public var rank_load: [RankLoad]?
    /// The batch's wall time on rank 0, first image to last.
    public var elapsed_ms: Double?

    /// The report as one line of JSON, keys sorted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
