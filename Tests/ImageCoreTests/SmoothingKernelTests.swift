import Testing
import ImageCore
@testable import ImageFilters

// Golden cases, brute-force references and band splits for gaussian, box, median and sharpen.

// MARK: - Helpers

/// A deterministic pseudo-random image (xorshift), so failures reproduce.
private func noiseImage(width: Int, height: Int, channels: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> Image {
    var state = seed
    let pixels = (0..<(width * height * channels)).map { _ -> UInt8 in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 32)
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

private func run(_ kernel: any Kernel, _ image: Image) -> Image {
    kernel.apply(image.asBand, rows: 0..<image.height).asImage
}

/// The image computed band by band over `ranks` bands, each band given only the rows it needs.
private func runBanded(_ kernel: any Kernel, _ image: Image, ranks: Int) -> Image {
    let plan = BandPlan(height: image.height, ranks: ranks, halo: kernel.halo)
    var pixels: [UInt8] = []
    for share in plan.shares where !share.owned.isEmpty {
        let out = kernel.apply(image.band(rows: share.needed), rows: share.owned)
        #expect(out.firstRow == share.owned.lowerBound && out.rowCount == share.owned.count)
        pixels += out.pixels
    }
    return Image(width: image.width, height: image.height, channels: image.channels, pixels: pixels)
}

/// Sample (x, y, ch) with coordinates clamped: the replicate border rule.
private func sample(_ image: Image, _ x: Int, _ y: Int, _ ch: Int) -> Int {
    let cx = min(image.width - 1, max(0, x)), cy = min(image.height - 1, max(0, y))
    return Int(image.pixels[(cy * image.width + cx) * image.channels + ch])
}

/// Applies `f(x, y, ch)` to every sample.
private func mapSamples(_ image: Image, _ f: (Int, Int, Int) -> Int) -> Image {
    var out = image
    for y in 0..<image.height { for x in 0..<image.width { for ch in 0..<image.channels {
        out.pixels[(y * image.width + x) * image.channels + ch] = UInt8(f(x, y, ch))
    } } }
    return out
}

/// The documented gaussian arithmetic, written out directly: pass 2 sums (22 fractional bits).
private func referenceGaussianSums(_ image: Image, sigma: Double) -> [Int] {
    let taps = GaussianTaps(sigma: sigma), r = taps.radius
    let w = taps.weights.map(Int.init)
    let h = mapSamples(image) { _, _, _ in 0 }  // shape only
    var pass1 = [Int](repeating: 0, count: h.pixels.count)
    for y in 0..<image.height { for x in 0..<image.width { for ch in 0..<image.channels {
        var s = 0
        for i in -r...r { s += w[abs(i)] * sample(image, x + i, y, ch) }
        pass1[(y * image.width + x) * image.channels + ch] = (s + 128) >> 8
    } } }
    var sums = pass1
    for y in 0..<image.height { for x in 0..<image.width { for ch in 0..<image.channels {
        var s = 0
        for i in -r...r {
            let yy = min(image.height - 1, max(0, y + i))
            s += w[abs(i)] * pass1[(yy * image.width + x) * image.channels + ch]
        }
        sums[(y * image.width + x) * image.channels + ch] = s
    } } }
    return sums
}

private let allKernels: [(String, any Kernel)] = [
    ("gaussian 1.5", GaussianKernel(sigma: 1.5)), ("gaussian 0.1", GaussianKernel(sigma: 0.1)),
    ("gaussian 4", GaussianKernel(sigma: 4)),
    ("box 1", BoxKernel(size: 1)), ("box 3", BoxKernel(size: 3)), ("box 9", BoxKernel(size: 9)),
    ("median 1", MedianKernel(size: 1)), ("median 3", MedianKernel(size: 3)), ("median 7", MedianKernel(size: 7)),
    ("sharpen", SharpenKernel(amount: 1, sigma: 1)), ("sharpen strong", SharpenKernel(amount: 3.7, sigma: 2.5)),
]

// MARK: - Golden cases

@Suite("Smoothing kernels")
struct SmoothingKernelTests {
    @Test("every smoothing filter is registered with sameChannels output")
    func registry() {
        #expect(Filters.smoothing.map(\.name) == ["gaussian", "box", "median", "sharpen"])
        for descriptor in Filters.smoothing {
            #expect(descriptor.outputMode == .sameChannels)
            let kernel = descriptor.make(descriptor.defaults)
            #expect(kernel.outputChannels(forInput: 4) == 4)
        }
        #expect(Filters.named("gaussian")!.make(FilterParameters(values: ["sigma": 8])).halo == 24)
        #expect(Filters.named("median")!.make(FilterParameters(values: ["size": 15])).halo == 7)
    }

    @Test("gaussian weights are symmetric halves summing to exactly 2^15", arguments: [0.1, 0.5, 1.5, 8, 33.3, 64])
    func weights(sigma: Double) {
        let taps = GaussianTaps(sigma: sigma)
        #expect(taps.radius == Int((3 * sigma).rounded(.up)))
        #expect(taps.weights.dropFirst().reduce(Int(taps.weights[0])) { $0 + 2 * Int($1) } == 1 << 15)
        #expect(zip(taps.weights, taps.weights.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test("a constant image stays constant", arguments: [0, 1, 77, 254, 255] as [UInt8])
    func constant(value: UInt8) {
        let image = Image(width: 13, height: 9, channels: 3, pixels: [UInt8](repeating: value, count: 13 * 9 * 3))
        for (name, kernel) in allKernels {
            #expect(run(kernel, image) == image, "\(name)")
        }
    }

    @Test("box 3 on a hand-computed 3x3")
    func box3x3() {
        // 1 2 3 / 4 5 6 / 7 8 9; corner (0,0) window with replicate border:
        // 1 1 2 / 1 1 2 / 4 4 5 = 21, (21 + 4) / 9 = 2. Centre: 45 -> (45 + 4) / 9 = 5.
        let image = Image(width: 3, height: 3, channels: 1, pixels: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        // Row 0: [1 1 2 1 1 2 4 4 5]=21 -> 2, [1 2 3 1 2 3 4 5 6]=27 -> 3, [2 3 3 2 3 3 5 6 6]=33 -> 4
        // Row 1: [1 1 2 4 4 5 7 7 8]=39 -> 4, 45 -> 5, [2 3 3 5 6 6 8 9 9]=51 -> 6
        // Row 2: [4 4 5 7 7 8 7 7 8]=57 -> 6, 63 -> 7, [5 6 6 8 9 9 8 9 9]=69 -> 8
        #expect(run(BoxKernel(size: 3), image).pixels == [2, 3, 4, 4, 5, 6, 6, 7, 8])
    }

    @Test("box rounds half up: 4 ones and 5 zeros average to 0, 5 ones to 1")
    func boxRounding() {
        let four = Image(width: 3, height: 3, channels: 1, pixels: [0, 1, 0, 1, 0, 1, 0, 1, 0])
        #expect(run(BoxKernel(size: 3), four).pixels[4] == 0)
        let five = Image(width: 3, height: 3, channels: 1, pixels: [1, 0, 1, 0, 1, 0, 1, 0, 1])
        #expect(run(BoxKernel(size: 3), five).pixels[4] == 1)
    }

    @Test("median removes a single salt pixel", arguments: [3, 5])
    func salt(size: Int) {
        var image = Image(width: 7, height: 7, channels: 2, pixels: [UInt8](repeating: 40, count: 7 * 7 * 2))
        image.pixels[(3 * 7 + 3) * 2] = 255
        image.pixels[(0 * 7 + 0) * 2 + 1] = 0  // a pepper pixel in the corner, in the alpha channel
        #expect(run(MedianKernel(size: size), image).pixels.allSatisfy { $0 == 40 })
    }

    @Test("gaussian of an impulse is symmetric and sums to about 255")
    func impulse() {
        var image = Image(width: 21, height: 21, channels: 1)
        image.pixels[10 * 21 + 10] = 255
        let out = run(GaussianKernel(sigma: 1.5), image)
        let at = { (x: Int, y: Int) in out.pixels[y * 21 + x] }
        for y in 0..<21 { for x in 0..<21 {
            #expect(at(x, y) == at(20 - x, y) && at(x, y) == at(x, 20 - y) && at(x, y) == at(y, x))
        } }
        let total = out.pixels.reduce(0) { $0 + Int($1) }
        #expect(abs(total - 255) <= 12, "sum \(total)")
        #expect(at(10, 10) == out.pixels.max())
    }

    @Test("sharpen with amount 0 is the identity", arguments: [0.1, 1, 5])
    func sharpenZero(sigma: Double) {
        let image = noiseImage(width: 17, height: 11, channels: 4)
        #expect(run(SharpenKernel(amount: 0, sigma: sigma), image) == image)
    }

    @Test("sharpen raises a step edge's contrast and clamps")
    func sharpenEdge() {
        let image = mapSamples(Image(width: 10, height: 3, channels: 1)) { x, _, _ in x < 5 ? 20 : 240 }
        let out = run(SharpenKernel(amount: 2, sigma: 1), image)
        #expect(out.pixels[4] < 20 && out.pixels[5] == 255)
        #expect(out.pixels[0] == 20 && out.pixels[9] == 240)
    }

    // MARK: - References

    @Test("gaussian matches the documented arithmetic written out directly", arguments: [0.1, 0.7, 2.2])
    func gaussianReference(sigma: Double) {
        let image = noiseImage(width: 23, height: 14, channels: 3)
        let sums = referenceGaussianSums(image, sigma: sigma)
        #expect(run(GaussianKernel(sigma: sigma), image).pixels == sums.map { UInt8(($0 + (1 << 21)) >> 22) })
    }

    @Test("sharpen matches the documented arithmetic written out directly")
    func sharpenReference() {
        let image = noiseImage(width: 19, height: 12, channels: 2)
        let sums = referenceGaussianSums(image, sigma: 1.3)
        let a = Int((1.7 * 256).rounded())
        let expected = zip(image.pixels, sums).map { x, s -> UInt8 in
            let blur = (s + (1 << 14)) >> 15
            let v = Int(x) + ((a * (Int(x) * 128 - blur) + (1 << 14)) >> 15)
            return UInt8(min(255, max(0, v)))
        }
        #expect(run(SharpenKernel(amount: 1.7, sigma: 1.3), image).pixels == expected)
    }

    @Test("box and median match brute force", arguments: [1, 3, 5, 9])
    func bruteForce(size: Int) {
        let image = noiseImage(width: 12, height: 10, channels: 3)
        let r = size / 2
        let box = mapSamples(image) { x, y, ch in
            var s = 0
            for dy in -r...r { for dx in -r...r { s += sample(image, x + dx, y + dy, ch) } }
            return (s + size * size / 2) / (size * size)
        }
        let median = mapSamples(image) { x, y, ch in
            var values: [Int] = []
            for dy in -r...r { for dx in -r...r { values.append(sample(image, x + dx, y + dy, ch)) } }
            return values.sorted()[values.count / 2]
        }
        #expect(run(BoxKernel(size: size), image) == box)
        #expect(run(MedianKernel(size: size), image) == median)
    }

    @Test("median matches brute force on a smooth image with few distinct values")
    func medianSmooth() {
        let base = mapSamples(Image(width: 40, height: 9, channels: 1)) { x, y, _ in (x * 7 + y * 3) % 256 }
        let r = 4
        let expected = mapSamples(base) { x, y, ch in
            var values: [Int] = []
            for dy in -r...r { for dx in -r...r { values.append(sample(base, x + dx, y + dy, ch)) } }
            return values.sorted()[values.count / 2]
        }
        #expect(run(MedianKernel(size: 9), base) == expected)
    }

    @Test("median matches brute force across its cache strips",
          arguments: [(1100, 1, 3), (300, 4, 5), (200, 3, 31)])
    func medianStrips(width: Int, channels: Int, size: Int) {
        let image = noiseImage(width: width, height: 4, channels: channels)
        let r = size / 2
        let expected = mapSamples(image) { x, y, ch in
            var values: [Int] = []
            for dy in -r...r { for dx in -r...r { values.append(sample(image, x + dx, y + dy, ch)) } }
            return values.sorted()[values.count / 2]
        }
        #expect(run(MedianKernel(size: size), image) == expected)
    }

    // MARK: - Exactness and shapes

    @Test("banded output equals whole-image output bit for bit", arguments: [1, 3, 4])
    func banded(channels: Int) {
        for (width, height) in [(31, 29), (8, 7), (3, 50)] {
            let image = noiseImage(width: width, height: height, channels: channels, seed: UInt64(width * 1000 + height))
            for (name, kernel) in allKernels {
                let whole = run(kernel, image)
                for ranks in [2, 3, 5, 11] {
                    #expect(runBanded(kernel, image, ranks: ranks) == whole, "\(name) \(width)x\(height)x\(channels) ranks \(ranks)")
                }
            }
        }
    }

    @Test("1x1, one-row and one-column images", arguments: [(1, 1), (9, 1), (1, 9), (2, 1)])
    func degenerate(width: Int, height: Int) {
        let image = noiseImage(width: width, height: height, channels: 3)
        for (name, kernel) in allKernels {
            let out = run(kernel, image)
            #expect(out.width == width && out.height == height && out.channels == 3, "\(name)")
            #expect(runBanded(kernel, image, ranks: 3) == out, "\(name)")
        }
        let single = Image(width: 1, height: 1, channels: 2, pixels: [200, 9])
        for (name, kernel) in allKernels {
            #expect(run(kernel, single) == single, "\(name)")  // every window is the one pixel
        }
    }

    @Test("empty row ranges give empty bands")
    func emptyRows() {
        let image = noiseImage(width: 5, height: 5, channels: 1)
        for (name, kernel) in allKernels {
            let out = kernel.apply(image.asBand, rows: 2..<2)
            #expect(out.pixels.isEmpty && out.firstRow == 2, "\(name)")
        }
    }
}
