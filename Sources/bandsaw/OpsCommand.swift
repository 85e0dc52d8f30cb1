import ArgumentParser
import Foundation
import ImageCore
import ImageCodecs
import ImageFilters
import SPMDEngine

/// `bandsaw ops`: the filters, their parameters with ranges and defaults, halo and output mode.
struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ops", abstract: "List the filters and their parameters.")

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        if json {
            Console.out(try Self.jsonText())
            return
        }
        for f in Filters.all {
            let kernel = f.make(f.defaults), halo = kernel.halo
            Console.out(f.name + String(repeating: " ", count: max(0, 10 - f.name.count)) + " \(f.summary)")
            // A non-local filter's halo covers only its local part; the rest is joined across bands.
            let reach = kernel is any NonLocalKernel
                ? "; non-local: then hysteresis across all bands, joined in one exchange" : ""
            Console.out("           output: \(f.outputMode.rawValue); halo at defaults: \(halo) row\(halo == 1 ? "" : "s")\(reach)")
            for p in f.parameters {
                Console.out("           \(p.name)=\(formatDefault(p)): \(p.help) (\(p.expectation))")
            }
        }
        // The formats, after the filters (the JSON form lists filters only: run.sh reads it).
        Console.out("")
        Console.out("formats (read by content, written by the output's extension):")
        for format in ImageFormat.allCases {
            let names = format.extensions.map { "." + $0 }.joined(separator: " ")
            Console.out("  " + names + String(repeating: " ", count: max(1, 16 - names.count)) + format.summary)
        }
    }

    /// The filters as JSON (also served by `bandsaw serve` at /v1/ops).
    static func jsonText() throws -> String {
        let entries = Filters.all.map { f in
            FilterEntry(name: f.name, description: f.summary, output: f.outputMode.rawValue,
                        halo_at_defaults: f.make(f.defaults).halo,
                        non_local: f.make(f.defaults) is any NonLocalKernel,
                        parameters: f.parameters.map { p in
                            ParameterEntry(name: p.name, type: p.kind.rawValue, min: p.range.lowerBound,
                                           max: p.range.upperBound, default: p.defaultValue, odd: p.mustBeOdd, help: p.help)
                        })
        }
        let encoder = JSONEncoder()
        // Sorted keys: a stable text (run.sh's help reads the filter names from it).
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(entries), as: UTF8.self)
    }

    /// One filter in `bandsaw ops --json` (field names are the JSON keys).
    private struct FilterEntry: Encodable {
        var name: String, description: String, output: String
        var halo_at_defaults: Int
        /// Whether the output at a pixel can depend on rows beyond the halo (canny's hysteresis).
        var non_local: Bool
        var parameters: [ParameterEntry]
    }

    /// One parameter of a filter in `bandsaw ops --json`.
    private struct ParameterEntry: Encodable {
        var name: String, type: String
        var min: Double, max: Double, `default`: Double
        var odd: Bool
        var help: String
    }

    private func formatDefault(_ p: ParameterSpec) -> String {
        switch p.kind {
        case .int: return String(Int(p.defaultValue))
        case .double: return String(p.defaultValue)
        case .bool: return String(p.defaultValue != 0)
        }
    }
}
