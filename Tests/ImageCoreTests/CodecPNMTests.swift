import ImageCore
import ImageCodecs
import TestSupport
import Testing

@Suite("PNM codec")
struct CodecPNMTests {
    @Test("gray and RGB round trip exactly", arguments: [1, 3], codecShapes)
    func roundTrip(channels: Int, shape: (width: Int, height: Int)) throws {
        let image = TestImages.noise(width: shape.width, height: shape.height, channels: channels)
        let bytes = try PNMCodec.encode(image)
        #expect(bytes.starts(with: Array((channels == 1 ? "P5\n" : "P6\n").utf8)))
        #expect(try PNMCodec.decode(bytes, path: "mem", maxPixels: 1 << 20) == image)
    }

    @Test("alpha is dropped: gray+alpha writes P5, RGBA writes P6", arguments: [2, 4], codecShapes)
    func dropsAlpha(channels: Int, shape: (width: Int, height: Int)) throws {
        let image = TestImages.noise(width: shape.width, height: shape.height, channels: channels)
        let decoded = try PNMCodec.decode(PNMCodec.encode(image), path: "mem", maxPixels: 1 << 20)
        #expect(decoded.channels == channels - 1)
        #expect(decoded.pixels == codecChannels(image, 0..<(channels - 1)))
    }

    @Test("header whitespace and comments are skipped")
    func comments() throws {
        let bytes = Array("P5 # magic\n#full line\n 3\t# width\n2\r\n# maxval next\n255\n".utf8) + [1, 2, 3, 4, 5, 6]
        let image = try PNMCodec.decode(bytes, path: "mem", maxPixels: 100)
        #expect(image == Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6]))
    }

    @Test("samples at other maxvals scale to 0...255 with rounding")
    func maxvalScaling() throws {
        let small = Array("P5\n4 1\n3\n".utf8) + [0, 1, 2, 3]
        #expect(try PNMCodec.decode(small, path: "m", maxPixels: 10).pixels == [0, 85, 170, 255])
        let wide = Array("P5\n4 1\n1023\n".utf8) + [0, 0, 0x01, 0xFF, 0x02, 0x00, 0x03, 0xFF]
        // round(511 * 255 / 1023) = 127, round(512 * 255 / 1023) = 128
        #expect(try PNMCodec.decode(wide, path: "m", maxPixels: 10).pixels == [0, 127, 128, 255])
        let full = Array("P6\n1 1\n65535\n".utf8) + [0x80, 0x80, 0x00, 0x00, 0xFF, 0xFF]
        #expect(try PNMCodec.decode(full, path: "m", maxPixels: 10).pixels == [128, 0, 255])
    }

    @Test("trailing bytes after the first image are ignored")
    func trailingBytes() throws {
        let bytes = Array("P5\n2 1\n255\n".utf8) + [7, 8] + Array("P5\n1 1\n255\n\u{9}".utf8)
        #expect(try PNMCodec.decode(bytes, path: "m", maxPixels: 10).pixels == [7, 8])
    }

    @Test("short data is truncated", arguments: ["P6", "P6\n", "P6\n4", "P6\n4 4", "P6\n4 4\n255", "P6\n4 4\n255\n"])
    func truncatedHeader(header: String) {
        #expect(throws: ImageError.truncated(path: "m")) {
            try PNMCodec.decode(Array(header.utf8), path: "m", maxPixels: 100)
        }
        #expect(throws: ImageError.truncated(path: "m")) {
            try PNMCodec.decode(Array("P5\n4 4\n255\n".utf8) + [UInt8](repeating: 9, count: 15), path: "m", maxPixels: 100)
        }
    }

    @Test("malformed headers are corrupt", arguments: [
        "P6\nx 4\n255\n", "P6\n4 4\n0\n", "P6\n4 4\n65536\n", "P6\n0 4\n255\n", "P6\n4 4\n255x",
        "P6\n4q 4\n255\n", "P6\n99999999999 1\n255\n",
    ])
    func corruptHeader(header: String) {
        expectImageError({ _ = try PNMCodec.decode(Array(header.utf8) + [UInt8](repeating: 0, count: 64), path: "m", maxPixels: 100) }) {
            if case .corrupt = $0 { true } else { false }
        }
    }

    @Test("a sample above maxval is corrupt")
    func sampleAboveMaxval() {
        expectImageError({ _ = try PNMCodec.decode(Array("P5\n2 1\n100\n".utf8) + [100, 101], path: "m", maxPixels: 10) }) {
            if case .corrupt = $0 { true } else { false }
        }
    }

    @Test("the pixel limit is checked before the samples are read")
    func pixelLimit() {
        #expect(throws: ImageError.tooLarge(path: "m", width: 100_000, height: 100_000, limit: 1 << 28)) {
            try PNMCodec.decode(Array("P5\n100000 100000\n255\n".utf8), path: "m", maxPixels: 1 << 28)
        }
    }

    @Test("other magic numbers are not PNM", arguments: ["P3\n1 1\n255\n0 0 0\n", "GIF89a", "P"])
    func otherMagic(text: String) {
        #expect(throws: ImageError.notAnImage(path: "m")) { try PNMCodec.decode(Array(text.utf8), path: "m", maxPixels: 10) }
        #expect(throws: ImageError.empty(path: "m")) { try PNMCodec.decode([], path: "m", maxPixels: 10) }
    }

    @Test("an empty image cannot be encoded")
    func emptyImage() {
        expectImageError({ _ = try PNMCodec.encode(Image(width: 4, height: 0, channels: 3)) }) {
            if case .io = $0 { true } else { false }
        }
    }
}
