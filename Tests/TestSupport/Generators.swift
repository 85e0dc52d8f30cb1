// Random filter parameters and failure messages for the property tests (the images and seeds
// they draw from: TestImages.swift).
import ImageCore
import ImageFilters

extension FilterDescriptor {
    /// Parameters drawn uniformly from each spec's range (odd where required), narrowed toward
    /// the lower bound until the kernel's halo is at most `maxHalo`, which keeps big windows
    /// (and the test's run time) modest.
    public func randomParameters(using rng: inout SeededRandom, maxHalo: Int = 4) -> FilterParameters {
        var uppers = parameters.map(\.range.upperBound)
        var refused = 0
        while true {
            var values: [String: Double] = [:]
            for (spec, upper) in zip(parameters, uppers) {
                switch spec.kind {
                case .int:
                    var v = Int.random(in: Int(spec.range.lowerBound)...Int(upper), using: &rng)
                    if spec.mustBeOdd && v % 2 == 0 { v += v + 1 <= Int(spec.range.upperBound) ? 1 : -1 }
                    values[spec.name] = Double(v)
                case .double:
                    values[spec.name] = Double.random(in: spec.range.lowerBound...upper, using: &rng)
                case .bool:
                    values[spec.name] = Bool.random(using: &rng) ? 1 : 0
                }
            }
            // Bound through the public parser, which also checks the draw against the spec; a
            // draw that breaks a rule across parameters (canny's low <= high, sigma 0 or >= 0.1)
            // is drawn again, and after many such draws in a row (narrowed ranges can leave no
            // valid draw: canny's sigma below 0.1) the defaults are taken, always valid.
            let text = name + (values.isEmpty ? "" : ":" + values.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
            guard let bound = try? FilterSpec(parsing: text).parameters else {
                refused += 1
                if refused >= 100 { return defaults }
                continue
            }
            refused = 0
            let narrowed = zip(parameters, uppers).map { spec, upper in
                let lo = spec.range.lowerBound
                return spec.kind == .int ? max(lo, ((lo + upper) / 2).rounded(.down)) : lo + (upper - lo) / 2
            }
            if make(bound).halo <= maxHalo || narrowed == uppers { return bound }
            uppers = narrowed
        }
    }

    /// `name:k=v,...` for failure messages.
    public func label(_ parameters: FilterParameters) -> String {
        let kv = parameters.values.keys.sorted().map { "\($0)=\(parameters.values[$0]!)" }
        return kv.isEmpty ? name : "\(name):\(kv.joined(separator: ","))"
    }
}

/// Where two images first differ, for failure messages.
public func firstDifference(_ a: Image, _ b: Image) -> String {
    guard a.width == b.width, a.height == b.height, a.channels == b.channels else {
        return "shapes \(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)"
    }
    guard let i = zip(a.pixels, b.pixels).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else {
        return "none"
    }
    let pixel = i / a.channels
    return "row \(pixel / a.width), column \(pixel % a.width), channel \(i % a.channels): \(a.pixels[i]) vs \(b.pixels[i])"
}
