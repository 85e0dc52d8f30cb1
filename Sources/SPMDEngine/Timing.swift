import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MPIKit
import ImageCore
import ImageCodecs
import ImageFilters

/// The phases of one distributed image, in the order they happen.
enum Phase: Int, CaseIterable {
    /// `read`: rank 0 reads the file and, unless it has restart points, decodes it whole.
    /// `decode`: every rank decodes its own restart segments (PNGs written by bandsaw).
    case read, broadcast, scatter, decode, halo, compute, encode, gather, write

    var name: String { String(describing: self) }
}

/// Wall time per phase on this rank, measured with `MPI_Wtime`.
struct PhaseClock {
    private(set) var seconds = [Double](repeating: 0, count: Phase.allCases.count)

    /// Runs `body` and adds its wall time to `phase`.
    mutating func time<T, E: Error>(_ phase: Phase, _ body: () throws(E) -> T) throws(E) -> T {
        let start = MPI.wallTime()
        defer { seconds[phase.rawValue] += MPI.wallTime() - start }
        return try body()
    }
}

/// Per-phase times reduced over the ranks: the slowest rank and the mean.
struct PhaseSummary {
    var max: [Double]
    var mean: [Double]
    /// Wall time of the whole image on rank 0, read to write.
    var total: Double

    /// Reduces every rank's clock to rank 0 (the result is meaningful there only).
    static func reduce(_ clock: PhaseClock, total: Double, over world: Communicator) throws -> PhaseSummary {
        let max = try world.reduce(clock.seconds, op: .max)
        let sum = try world.reduce(clock.seconds, op: .sum)
        return PhaseSummary(max: max, mean: sum.map { $0 / Double(world.size) }, total: total)
    }

    /// The human table rank 0 prints.
    func table(title: String) -> String {
        func ms(_ s: Double) -> String { String(format: "%10.2f", s * 1000) }
        var lines = [title, "phase       max ms    mean ms"]
        for phase in Phase.allCases {
            lines.append(phase.name.padding(8) + ms(max[phase.rawValue]) + " " + ms(mean[phase.rawValue]))
        }
        lines.append("total   " + ms(total))
        return lines.joined(separator: "\n")
    }
}

extension PhaseSummary: Encodable {
    /// Each phase as `{"max_ms": ..., "mean_ms": ...}` under its name, then `total_ms`; in
    /// milliseconds rounded to microseconds.
    func encode(to encoder: any Encoder) throws {
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
struct ImageReport: Encodable {
    var input: String, output: String
    var width: Int, height: Int, channels: Int, output_channels: Int
    /// How the ranks decoded it: whole, segments, rows, mpiio or tiff.
    var decode: String
    var phases: PhaseSummary
    /// Each rank's peak resident memory so far (MiB), by rank.
    var peak_rss_mib: [Double]
    /// Per non-local stage (canny), the rounds its hysteresis took across the ranks; absent
    /// when the pipeline has none.
    var hysteresis_rounds: [Int]?
}

/// Peak memory of the ranks, for the report.
enum PeakMemory {
    /// This process's peak resident set so far (`getrusage`'s `ru_maxrss`, KiB on Linux), in MiB.
    static var residentMiB: Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
        return (Double(usage.ru_maxrss) / 1024 * 10).rounded() / 10
    }

    /// Every rank's peak, by rank, on rank 0 (one `MPI_Reduce` of a vector that is zero but
    /// for each rank's own entry; meaningful on rank 0 only).
    static func byRank(over world: Communicator) throws -> [Double] {
        var mine = [Double](repeating: 0, count: world.size)
        mine[world.rank] = residentMiB
        return try world.reduce(mine, op: .sum)
    }
}

/// The JSON report of a run: `--json` on stdout, `--report FILE`.
struct RunReport: Encodable {
    var ranks: Int
    var halo_mode: String
    var pipeline: String
    /// The kernel path rank 0 ran (`SIMDPath`); ranks on other hosts may differ, with the same bits.
    var simd: String = SIMDPath.active.rawValue
    var images: [ImageReport]

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
