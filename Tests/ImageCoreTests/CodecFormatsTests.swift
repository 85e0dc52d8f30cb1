import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

@Suite("JPEG, TIFF and WebP")
struct CodecFormatsTests {
    // MARK: - Against the reference decoders

    @Test("every file decodes to the reference decoder's pixels", arguments: ["jpeg-", "webp-", "tiff-"])
    func matchesReference(prefix: String) throws {
        guard try FormatReferences.require() else { return }
        let cases = FormatReferences.cases(prefix)
        #expect(cases.count >= 4, "too few \(prefix) cases")
        for c in cases {
            let image = try readImage(path: c.file, autorotate: !c.stored)
            #expect(image.width == c.expected.width && image.height == c.expected.height
                    && image.channels == c.expected.channels, "\(c.name): \(image.width)x\(image.height)x\(image.channels)")
            #expect(image == c.expected, "\(c.name): pixels differ from the reference")
        }
    }

    // MARK: - Round trips

    @Test("TIFF and lossless WebP round trip exactly, JPEG closely", arguments: 1...4)
    func roundTrips(channels: Int) throws {
        let image = TestImages.smooth(width: 45, height: 33, channels: channels)
        let tiff = try encodeImage(image, format: .tiff)
        #expect(try decodeImage(bytes: tiff, path: "t") == image)
        let webp = try encodeImage(image, format: .webp)
        #expect(try decodeImage(bytes: webp, path: "w") == image.withColour())
        // JPEG is lossy and drops alpha: at quality 100 every sample stays within a few levels.
        let jpeg = try decodeImage(bytes: encodeImage(image, format: .jpeg, options: EncodeOptions(quality: 100)), path: "j")
        let opaque = image.withoutAlpha()
        #expect(jpeg.width == opaque.width && jpeg.height == opaque.height && jpeg.channels == opaque.channels)
        let worst = zip(jpeg.pixels, opaque.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 8, "JPEG q100 differs by \(worst)")
    }

    @Test("quality changes the JPEG and makes WebP lossy")
    func quality() throws {
        let image = TestImages.smooth(width: 64, height: 48, channels: 3)
        let low = try encodeImage(image, format: .jpeg, options: EncodeOptions(quality: 20))
        let high = try encodeImage(image, format: .jpeg)
        #expect(low.count < high.count)
        let lossy = try encodeImage(image, format: .webp, options: EncodeOptions(quality: 50))
        #expect(try decodeImage(bytes: lossy, path: "w") != image)
    }

    @Test("a small image is written as classic TIFF; the BigTIFF writer round trips too", arguments: 1...4)
    func bigTIFF(channels: Int) throws {
        let image = TestImages.smooth(width: 37, height: 29, channels: channels)
        let classic = try encodeImage(image, format: .tiff)
        #expect(Array(classic.prefix(4)) == [0x49, 0x49, 0x2A, 0x00])
        let big = try TIFFCodec.encode(image, bigTIFF: true)
        #expect(Array(big.prefix(4)) == [0x49, 0x49, 0x2B, 0x00])
        #expect(try decodeImage(bytes: big, path: "b") == image)
    }

    @Test("the output format follows the new extensions", arguments: [
        ("a.jpg", ImageFormat.jpeg), ("a.JPEG", .jpeg), ("a.tif", .tiff), ("a.tiff", .tiff), ("a.webp", .webp),
    ])
    func extensions(path: String, format: ImageFormat) throws {
        #expect(try ImageFormat.forOutput(path: path) == format)
    }

    // MARK: - Orientation

    @Test("orientations undo each other and swap sides where they turn")
    func orientations() {
        let image = TestImages.smooth(width: 7, height: 4, channels: 2)
        #expect(image.oriented(.right).oriented(.left) == image)
        #expect(image.oriented(.down).oriented(.down) == image)
        #expect(image.oriented(.right).oriented(.right) == image.oriented(.down))
        for o in ExifOrientation.allCases {
            let turned = image.oriented(o)
            #expect(turned.width == (o.rawValue >= 5 ? 4 : 7))
        }
        // Mirrors are their own inverse.
        for o in [ExifOrientation.mirrored, .downMirrored, .leftMirrored, .rightMirrored] {
            #expect(image.oriented(o).oriented(o) == image)
        }
    }

    @Test("EXIF orientation is read from a JPEG, and absent or damaged EXIF means upright")
    func exifParsing() throws {
        guard try FormatReferences.require() else { return }
        for n in 1...8 {
            let c = FormatReferences.cases("jpeg-orient-\(n)").first { !$0.stored }!
            let bytes = try readFileBytes(path: c.file)
            #expect(ExifOrientation(jpeg: bytes).rawValue == n)
        }
        #expect(ExifOrientation(jpeg: []) == .up)
        #expect(ExifOrientation(jpeg: [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 0x45, 0x78, 0x69, 0x66, 0, 0]) == .up)
    }

    // MARK: - Bad input

    @Test("truncated and corrupt files of each format are refused with an ImageError", arguments: ["jpeg", "webp", "tiff"])
    func damaged(format: String) throws {
        let image = TestImages.smooth(width: 64, height: 40, channels: 3)
        let good = try encodeImage(image, format: ImageFormat(rawValue: format)!,
                                   options: EncodeOptions(quality: format == "webp" ? 80 : nil))
        expectImageError({ _ = try decodeImage(bytes: Array(good.prefix(good.count / 2)), path: "x") }) {
            switch $0 { case .truncated, .corrupt: true; default: false }
        }
        expectImageError({ _ = try decodeImage(bytes: Array(good.prefix(6)), path: "x") }) {
            switch $0 { case .truncated, .corrupt, .notAnImage: true; default: false }
        }
        // Header damage: a run of bytes in the header turned to garbage.
        var damaged = good
        for i in 4..<min(40, damaged.count) { damaged[i] ^= 0xA5 }
        expectImageError({ _ = try decodeImage(bytes: damaged, path: "x") }) { _ in true }
    }

    @Test("a JPEG whose header claims 60000x60000 is refused from the header, fast")
    func jpegBomb() throws {
        let bomb = try Self.jpegBomb()
        let elapsed = ContinuousClock().measure {
            expectImageError({ _ = try decodeImage(bytes: bomb, path: "b") }) {
                $0 == .tooLarge(path: "b", width: 60000, height: 60000, limit: ImageLimits.defaultMaxPixels)
            }
        }
        #expect(elapsed < .seconds(1))
    }

    @Test("a TIFF whose header claims 100000x100000 is refused from the header; so are giant tiles")
    func tiffBomb() {
        expectImageError({ _ = try decodeImage(bytes: Self.tiffHeader(width: 100_000, height: 100_000), path: "b") }) {
            $0 == .tooLarge(path: "b", width: 100_000, height: 100_000, limit: ImageLimits.defaultMaxPixels)
        }
        expectImageError({ _ = try decodeImage(bytes: Self.tiffHeader(width: 100, height: 100, tile: 60000), path: "b") }) {
            if case .tooLarge = $0 { true } else { false }
        }
    }

    @Test("a WebP over the pixel limit is refused from the header")
    func webpBomb() throws {
        let bytes = try encodeImage(TestImages.smooth(width: 300, height: 200, channels: 3), format: .webp)
        expectImageError({ _ = try decodeImage(bytes: bytes, path: "b", maxPixels: 1000) }) {
            $0 == .tooLarge(path: "b", width: 300, height: 200, limit: 1000)
        }
    }

    @Test("unsupported TIFF layouts are refused by name", arguments: [
        (5, 4, 8, 1, "photometric interpretation 5"),  // CMYK
        (1, 1, 1, 1, "1-bit samples"),  // bilevel
        (2, 3, 8, 2, "separate sample planes"),  // planar RGB
        (2, 5, 8, 1, "5 samples per pixel"),  // RGB with two extra samples
    ] as [(Int, Int, Int, Int, String)])
    func unsupportedTIFF(photometric: Int, samples: Int, bits: Int, planar: Int, words: String) {
        let bytes = Self.tiffHeader(width: 4, height: 4, photometric: photometric, samples: samples, bits: bits, planar: planar)
        expectImageError({ _ = try decodeImage(bytes: bytes, path: "u") }) {
            if case .unsupportedLayout(_, let detail) = $0 {
                detail.hasPrefix("unsupported TIFF layout") && detail.contains(words)
            } else { false }
        }
    }

    // MARK: - Fuzz

    @Test("seeded mutations of real files never crash or hang a decoder", arguments: ["jpeg", "webp", "tiff"])
    func fuzz(format: String) throws {
        var seeds: [[UInt8]] = []
        for channels in 1...4 {
            let image = TestImages.smooth(width: 23 + channels, height: 17, channels: channels)
            seeds.append(try encodeImage(image, format: ImageFormat(rawValue: format)!))
            if format != "tiff" {
                seeds.append(try encodeImage(image, format: ImageFormat(rawValue: format)!, options: EncodeOptions(quality: 30)))
            }
        }
        let prefix = format == "jpeg" ? "jpeg-" : format == "webp" ? "webp-" : "tiff-"
        for c in FormatReferences.cases(prefix) where !c.stored {
            if let bytes = try? readFileBytes(path: c.file), bytes.count < 64 << 10 { seeds.append(bytes) }
        }
        var random = SeededRandom(seed: 0xB5A0 &+ UInt64(format.count))
        var decoded = 0, refused = 0
        let start = ContinuousClock.now
        for round in 0..<2000 {
            var bytes = seeds[round % seeds.count]
            let edits = 1 + Int(random.next() % 8)
            for _ in 0..<edits {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 5 {
                case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
                case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(random.next() % 16)))
                case 3: bytes.insert(contentsOf: [UInt8](repeating: 0xFF, count: 1 + Int(random.next() % 4)), at: at)
                default: bytes = Array(bytes.prefix(max(1, at)))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do {
                let image = try decodeImage(bytes: bytes, path: "fuzz", maxPixels: 1 << 22)
                #expect(image.pixels.count == image.width * image.height * image.channels)
                decoded += 1
            } catch { refused += 1 }
        }
        #expect(decoded + refused == 2000)
        #expect(ContinuousClock.now - start < .seconds(120))
        print("fuzz \(format): \(seeds.count) seeds, 2000 mutants, \(decoded) decoded, \(refused) refused")
    }

    // MARK: - Crafted files

    /// A valid JPEG from the encoder with its SOF's height and width set to 60000.
    static func jpegBomb() throws -> [UInt8] {
        var bytes = try encodeImage(TestImages.smooth(width: 16, height: 16, channels: 3), format: .jpeg)
        var pos = 2
        while pos + 9 < bytes.count {
            let marker = bytes[pos + 1]
            if marker == 0xC0 || marker == 0xC2 {
                bytes[pos + 5] = 0xEA; bytes[pos + 6] = 0x60  // height 60000
                bytes[pos + 7] = 0xEA; bytes[pos + 8] = 0x60  // width 60000
                return bytes
            }
            pos += 2 + (Int(bytes[pos + 2]) << 8 | Int(bytes[pos + 3]))
        }
        throw ImageError.corrupt(path: "", detail: "no SOF in the encoder's JPEG")
    }

    /// A little-endian TIFF header and first directory (no pixel data worth reading).
    static func tiffHeader(width: Int, height: Int, photometric: Int = 1, samples: Int = 1, bits: Int = 8,
                           planar: Int = 1, tile: Int? = nil) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16) }
        // (tag, type, value): SHORT = 3, LONG = 4; one value each.
        var entries: [(Int, Int, Int)] = [(256, 4, width), (257, 4, height), (258, 3, bits), (259, 3, 1),
                                          (262, 3, photometric), (277, 3, samples), (284, 3, planar)]
        if let tile {
            entries += [(322, 4, tile), (323, 4, tile), (324, 4, 200), (325, 4, 16)]
        } else {
            entries += [(273, 4, 200), (278, 4, height), (279, 4, 16)]
        }
        entries.sort { $0.0 < $1.0 }
        var bytes: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + u32(8) + u16(entries.count)
        for (tag, type, value) in entries {
            bytes += u16(tag) + u16(type) + u32(1) + (type == 3 ? u16(value) + [0, 0] : u32(value))
        }
        bytes += u32(0)
        return bytes + [UInt8](repeating: 0x55, count: max(0, 216 - bytes.count))
    }
}
