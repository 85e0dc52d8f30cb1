import ImageCore
import ImageFilters
import PropertyBased
import TestSupport
import Testing

/// The edge kernels against hand-computed images and against a plain, obviously-correct
/// implementation of each documented formula (clamped coordinates, no vectors, no padding).
@Suite("Edge kernels")
struct EdgeKernelTests {
    static func run(_ name: String, _ image: Image, _ parameters: String = "") -> Image {
        let spec = try! FilterSpec(parsing: parameters.isEmpty ? name : "\(name):\(parameters)")
        return Pipeline([spec.makeKernel()]).apply(image)
    }

    static func gray(_ rows: [[UInt8]]) -> Image {
        Image(width: rows[0].count, height: rows.count, channels: 1, pixels: rows.flatMap { $0 })
    }

    // MARK: - Golden cases, computed by hand

    @Test func sobelFlatImageIsZero() {
        let out = Self.run("sobel", Image(width: 5, height: 4, channels: 3,
                                          pixels: [UInt8](repeating: 200, count: 60)))
        #expect(out.channels == 1 && out.pixels == [UInt8](repeating: 0, count: 20))
    }

    /// A vertical step of 10: Gx = (1 + 2 + 1) * 10 = 40 on both sides of it, 0 where the
    /// replicated border makes the neighbours equal.
    @Test func sobelVerticalStep() {
        let out = Self.run("sobel", Self.gray([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]))
        #expect(out == Self.gray([[0, 40, 40, 0], [0, 40, 40, 0], [0, 40, 40, 0]]))
    }

    /// One bright pixel of 10: edge neighbours see Gy = 2 * 10 = 20 (or Gx), corners see
    /// Gx = Gy = 10, so round(sqrt(200)) = round(14.14) = 14; the centre sees nothing.
    @Test func sobelSinglePixel() {
        let out = Self.run("sobel", Self.gray([[0, 0, 0], [0, 10, 0], [0, 0, 0]]))
        #expect(out == Self.gray([[14, 20, 14], [20, 0, 20], [14, 20, 14]]))
    }

    /// Rounding to nearest: a 2-pixel bump where Gx = 4 * 3 = 12 and Gy = 1 * 3 = 3 gives
    /// sqrt(153) = 12.37 -> 12, and Gx = 12, Gy = 2 * 3 = 6 gives sqrt(180) = 13.42 -> 13;
    /// saturation: a step of 100 gives 400 -> 255.
    @Test func sobelRoundingAndSaturation() {
        let bump = Self.run("sobel", Self.gray([[0, 3], [0, 0]]))
        // (0,0): Gx = 1*(3-0) + 2*(3-0) + 1*(0-0) = 9, Gy = 1*(0-0) + 2*(0-0) + 1*(0-3) = -3 -> sqrt(90) = 9.49 -> 9
        // (1,0): Gx = 9, Gy = 1*(0-0) + 2*(0-3) + 1*(0-3) = -9 -> sqrt(162) = 12.73 -> 13
        // (0,1): Gx = 1*(3-0) + 0 + 0 = 3, Gy = 1*(0-0) + 2*(0-0) + 1*(0-3) = -3 -> sqrt(18) = 4.24 -> 4
        // (1,1): Gx = 3, Gy = 1*(0-0) + 2*(0-3) + 1*(0-3) = -9 -> sqrt(90) = 9.49 -> 9
        #expect(bump == Self.gray([[9, 13], [4, 9]]))
        let step = Self.run("sobel", Self.gray([[0, 100]]))
        #expect(step == Self.gray([[255, 255]]))
    }

    /// RGB goes through the shared luma: (77 * 20 + 128) >> 8 = 6 for pure red 20, so a
    /// one-row image [black, red 20] has Gx = 4 * 6 = 24 in both columns; alpha is ignored.
    @Test func sobelUsesSharedLuma() {
        let rgb = Image(width: 2, height: 1, channels: 3, pixels: [0, 0, 0, 20, 0, 0])
        #expect(Self.run("sobel", rgb) == Self.gray([[24, 24]]))
        let rgba = Image(width: 2, height: 1, channels: 4, pixels: [0, 0, 0, 7, 20, 0, 0, 255])
        #expect(Self.run("sobel", rgba) == Self.gray([[24, 24]]))
    }

