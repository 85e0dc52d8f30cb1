import ImageCore
import ImageFilters
import PropertyBased
import TestSupport
import Testing

/// Canny's hysteresis (``HysteresisBand``) whole and across bands joined by their border
/// components (``BorderMerge``), against the definition computed the slow, obvious way: a
/// candidate next to an edge becomes an edge, until nothing changes. Random grids of edge
/// states, cut into random bands (empty ones and one row per band among them), and the
/// adversarial chains.
@Suite("Hysteresis by border components")
struct HysteresisTests {
    /// A grid of states: sparse or dense candidates, few or many strong ones.
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

    /// The definition: sweeps turning candidates with an 8-neighbour edge into edges, until a
    /// sweep changes nothing; then 255 for edges.
    static func reference(_ states: Band) -> Band {
        let (width, height) = (states.width, states.imageHeight)
        var p = states.pixels, changed = true
        while changed {
            changed = false
            for y in 0..<height {
                for x in 0..<width where p[y * width + x] == EdgeState.weak {
                    let next = (max(0, y - 1)...min(height - 1, y + 1)).contains { v in
                        (max(0, x - 1)...min(width - 1, x + 1)).contains { p[v * width + $0] == EdgeState.edge }
                    }
                    if next { p[y * width + x] = EdgeState.edge; changed = true }
                }
            }
        }
        return Band(width: width, channels: 1, imageHeight: height, firstRow: 0, pixels: p.map { $0 == EdgeState.edge ? 255 : 0 })
    }

    /// `states` cut into bands of `counts` rows, settled the way the ranks settle them: each
    /// band grows and labels its border components, pairs its first row with the last row of
    /// the band with rows above, one merge decides, each band grows what is on.
    static func banded(_ states: Band, counts: [Int]) -> Band {
        var start = 0, parts: [HysteresisBand] = []
        for n in counts {
            let pixels = Array(states.pixels[(start * states.width)..<((start + n) * states.width)])
            var part = HysteresisBand(states: Band(width: states.width, channels: 1, imageHeight: states.imageHeight,
                                                   firstRow: start, pixels: pixels))
            part.growFromOwnEdges()
            parts.append(part)
            start += n
        }
        var links: [BorderMerge.Links] = [], lastWithRows: Int?
        for i in parts.indices {
            let components = parts[i].labelBorderComponents()
            let above = parts[i].owned.isEmpty ? nil : lastWithRows
            let pairs = above.map { parts[i].touching(rowAbove: parts[$0].lastRowComponents) } ?? []
            links.append(BorderMerge.Links(components: components, above: above, pairs: pairs))
            if !parts[i].owned.isEmpty { lastWithRows = i }
        }
        let on = BorderMerge.resolve(links)
        for i in parts.indices { parts[i].settle(on: on[i]) }
        return Band(width: states.width, channels: 1, imageHeight: states.imageHeight, firstRow: 0,
                    pixels: parts.flatMap { $0.edges().pixels })
    }

    /// One band grown from its own edges.
    static func whole(_ states: Band) -> Band {
        var band = HysteresisBand(states: states)
        band.growFromOwnEdges()
        return band.edges()
    }

    @Test("one band: growth from the edges is the definition")
    func wholeGrid() async {
        await propertyCheck(count: 300, input: Gen.uint64().withoutShrink()) { seed in
            var rng = SeededRandom(seed: seed)
            let states = Self.states(&rng)
            let same = Self.whole(states) == Self.reference(states)
            #expect(same, "\(states.width)x\(states.imageHeight) (seed \(seed))")
        }
    }

    @Test("random bands, empty ones among them: joined across the borders, the definition")
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
            let same = Self.banded(states, counts: counts) == Self.reference(states)
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
        let whole = Self.reference(states)
        let grown = Self.whole(states) == whole
        #expect(grown, "\(kind) as one band")
        for counts in [[height], [30, 31], [Int](repeating: 1, count: height), [0, 20, 0, 1, 40, 0]] {
            let same = Self.banded(states, counts: counts) == whole
            #expect(same, "\(kind) in bands \(counts)")
        }
        // The chain reaches far from its one strong spot.
        #expect(whole.pixels.filter { $0 == 255 }.count > 4 * height)
    }
}
