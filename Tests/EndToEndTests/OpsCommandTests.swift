import Foundation
import ImageCore
import ImageFilters
import TestSupport
import Testing

/// `bandsaw ops`: the registry as text and as JSON.
struct OpsCommandTests {
    @Test("ops --json lists every registered filter with its parameters, ranges and halo")
    func json() throws {
        let r = try Harness.bandsaw(["ops", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(list.compactMap { $0["name"] as? String } == Filters.all.map(\.name))
        for (entry, filter) in zip(list, Filters.all) {
            #expect(entry["halo_at_defaults"] as? Int == filter.make(filter.defaults).halo, "\(filter.name)")
            #expect(entry["output"] as? String == filter.outputMode.rawValue && entry["description"] as? String == filter.summary)
            let parameters = try #require(entry["parameters"] as? [[String: Any]])
            #expect(parameters.compactMap { $0["name"] as? String } == filter.parameters.map(\.name), "\(filter.name)")
            for (p, spec) in zip(parameters, filter.parameters) {
                #expect(p["min"] as? Double == spec.range.lowerBound && p["max"] as? Double == spec.range.upperBound
                        && p["default"] as? Double == spec.defaultValue && p["odd"] as? Bool == spec.mustBeOdd, "\(filter.name).\(spec.name)")
            }
        }
        let text = try Harness.bandsaw(["ops"])
        #expect(text.status == 0 && Filters.all.allSatisfy { text.stdout.contains($0.summary) })
    }
}
