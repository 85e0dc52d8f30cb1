import ImageCore
import ImageCodecs
import Testing

/// Banded PNG encoding: pieces deflated per band and stitched decode to the exact pixels.
struct PNGBandEncoderTests {
    static func pattern(width: Int, height: Int, channels: Int, seed: Int) -> Image {
        var image = Image(width: width, height: height, channels: channels)
        var s = UInt32(truncatingIfNeeded: seed &* 2_654_435_761 | 1)
        for i in image.pixels.indices {
            s ^= s << 13; s ^= s >> 17; s ^= s << 5
            let x = (i / channels) % width, y = i / (channels * width)
            image.pixels[i] = UInt8(truncatingIfNeeded: (x * 3 + y * 5) / 2 + Int(s % 16))
        }
        return image
    }

    static func encodeBanded(_ image: Image, bands: Int, level: Int = 6) throws -> [UInt8] {
        let plan = BandPlan(height: image.height, ranks: bands, halo: 0)
        var compressed: [UInt8] = [], adlers: [UInt32] = [], lengths: [UInt64] = []
        for share in plan.shares {
            let band = image.band(rows: share.owned)
            let previous = share.owned.lowerBound > 0 && !share.owned.isEmpty
                ? Array(image.band(rows: (share.owned.lowerBound - 1)..<share.owned.lowerBound).pixels) : nil
            let piece = try PNGBandEncoder.deflate(band, previousRow: previous, compressionLevel: level)
            compressed += piece.bytes; adlers.append(piece.adler); lengths.append(piece.rawLength)
        }
        return PNGBandEncoder.assemble(width: image.width, height: image.height, channels: image.channels,
                                       compressed: compressed, adlers: adlers, rawLengths: lengths)
    }

    @Test("stitched pieces decode to the same pixels", arguments: [
        (1, 1, 1, 1), (1, 1, 3, 4), (17, 1, 2, 3), (1, 23, 4, 5), (64, 48, 3, 1), (64, 48, 3, 7),
        (301, 203, 4, 4), (99, 100, 1, 150), (200, 120, 3, 2),
    ])
    func roundTrip(_ shape: (Int, Int, Int, Int)) throws {
        let (w, h, c, bands) = shape
        let image = Self.pattern(width: w, height: h, channels: c, seed: w * 31 + h)
        for level in [0, 1, 6, 9] {
            let png = try Self.encodeBanded(image, bands: bands, level: level)
            let decoded = try decodeImage(bytes: png, path: "banded.png")
            #expect(decoded == image, "\(w)x\(h)x\(c) in \(bands) bands at level \(level)")
        }
    }
}
