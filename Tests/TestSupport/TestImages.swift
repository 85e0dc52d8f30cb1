// Every generated test image comes from here: the seeded random source, random shapes, the
// patterns the tests use, and the property-test generators built on them.
import ImageCore
import PropertyBased

/// SplitMix64: a tiny seeded generator, so every random case is rebuilt from one printed seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    /// The generator whose sequence `seed` fixes.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One random image shape: mostly small, with the degenerate 1-row and 1-column cases and
/// occasionally a wide image (about 2000 columns) to exercise long vector loops.
public struct Shape: CustomStringConvertible, Sendable {
    /// Columns, rows and interleaved samples per pixel (1...4).
    public var width: Int, height: Int, channels: Int
    public var description: String { "\(width)x\(height)x\(channels)" }

    public init(width: Int, height: Int, channels: Int) {
        self.width = width
        self.height = height
        self.channels = channels
    }

    /// A shape with sides up to `maxSide` (but for the rare wide one) and 1...4 channels.
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
}

/// The test images, each pattern for what it exercises; every one is a pure function of its
/// arguments, so a failing case is rebuilt from what the test printed.
public enum TestImages {
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

    /// Pseudo-random samples with no structure, so lossless round trips see every byte value
    /// and no flat runs.
    public static func noise(width: Int, height: Int, channels: Int, seed: UInt32 = 1) -> Image {
        var state = seed &* 2_654_435_761 | 1
        let pixels = (0..<(width * height * channels)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Stripes, a gradient and noise, so every filter has something to do (the end-to-end
    /// tests' inputs, of odd sizes and every channel layout).
    public static func stripes(width: Int, height: Int, channels: Int, seed: UInt64) -> Image {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var image = Image(width: width, height: height, channels: channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    let stripe = ((x / 3 + y / 5 + c) % 4 == 0) ? 200 : 40
                    let gradient = (x * 255) / max(1, width) / 2
                    let noise = Int(state % 32)
                    image.pixels[(y * width + x) * channels + c] = UInt8(clamping: stripe / 2 + gradient + noise)
                }
            }
        }
        return image
    }

    /// Smooth gradients (as photos mostly are), for lossy codecs.
    public static func smooth(width: Int, height: Int, channels: Int) -> Image {
        var image = Image(width: width, height: height, channels: channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    let v = x * 150 / max(width, 1) + y * 60 / max(height, 1) + c * 15  // at most 255
                    image.pixels[(y * width + x) * channels + c] = UInt8(v)
                }
            }
        }
        return image
    }
}

// MARK: - Property-test generators

extension TestImages {
    /// A generated image with what it was made from.
    public struct Case: CustomStringConvertible, Sendable {
        /// The seed the case is rebuilt from.
        public var seed: UInt64
        /// The image's size and channel count.
        public var shape: Shape
        /// The generated image.
        public var image: Image
        /// The random source after drawing the image, for the test's further choices.
        public var rng: SeededRandom
        public var description: String { "\(shape) (seed \(seed))" }
    }

    /// Seeds, not shrunk: a failing case is rebuilt from the seed it prints, and shrinking a
    /// seed would only give another unrelated case.
    public static var seeds: Generator<UInt64, Shrink.None<UInt64>> { Gen.uint64().withoutShrink() }

    /// Images of a random ``Shape`` (sides up to `maxSide`) filled by ``random(width:height:channels:using:)``.
    public static func cases(maxSide: Int = 300) -> Generator<Case, Shrink.None<UInt64>> {
        seeds.map { seed in
            var rng = SeededRandom(seed: seed)
            let shape = Shape.random(using: &rng, maxSide: maxSide)
            let image = random(width: shape.width, height: shape.height, channels: shape.channels, using: &rng)
            return Case(seed: seed, shape: shape, image: image, rng: rng)
        }
    }
}
