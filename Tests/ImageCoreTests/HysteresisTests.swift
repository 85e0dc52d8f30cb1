import ImageCore
import PropertyBased
import TestSupport
import Testing

/// Hysteresis by components (``EdgeComponents``, ``BorderMerge``) against the direct
/// definition, growth from every strong pixel through 8-connected candidates
/// (``HysteresisBand``), on random grids of edge states cut into random bands.
@Suite("Hysteresis by components")
struct HysteresisTests {
    /// A grid of states: sparse or dense candidates, short strokes or noise, few strong ones.
    static func states(_ rng: inout SeededRandom) -> Band {
        let shape = Shape.random(using: &rng, maxSide: 90)
        let (width, height) = (shape.width, shape.height)
        let density = [0.05, 0.3, 0.6, 0.9].randomElement(using: &rng)!
        let strongShare = [0.0, 0.01, 0.1, 0.5].randomElement(using: &rng)!
        var pixels = [UInt8](repeating: EdgeState.none, count: width * height)
        for i in pixels.indices where Double.random(in: 0..<1, using: &rng) < density {
            pixels[i] = Double.random(in: 0..<1, using: &rng) < strongShare ? EdgeState.edge : EdgeState.weak
        }
        return Band(width: width, channels: 1, imageHeight: height, firstRow: 0, pixels: pixels)
    }

    /// The direct definition on the whole grid.
    static func grown(_ states: Band) -> Band {
        var band = HysteresisBand(states: states)
        band.growFromOwnEdges()
        return band.edges()
    }

    /// `states` cut into bands of `counts` rows, each labelled on its own, joined the way the
    /// ranks join them: each band's first row against the last row of the band with rows above.
    static func banded(_ states: Band, counts: [Int]) -> Band {
        var start = 0, parts: [EdgeComponents] = []
        for n in counts {
            let rows = start..<(start + n)
            let pixels = Array(states.pixels[(rows.lowerBound * states.width)..<(rows.upperBound * states.width)])
            parts.append(EdgeComponents(states: Band(width: states.width, channels: 1, imageHeight: states.imageHeight,
                                                     firstRow: start, pixels: pixels)))
            start += n
        }
        var links: [BorderMerge.Links] = [], lastWithRows: Int?
        for (i, part) in parts.enumerated() {
            let above = part.rows.isEmpty ? nil : lastWithRows
            let pairs = above.map { part.touching(rowAbove: parts[$0].boundaryRow(last: true)) } ?? []
            links.append(BorderMerge.Links(strong: Array(part.strong.prefix(part.boundaryCount)), above: above, pairs: pairs))
            if !part.rows.isEmpty { lastWithRows = i }
        }
        let on = BorderMerge.resolve(links)
        let pixels = zip(parts, on).flatMap { $0.edges(boundaryOn: $1).pixels }
        return Band(width: states.width, channels: 1, imageHeight: states.imageHeight, firstRow: 0, pixels: pixels)
    }

    @Test("one band: the components that hold a strong pixel are the grown edges")
    func wholeGrid() async {
        await propertyCheck(count: 300, input: Gen.uint64().withoutShrink()) { seed in
            var rng = SeededRandom(seed: seed)
            let states = Self.states(&rng)
            let same = EdgeComponents(states: states).edges() == Self.grown(states)
            #expect(same, "\(states.width)x\(states.imageHeight) (seed \(seed))")
        }
    }

    @Test("random bands, empty ones among them: joined across the borders, the grown edges")
    func bands() async {
        await propertyCheck(count: 300, input: Gen.uint64().withoutShrink()) { seed in
            var rng = SeededRandom(seed: seed)
            let states = Self.states(&rng)
            let height = states.imageHeight
            // Cut points anywhere, repeated ones giving empty bands; sometimes one row per band.
            var cuts = Int.random(in: 0..<4, using: &rng) == 0 ? Array(0...height)
                : (0..<Int.random(in: 0...8, using: &rng)).map { _ in Int.random(in: 0...height, using: &rng) }
            cuts = ([0, height] + cuts).sorted()
            let counts = zip(cuts, cuts.dropFirst()).map { $1 - $0 }
            let same = Self.banded(states, counts: counts) == Self.grown(states)
            #expect(same, "\(states.width)x\(height) in bands \(counts) (seed \(seed))")
        }
    }

    @Test("serpentine, spiral and comb states: one chain through every border of one-row bands",
          arguments: ["serpentine", "spiral", "comb"])
    func adversarial(_ kind: String) throws {
        let (width, height) = (97, 61)
        let image = switch kind {
        case "serpentine": EdgePatterns.serpentine(width: width, height: height)
        case "spiral": EdgePatterns.spiral(width: width, height: height)
        default: EdgePatterns.comb(width: width, height: height)
        }
        let canny = try FilterSpec(parsing: "canny:low=50,high=150").makeKernel() as! any NonLocalKernel
        let states = canny.edgeStates(image.asBand, rows: 0..<height)
        let whole = Self.grown(states)
        let labelled = EdgeComponents(states: states).edges() == whole
        #expect(labelled, "\(kind) as one band")
        for counts in [[height], [30, 31], [Int](repeating: 1, count: height), [0, 20, 0, 1, 40, 0]] {
            let same = Self.banded(states, counts: counts) == whole
            #expect(same, "\(kind) in bands \(counts)")
        }
        // The chain reaches far from its one strong spot.
        #expect(whole.pixels.filter { $0 == 255 }.count > 4 * height)
    }
}
