import ArgumentParser
import ImageCore

/// `bandsaw ops`: the filters, their parameters with ranges and defaults, halo and output mode.
struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ops", abstract: "List the filters and their parameters.")

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        if json {
            let entries = Filters.all.map { f -> String in
                let params = f.parameters.map { p in
                    "{\"name\":\(jsonString(p.name)),\"type\":\(jsonString(p.kind.rawValue)),"
                        + "\"min\":\(jsonNumber(p.range.lowerBound)),\"max\":\(jsonNumber(p.range.upperBound)),"
                        + "\"default\":\(jsonNumber(p.defaultValue)),\"odd\":\(p.mustBeOdd),\"help\":\(jsonString(p.help))}"
                }
                return "{\"name\":\(jsonString(f.name)),\"description\":\(jsonString(f.summary)),"
                    + "\"output\":\(jsonString(f.outputMode.rawValue)),\"halo_at_defaults\":\(f.make(f.defaults).halo),"
                    + "\"parameters\":[\(params.joined(separator: ","))]}"
            }
            Console.out("[\(entries.joined(separator: ","))]")
            return
        }
        for f in Filters.all {
            let halo = f.make(f.defaults).halo
            Console.out("\(f.name.padding(10)) \(f.summary)")
            Console.out("           output: \(f.outputMode.rawValue); halo at defaults: \(halo) row\(halo == 1 ? "" : "s")")
            for p in f.parameters {
                Console.out("           \(p.name)=\(formatDefault(p)): \(p.help) (\(p.expectation))")
            }
        }
    }

    private func formatDefault(_ p: ParameterSpec) -> String {
        p.kind == .int ? String(Int(p.defaultValue)) : String(p.defaultValue)
    }
}
