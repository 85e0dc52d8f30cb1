import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
import SPMDEngine

/// What a run prints on rank 0: each image's error line or timing table as it ends, then the
/// JSON report (`--json`) and the report file (`--report`).
struct RunPrinter {
    let settings: RunSettings
    let ranks: Int
    /// Whether each image's table is printed (not with `--json` or `--quiet`).
    let table: Bool

    var events: RunEvents {
        let (table, ranks) = (self.table, self.ranks)
        let ops = settings.specs.map(\.description).joined(separator: " | ")
        return RunEvents(
            failed: { Console.error($0) },
            finished: { image in
                guard table else { return }
                let shape = "\(image.width)x\(image.height)x\(image.channels)"
                Console.out(Self.table(image.phases, title: "\(image.input) (\(shape)) -> \(image.output)  [\(ops)] "
                                                             + "on \(ranks) rank\(ranks == 1 ? "" : "s")"))
                if let rounds = image.hysteresis_rounds {
                    Console.out("hysteresis rounds: \(rounds.map(String.init).joined(separator: ", "))")
                }
            })
    }

    /// Prints the JSON report with `json`, and saves it to `reportPath`.
    func finish(_ report: RunReport, json: Bool, reportPath: String?) {
        let document = report.json
        if json { Console.out(document) }
        if let reportPath {
            do { try (document + "\n").write(toFile: reportPath, atomically: true, encoding: .utf8) }
            catch { Console.note("could not write the report to \(reportPath)") }
        }
    }

    /// The human table: every phase's slowest rank and mean, in milliseconds, then the total.
    static func table(_ summary: PhaseSummary, title: String) -> String {
        func ms(_ s: Double) -> String { String(format: "%10.2f", s * 1000) }
        func padded(_ name: String) -> String { name + String(repeating: " ", count: max(0, 8 - name.count)) }
        var lines = [title, "phase       max ms    mean ms"]
        for phase in Phase.allCases {
            lines.append(padded(phase.name) + ms(summary.max[phase.rawValue]) + " " + ms(summary.mean[phase.rawValue]))
        }
        lines.append("total   " + ms(summary.total))
        return lines.joined(separator: "\n")
    }
}
