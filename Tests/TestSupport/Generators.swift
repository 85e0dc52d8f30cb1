import ImageCore
import ImageFilters
import TestSupport

/// SplitMix64: a tiny seeded generator, so every random case is rebuilt from one printed seed.
public struct SeededRandom: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Image {
    /// Random samples with some structure: flat runs, hard steps and noise, so edge kernels
    /// see zero, small and saturating responses.
    public static func random(width: Int, height: Int, channels: Int, using rng: inout SeededRandom) -> Image {
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let style = Int.random(in: 0..<3, using: &rng)
        for i in pixels.indices {
            switch style {
            case 0: pixels[i] = UInt8.random(in: 0...255, using: &rng)
            case 1: pixels[i] = (i / channels) % 7 < 3 ? 250 : UInt8.random(in: 0...12, using: &rng)
            default: pixels[i] = i > 0 && Int.random(in: 0..<4, using: &rng) > 0 ? pixels[i - 1] : .random(in: 0...255, using: &rng)
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}

/// One random image shape: mostly small, with the degenerate 1-row and 1-column cases and
/// occasionally a wide image (about 2000 columns) to exercise long vector loops.
public struct Shape: CustomStringConvertible {
    public var width: Int, height: Int, channels: Int
    public var description: String { "\(width)x\(height)x\(channels)" }

    public static func random(using rng: inout SeededRandom, maxSide: Int = 300) -> Shape {
        func side() -> Int {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: return 1
            case 1: return Int.random(in: 2...3, using: &rng)
            case 2...5: return Int.random(in: 1...40, using: &rng)
            default: return Int.random(in: 1...maxSide, using: &rng)
            }
        }
        var width = side(), height = side()
        if Int.random(in: 0..<25, using: &rng) == 0 {
            width = Int.random(in: 1900...2100, using: &rng); height = min(height, 24)
        }
        return Shape(width: width, height: height, channels: Int.random(in: 1...4, using: &rng))
    }

    public init(width: Int, height: Int, channels: Int) {
        self.width = width; self.height = height; self.channels = channels
    }
}

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
