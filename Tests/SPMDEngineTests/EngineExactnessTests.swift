import ImageCodecs
import ImageCore
import ImageFilters
import PropertyBased
@testable import SPMDEngine
import TestSupport
import Testing

/// The real engine on 1 to 7 in-process ranks (and more ranks than rows) gives the whole
/// image's bits: every filter with random parameters, random pipelines in both halo modes,
/// every band count, every kernel path.
///
/// Each property check draws one seed; the case is rebuilt from it and printed on failure,
/// and PropertyBased prints the `.fixedSeed` that replays it.
@Suite("Engine exactness: N in-process ranks == the whole image")
struct EngineExactnessTests {
    /// A case from `seed`: an image and a rank count, mostly 1 to 7, sometimes up to height + 3.
    static func caseImage(_ rng: inout SeededRandom, maxSide: Int = 200) -> (Image, Int) {
        let shape = TestSupport.Shape.random(using: &rng, maxSide: maxSide)
        let image = TestImages.random(width: shape.width, height: shape.height, channels: shape.channels, using: &rng)
        let ranks = Int.random(in: 0..<5, using: &rng) == 0 ? Int.random(in: 1...(shape.height + 3), using: &rng)
            : Int.random(in: 1...7, using: &rng)
        return (image, min(ranks, 24))
    }

    /// `image` through the engine on `ranks` ranks, PNG in and out (libpng in: the rows source
    /// on several ranks; parallel PNG out: the pieces sink).
    static func engine(_ image: Image, specs: [FilterSpec], ranks: Int, haloMode: HaloMode = .wide,
                       path: SIMDPath? = nil) throws -> (Image?, EngineHarness.Outcome) {
        let harness = try EngineHarness("exact")
        defer { harness.remove() }
        let input = try harness.write(image, as: "in.png", format: .png)
        return harness.process(input, to: harness.path("out.png"), ranks: ranks,
                               settings: RunSettings(specs: specs, haloMode: haloMode, kernelPath: path))
    }

    @Test("every filter, random parameters, every kernel path", arguments: Filters.all.map(\.name))
    func everyFilter(name: String) async throws {
        let descriptor = Filters.named(name)!
        await propertyCheck(count: 40, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let (image, ranks) = Self.caseImage(&rng)
            let parameters = descriptor.randomParameters(using: &rng)
            var spec = try! FilterSpec(parsing: descriptor.name)
            spec.parameters = parameters
            let whole = Pipeline([descriptor.make(parameters).using(.baseline)]).apply(image)
            for path in SIMDPath.supported {
                let (out, outcome) = try! Self.engine(image, specs: [spec], ranks: ranks, path: path)
                let context = "\(spec) on \(image.width)x\(image.height)x\(image.channels), \(ranks) ranks, \(path.rawValue) (seed \(seed))"
                #expect(outcome.allEnded(.success), "\(context): \(outcome.thrown) \(outcome.failures)")
                #expect(out == whole, "\(context): \(out.map { firstDifference($0, whole) } ?? "no output")")
            }
        }
    }

    @Test("random pipelines of 1-4 filters, wide halo and per stage")
    func pipelines() async {
        await propertyCheck(count: 120, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let (image, ranks) = Self.caseImage(&rng, maxSide: 120)
            let specs = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                let d = Filters.all.randomElement(using: &rng)!
                var spec = try! FilterSpec(parsing: d.name)
                spec.parameters = d.randomParameters(using: &rng, maxHalo: 3)
                return spec
            }
            let whole = Pipeline(specs: specs).using(.baseline).apply(image)
            let path = SIMDPath.supported.randomElement(using: &rng)!
            for mode in HaloMode.allCases {
                let (out, outcome) = try! Self.engine(image, specs: specs, ranks: ranks, haloMode: mode, path: path)
                let context = "\(specs.map(\.description).joined(separator: " | ")) on \(image.width)x\(image.height)x\(image.channels), \(ranks) ranks, \(mode.rawValue), \(path.rawValue) (seed \(seed))"
                #expect(outcome.allEnded(.success), "\(context): \(outcome.thrown) \(outcome.failures)")
                #expect(out == whole, "\(context): \(out.map { firstDifference($0, whole) } ?? "no output")")
            }
        }
    }

    @Test("every rank count from 1 to height + 3 on one odd-sized image")
    func everyRankCount() throws {
        var rng = SeededRandom(seed: 7)
        let image = TestImages.random(width: 37, height: 11, channels: 3, using: &rng)
        let specs = Filters.all.filter { $0.make($0.defaults).halo <= 2 }.prefix(3).map { try! FilterSpec(parsing: $0.name) }
        let whole = Pipeline(specs: specs).apply(image)
        for ranks in 1...(image.height + 3) {
            for mode in HaloMode.allCases {
                let (out, outcome) = try Self.engine(image, specs: specs, ranks: ranks, haloMode: mode)
                #expect(outcome.allEnded(.success) && out == whole, "\(ranks) ranks, \(mode.rawValue)")
            }
        }
    }

    @Test("canny: random images and thresholds, the ranks' hysteresis == the whole image's")
    func canny() async {
        await propertyCheck(count: 80, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let (image, ranks) = Self.caseImage(&rng, maxSide: 160)
            let low = Int.random(in: 0...300, using: &rng), high = low + Int.random(in: 0...400, using: &rng)
            let blur = Int.random(in: 0..<4, using: &rng) == 0
            let spec = try! FilterSpec(parsing: "canny:low=\(low),high=\(high),l2=\(Bool.random(using: &rng))" + (blur ? ",sigma=0.8" : ""))
            let whole = Pipeline(specs: [spec]).apply(image)
            let (out, outcome) = try! Self.engine(image, specs: [spec], ranks: ranks)
            #expect(outcome.allEnded(.success) && out == whole,
                    "\(spec) on \(image.width)x\(image.height)x\(image.channels), \(ranks) ranks (seed \(seed))")
        }
    }

    @Test("serpentine, spiral and comb chains: every rank count equals whole, in one exchange",
          arguments: ["serpentine", "spiral", "comb"])
    func adversarialCanny(_ kind: String) throws {
        let (width, height) = (97, 61)
        let image = switch kind {
        case "serpentine": EdgePatterns.serpentine(width: width, height: height)
        case "spiral": EdgePatterns.spiral(width: width, height: height)
        default: EdgePatterns.comb(width: width, height: height)
        }
        let spec = try FilterSpec(parsing: "canny:low=50,high=150")
        let whole = Pipeline(specs: [spec]).apply(image)
        // One row per band (height ranks) and more ranks than rows among them.
        let counts = [1, 2, 3, 5, 7, 16, height, height + 3]
        var exchanges: [Int] = []
        for ranks in counts {
            let (out, outcome) = try Self.engine(image, specs: [spec], ranks: ranks)
            #expect(outcome.allEnded(.success) && out == whole, "\(kind) on \(ranks) ranks")
            exchanges.append(outcome.report?.images.first?.hysteresis_rounds?.first ?? -1)
        }
        // However often the chain crosses the borders: none on one rank, one on every other count.
        #expect(exchanges == [0] + [Int](repeating: 1, count: counts.count - 1), "exchanges by rank count: \(exchanges)")
    }
}
