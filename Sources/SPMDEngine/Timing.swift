import Foundation
import MPIKit

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

    /// The same figures as a JSON object, in milliseconds.
    var json: String {
        let phases = Phase.allCases.map { p in
            "\"\(p.name)\":{\"max_ms\":\(jsonNumber(max[p.rawValue] * 1000)),\"mean_ms\":\(jsonNumber(mean[p.rawValue] * 1000))}"
        }
        return "{\(phases.joined(separator: ",")),\"total_ms\":\(jsonNumber(total * 1000))}"
    }
}

/// A finite number as JSON text, rounded to microseconds.
func jsonNumber(_ value: Double) -> String {
    value.isFinite ? String((value * 1000).rounded() / 1000) : "null"
}

/// Escapes a string for a JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += "\\u" + String(scalar.value, radix: 16).leftPad(4, "0")
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPad(_ width: Int, _ pad: Character) -> String { String(repeating: pad, count: max(0, width - count)) + self }
}