    @Test func otherGoldens() {
        let step = Self.gray([[0, 0, 10, 10], [0, 0, 10, 10]])
        #expect(Self.run("prewitt", step) == Self.gray([[0, 30, 30, 0], [0, 30, 30, 0]]))
        // Scharr: (3 + 10 + 3) * 10 = 160, scaled by 1/4.
        #expect(Self.run("scharr", step) == Self.gray([[0, 40, 40, 0], [0, 40, 40, 0]]))
        let dot = Self.gray([[0, 0, 0], [0, 10, 0], [0, 0, 0]])
        #expect(Self.run("laplacian", dot) == Self.gray([[0, 10, 0], [10, 40, 10], [0, 10, 0]]))
        // Emboss weights sum to 1: a flat image keeps its value, alpha untouched.
        let flat = Image(width: 2, height: 2, channels: 2, pixels: [10, 99, 10, 98, 10, 97, 10, 96])
        #expect(Self.run("emboss", flat).pixels == [10, 99, 10, 98, 10, 97, 10, 96])
        // On one row the columns weigh -3, 1, 3: out(x) = -3 L(x-1) + L(x) + 3 L(x+1), clamped;
        // the rising edge saturates and the flat far side keeps its value.
        let edge = Self.gray([[0, 0, 100, 100]])
        #expect(Self.run("emboss", edge) == Self.gray([[0, 255, 255, 100]]))
        let levels = Self.gray([[127, 128, 129, 0, 255]])
        #expect(Self.run("threshold", levels) == Self.gray([[0, 255, 255, 0, 255]]))
        #expect(Self.run("threshold", levels, "value=0") == Self.gray([[255, 255, 255, 255, 255]]))
    }

    // MARK: - Against a plain reference

    /// Luma by the shared rule, coordinates clamped.
    static func lumaAt(_ image: Image, _ x: Int, _ y: Int) -> Int {
        let cx = min(max(x, 0), image.width - 1), cy = min(max(y, 0), image.height - 1)
        let i = (cy * image.width + cx) * image.channels
        let p = image.pixels
        return image.channels < 3 ? Int(p[i]) : Int(luma(p[i], p[i + 1], p[i + 2]))
    }

    static func reference(_ name: String, _ image: Image) -> Image {
        let w = image.width, h = image.height, c = image.channels
        if name == "emboss" {
            var out = image
            let weights = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
            for y in 0..<h {
                for x in 0..<w {
                    for ch in 0..<c {
                        let i = (y * w + x) * c + ch
                        if (c == 2 || c == 4) && ch == c - 1 { continue }
                        var s = 0
                        for dy in -1...1 {
                            for dx in -1...1 {
                                let sx = min(max(x + dx, 0), w - 1), sy = min(max(y + dy, 0), h - 1)
                                s += weights[dy + 1][dx + 1] * Int(image.pixels[(sy * w + sx) * c + ch])
                            }
                        }
                        out.pixels[i] = UInt8(min(255, max(0, s)))
                    }
                }
            }
            return out
        }
        var out = Image(width: w, height: h, channels: 1)
        for y in 0..<h {
            for x in 0..<w {
                let L = { (dx: Int, dy: Int) in lumaAt(image, x + dx, y + dy) }
                let value: Int
                switch name {
                case "laplacian":
                    value = min(255, abs(L(0, -1) + L(-1, 0) + L(1, 0) + L(0, 1) - 4 * L(0, 0)))
                default:
                    let (a, b, scale): (Int, Int, Double) = name == "sobel" ? (1, 2, 1) : name == "prewitt" ? (1, 1, 1) : (3, 10, 0.25)
                    let gx = a * (L(1, -1) - L(-1, -1)) + b * (L(1, 0) - L(-1, 0)) + a * (L(1, 1) - L(-1, 1))
                    let gy = a * (L(-1, 1) - L(-1, -1)) + b * (L(0, 1) - L(0, -1)) + a * (L(1, 1) - L(1, -1))
                    // Nearest integer, ties to even, in double precision: the documented result.
                    value = min(255, Int((Double(gx * gx + gy * gy).squareRoot() * scale).rounded(.toNearestOrEven)))
                }
                out.pixels[y * w + x] = UInt8(value)
            }
        }
        return out
    }

    @Test("vector kernels equal the plain formulas", arguments: ["sobel", "prewitt", "scharr", "laplacian", "emboss"])
    func matchesReference(name: String) async {
        await propertyCheck(count: 60, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            // Widths around the 16-pixel vector chunk and its multiples matter most.
            let width = Bool.random(using: &rng) ? Int.random(in: 1...40, using: &rng) : Int.random(in: 1...140, using: &rng)
            let image = TestImages.random(width: width, height: Int.random(in: 1...12, using: &rng),
                                     channels: Int.random(in: 1...4, using: &rng), using: &rng)
            let got = Self.run(name, image), want = Self.reference(name, image)
            let same = got == want
            #expect(same, "\(name) on \(image.width)x\(image.height)x\(image.channels) (seed \(seed)): \(firstDifference(got, want))")
        }
    }

    /// Every magnitude a 3x3 operator can produce below the clamp rounds the documented way:
    /// the float path must agree with exact integer rounding for all n = Gx² + Gy² up to 256².
    @Test func magnitudeRoundingIsExact() {
        for n in 0...(256 * 256) {
            let root = Float(n).squareRoot()
            let viaFloat = Int(root + 0.5)
            var exact = Int(Double(n).squareRoot())
            while exact * exact > n { exact -= 1 }
            // round(sqrt(n)) = exact + 1 iff n > (exact + 0.5)², i.e. 4n > (2 exact + 1)².
            let rounded = 4 * n > (2 * exact + 1) * (2 * exact + 1) ? exact + 1 : exact
            if viaFloat != rounded { Issue.record("n = \(n): float \(viaFloat), exact \(rounded)"); return }
        }
    }
}
