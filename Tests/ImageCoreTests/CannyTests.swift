import ImageCore
import ImageFilters
import PropertyBased
import TestSupport
import Testing

/// Canny on whole images and the spec's rules across parameters. The ranks' hysteresis is
/// checked against the whole image's by the engine tests (SPMDEngineTests), equality with
/// OpenCV itself end to end (EndToEndTests/CannyTests).
@Suite("Canny")
struct CannyTests {
    static func canny(_ text: String) -> any Kernel { try! FilterSpec(parsing: text).makeKernel() }

    @Test("serpentine and spiral chains: every candidate is reached", arguments: ["serpentine", "spiral"])
    func adversarial(_ kind: String) {
        let (width, height) = (97, 61)
        let image = kind == "serpentine" ? EdgePatterns.serpentine(width: width, height: height)
            : EdgePatterns.spiral(width: width, height: height)
        let whole = Pipeline([Self.canny("canny:low=50,high=150")]).apply(image)
        // Every candidate is reached: the same image with every candidate strong gives the same edges.
        #expect(whole == Pipeline([Self.canny("canny:low=50,high=50")]).apply(image))
        // ... and the chain reached the far end of the image, far from the only strong spot.
        let farEdges = (0..<height).reduce(0) { n, y in n + (width * 3 / 4..<width).filter { whole.pixels[y * width + $0] == 255 }.count }
        #expect(farEdges > height)
        #expect(whole.pixels.allSatisfy { $0 == 0 || $0 == 255 } && whole.channels == 1)
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
