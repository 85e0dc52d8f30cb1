import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// Odd shapes that catch row-stride and edge mistakes: single pixel, single row, single column.
let codecShapes: [(width: Int, height: Int)] = [(1, 1), (1, 17), (17, 1), (5, 3), (67, 45)]

@Suite("PNG codec")
struct CodecPNGTests {
    @Test("encode then decode is lossless", arguments: 1...4, codecShapes)
    func roundTrip(channels: Int, shape: (width: Int, height: Int)) throws {
        let image = TestImages.noise(width: shape.width, height: shape.height, channels: channels)
        let bytes = try PNGCodec.encode(image)
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try PNGCodec.decode(bytes, path: "mem", maxPixels: 1 << 20) == image)
    }

    @Test("every compression level decodes to the same pixels", arguments: [0, 1, 6, 9, -3, 42])
    func compressionLevels(level: Int) throws {
        let image = try CodecFixtures.load("variants/rgb8.png")
        let bytes = try PNGCodec.encode(image, compressionLevel: level)
        #expect(try PNGCodec.decode(bytes, path: "mem", maxPixels: 1 << 20) == image)
    }

    @Test("level 9 is no larger than level 0 on a photo")
    func compressionShrinks() throws {
        let image = try CodecFixtures.load("photos/coffee-256.png")
        let stored = try PNGCodec.encode(image, compressionLevel: 0)
        let packed = try PNGCodec.encode(image, compressionLevel: 9)
        #expect(packed.count < stored.count)
        #expect(stored.count > image.pixels.count)  // level 0 stores, it does not compress
    }

    @Test("an empty image cannot be encoded")
    func emptyImage() {
        expectImageError({ _ = try PNGCodec.encode(Image(width: 0, height: 3, channels: 1)) }) {
            if case .io = $0 { true } else { false }
        }
    }

    @Test("photos decode as 256x256 RGB", arguments: ["photos/astronaut-256.png", "photos/coffee-256.png"])
    func photos(file: String) throws {
        let image = try CodecFixtures.load(file)
        #expect((image.width, image.height, image.channels) == (256, 256, 3))
        #expect(Set(image.pixels).count > 200)
    }

    @Test("every colour type and depth decodes to the expected layout", arguments: [
        ("rgb8.png", 3), ("rgb8-adam7.png", 3), ("rgb16.png", 3), ("rgba8.png", 4),
        ("gray8.png", 1), ("gray16.png", 1), ("graya8.png", 2), ("gray1.png", 1), ("gray2.png", 1),
        ("gray4.png", 1), ("gray8-trns.png", 2), ("palette8.png", 3), ("palette8-trns.png", 4),
    ])
    func variantLayout(file: String, channels: Int) throws {
        let image = try CodecFixtures.load("variants/" + file)
        #expect(image.width == CodecFixtures.variantWidth)
        #expect(image.height == CodecFixtures.variantHeight)
        #expect(image.channels == channels)
    }

    @Test("RGB variants equal the 8-bit RGB reference",
          arguments: ["rgb8-adam7.png", "rgb16.png", "palette8.png", "rgb8.ppm", "rgb16.ppm"])
    func rgbVariantPixels(file: String) throws {
        let reference = try CodecFixtures.load("variants/rgb8.png")
        #expect(try CodecFixtures.load("variants/" + file) == reference)
    }

    @Test("gray variants equal the 8-bit gray reference", arguments: ["gray16.png", "gray8.pgm", "gray16.pgm"])
    func grayVariantPixels(file: String) throws {
        let reference = try CodecFixtures.load("variants/gray8.png")
        #expect(try CodecFixtures.load("variants/" + file) == reference)
    }

    @Test("low-bit gray expands by bit replication", arguments: [1, 2, 4])
    func lowBitGray(bits: Int) throws {
        let reference = try CodecFixtures.load("variants/gray8.png")
        let image = try CodecFixtures.load("variants/gray\(bits).png")
        let scale = 255 / ((1 << bits) - 1)
        #expect(image.pixels == reference.pixels.map { UInt8(Int($0 >> (8 - bits)) * scale) })
    }

    @Test("alpha variants keep the colour and the alpha plane")
    func alphaVariants() throws {
        let rgb = try CodecFixtures.load("variants/rgb8.png")
        let gray = try CodecFixtures.load("variants/gray8.png")
        let rgba = try CodecFixtures.load("variants/rgba8.png")
        let graya = try CodecFixtures.load("variants/graya8.png")
        #expect(codecChannels(rgba, 0..<3) == rgb.pixels)
        #expect(codecChannels(rgba, 3..<4) == CodecFixtures.variantAlpha())
        #expect(codecChannels(graya, 0..<1) == gray.pixels)
        #expect(codecChannels(graya, 1..<2) == CodecFixtures.variantAlpha())
    }

    @Test("tRNS becomes an alpha channel")
    func transparency() throws {
        let rgb = try CodecFixtures.load("variants/rgb8.png")
        let palette = try CodecFixtures.load("variants/palette8-trns.png")
        #expect(codecChannels(palette, 0..<3) == rgb.pixels)
        #expect(codecChannels(palette, 3..<4).contains { $0 < 255 })

        let gray = try CodecFixtures.load("variants/gray8.png")
        let keyed = try CodecFixtures.load("variants/gray8-trns.png")
        #expect(codecChannels(keyed, 0..<1) == gray.pixels)
        let alpha = codecChannels(keyed, 1..<2)
        let key = try #require(alpha.firstIndex(of: 0).map { gray.pixels[$0] })
        #expect(alpha == gray.pixels.map { $0 == key ? 0 : 255 })
    }

    @Test("decode without a signature is not an image")
    func notPNG() {
        #expect(throws: ImageError.notAnImage(path: "mem")) {
            try PNGCodec.decode(Array("hello, world".utf8), path: "mem", maxPixels: 100)
        }
    }

    @Test("the pixel limit applies to PNG decoding")
    func pixelLimit() throws {
        let bytes = try PNGCodec.encode(TestImages.noise(width: 10, height: 10, channels: 3))
        #expect(throws: ImageError.tooLarge(path: "mem", width: 10, height: 10, limit: 99)) {
            try PNGCodec.decode(bytes, path: "mem", maxPixels: 99)
        }
        #expect(try PNGCodec.decode(bytes, path: "mem", maxPixels: 100).width == 10)
    }

    @Test("a PNG cut anywhere is truncated or corrupt, never a crash")
    func everyCut() throws {
        let bytes = try PNGCodec.encode(TestImages.noise(width: 9, height: 7, channels: 4))
        for cut in stride(from: 4, to: bytes.count, by: 3) {
            expectImageError({ _ = try PNGCodec.decode(Array(bytes[..<cut]), path: "mem", maxPixels: 1000) }) {
                switch $0 {
                case .truncated, .corrupt: true
                default: false
                }
            }
        }
    }
}
