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
    /// The batch's progress line (drawn only on a terminal, without --quiet).
    let progress: ProgressLine

    init(settings: RunSettings, ranks: Int, table: Bool, progress: Bool) {
        self.settings = settings; self.ranks = ranks; self.table = table
        self.progress = ProgressLine(enabled: progress)
    }

    var events: RunEvents {
        let (table, ranks, progress) = (self.table, self.ranks, self.progress)
        let ops = settings.specs.map(\.description).joined(separator: " | ")
        return RunEvents(
            failed: { line in progress.around { Console.error(line) } },
            finished: { image in
                guard table else { return }
                progress.around {
                let shape = "\(image.width)x\(image.height)x\(image.channels)"
                Console.out(Self.table(image.phases, title: "\(image.input) (\(shape)) -> \(image.output)  [\(ops)] "
                                                             + "on \(ranks) rank\(ranks == 1 ? "" : "s")"))
                if let rounds = image.hysteresis_rounds {
                    Console.out("hysteresis exchanges: \(rounds.map(String.init).joined(separator: ", "))")
                }
                }
            },
            planned: { progress.planned($0) },
            ended: { progress.ended($0) })
    }

    /// The closing line of a batch: how many images were written and which failed (stderr, so
    /// stdout keeps only tables or JSON).
    func summary(_ report: RunReport, skipped: Int) {
        progress.finish()
        guard let batch = report.batch else {
            if skipped > 0 { Console.note("\(skipped) image\(skipped == 1 ? "" : "s") skipped: output exists") }
            return
        }
        let failed = batch.filter { $0.status != "written" }.map(\.input)
        var line = "\(batch.count - failed.count) of \(batch.count) images written"
        if skipped > 0 { line += " (\(skipped) skipped: output exists)" }
        if !failed.isEmpty {
            let names = failed.prefix(10).joined(separator: ", ")
            line += "; \(failed.count) failed: \(names)" + (failed.count > 10 ? " and \(failed.count - 10) more" : "")
        }
        Console.note(line)
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
