import ImageCore
import ImageFilters
import TestSupport
import PropertyBased
import Testing

/// Canny's hysteresis in bands (the rounds the SPMD driver runs over MPI, modelled in one
/// process by `HysteresisBand.settle`) equals the whole image's, and the spec's rules across
/// parameters. Equality with OpenCV itself is checked end to end (EndToEndTests/CannyTests).
@Suite("Canny: banded hysteresis == whole")
struct CannyTests {
    static func canny(_ text: String) -> any Kernel { try! FilterSpec(parsing: text).makeKernel() }

    @Test("random images, thresholds and band counts: banded == whole")
    func bandedEqualsWhole() async {
        await propertyCheck(count: 200, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let (image, ranks) = ExactnessTests.caseImage(&rng, maxSide: 200)
            let low = Int.random(in: 0...300, using: &rng), high = low + Int.random(in: 0...400, using: &rng)
            let l2 = Bool.random(using: &rng), blur = Int.random(in: 0..<4, using: &rng) == 0
            let spec = "canny:low=\(low),high=\(high),l2=\(l2)" + (blur ? ",sigma=0.8" : "")
            let pipeline = Pipeline([Self.canny(spec)])
            let whole = pipeline.apply(image)
            let (banded, _) = bandedPart(pipeline, to: image, ranks: ranks)
            #expect(banded == whole, "\(spec) on \(image.width)x\(image.height)x\(image.channels) in \(ranks) bands (seed \(seed)): \(firstDifference(banded, whole))")
            #expect(whole.pixels.allSatisfy { $0 == 0 || $0 == 255 } && whole.channels == 1)
        }
    }

    @Test("serpentine and spiral chains: every band count equals whole, rounds grow with the crossings",
          arguments: ["serpentine", "spiral"])
    func adversarial(_ kind: String) {
        let (width, height) = (97, 61)
        let image = kind == "serpentine" ? EdgePatterns.serpentine(width: width, height: height)
            : EdgePatterns.spiral(width: width, height: height)
        let pipeline = Pipeline([Self.canny("canny:low=50,high=150")])
        let whole = pipeline.apply(image)
        // Every candidate is reached: the same image with every candidate strong gives the same edges.
        #expect(whole == Pipeline([Self.canny("canny:low=50,high=50")]).apply(image))
        // ... and the chain reached the far end of the image, far from the only strong spot.
        let farEdges = (0..<height).reduce(0) { n, y in n + (width * 3 / 4..<width).filter { whole.pixels[y * width + $0] == 255 }.count }
        #expect(farEdges > height)
        // Band counts up to one row per band and beyond (empty bands); not every count, since
        // thin bands take many rounds (a debug build is slow enough).
        let counts = [1, 2, 3, 4, 5, 7, 9, 16, 30, height - 1, height, height + 2]
        var rounds: [Int] = []
        for ranks in counts {
            let (banded, n) = bandedPart(pipeline, to: image, ranks: ranks)
            #expect(banded == whole, "\(kind) in \(ranks) bands: \(firstDifference(banded, whole))")
            rounds.append(n)
        }
        print("\(kind) \(width)x\(height): rounds by band count \(Array(zip(counts, rounds)))")
        #expect(rounds[0] == 0)
        // A serpentine of 16 stripes crosses the one border of 2 bands 16 times (each wall); the spiral's
        // turns cross it twice each. Thin bands need more rounds still.
        #expect(rounds[1] >= (kind == "serpentine" ? 12 : 6), "rounds by band count: \(rounds)")
        #expect(rounds.max()! > 4 * rounds[1], "rounds by band count: \(rounds)")
    }

    @Test("sigma is the gaussian filter before canny")
    func sigmaIsGaussianFirst() {
        var rng = SeededRandom(seed: 11)
        let image = TestImages.random(width: 80, height: 50, channels: 3, using: &rng)
        let fused = Pipeline([Self.canny("canny:low=20,high=60,sigma=1.4")]).apply(image)
        let staged = Pipeline(specs: [try! FilterSpec(parsing: "gaussian:sigma=1.4"), try! FilterSpec(parsing: "canny:low=20,high=60")])
        #expect(fused == staged.apply(image))
        #expect(fused.pixels.contains(255))
    }

    @Test("pipelines cut after each non-local stage")
    func parts() {
        let p = Pipeline(specs: ["gaussian", "canny", "box", "canny", "invert"].map { try! FilterSpec(parsing: $0) })
        #expect(p.parts.map(\.stages.count) == [2, 2, 1])
        #expect(!p.isLocal && Pipeline(specs: [try! FilterSpec(parsing: "sobel")]).isLocal)
        #expect(Pipeline([]).parts.count == 1)
    }

    @Test("low above high, sigma below 0.1 but not 0, and a non-boolean l2 are refused")
    func refusals() throws {
        #expect(throws: FilterSpecError.inconsistent(filter: "canny", detail: "low=90.0 is above high=80.0: expected low <= high")) {
            try FilterSpec(parsing: "canny:low=90,high=80")
        }
        #expect(throws: FilterSpecError.self) { try FilterSpec(parsing: "canny:sigma=0.05") }
        #expect(throws: FilterSpecError.self) { try FilterSpec(parsing: "canny:l2=maybe") }
        #expect(throws: FilterSpecError.self) { try FilterSpec(parsing: "canny:high=40000") }
        #expect(throws: FilterSpecError.self) { try FilterSpec(parsing: "canny:low=-1") }
        #expect(try FilterSpec(parsing: "canny:low=80,high=80,l2=TRUE").description == "canny:high=80,l2=true,low=80,sigma=0")
    }
}
