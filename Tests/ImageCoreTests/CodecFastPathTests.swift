import Foundation
import ImageCore
@_spi(Testing) import ImageCodecs
import TestSupport
import Testing

/// The libdeflate fast path (`cpng_decode_fast`) against libpng, the reference: the same
/// pixels on every image it takes, the same error kinds on damaged data, no crash on any input.
@Suite("PNG fast path")
struct CodecFastPathTests {
    // MARK: - Same pixels

    @Test("fixtures: the fast path takes the common layouts and agrees with libpng", arguments: [
        ("variants/rgb8.png", true), ("variants/rgba8.png", true), ("variants/gray8.png", true),
        ("variants/graya8.png", true), ("photos/astronaut-256.png", true), ("photos/coffee-256.png", true),
        ("variants/rgb8-adam7.png", false), ("variants/rgb16.png", false), ("variants/gray16.png", false),
        ("variants/gray1.png", false), ("variants/gray2.png", false), ("variants/gray4.png", false),
        ("variants/gray8-trns.png", false), ("variants/palette8.png", false), ("variants/palette8-trns.png", false),
    ])
    func fixtures(file: String, fast: Bool) throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: CodecFixtures.path(file))))
        let reference = try PNGCodec.decode(bytes, path: file, maxPixels: 1 << 20, allowFastPath: false)
        let viaFast = try PNGCodec.decodeFastPathOnly(bytes, path: file, maxPixels: 1 << 20)
        #expect((viaFast != nil) == fast)
        if let viaFast { #expect(viaFast == reference) }
        #expect(try PNGCodec.decode(bytes, path: file, maxPixels: 1 << 20) == reference)
        // The same image again, split into many IDATs (some empty).
        if fast {
            for pieces in [2, 7, 40] {
                let split = FastPathPNG.splitIDAT(bytes, pieces: pieces, seed: UInt64(pieces))
                #expect(try PNGCodec.decodeFastPathOnly(split, path: file, maxPixels: 1 << 20) == reference)
            }
        }
    }

    /// Widths and heights: single pixel, single row, single column, odd sizes up to 301.
    static let shapes: [(Int, Int)] = [(1, 1), (1, 37), (41, 1), (2, 3), (7, 5), (31, 17), (64, 3), (129, 77), (301, 203)]

    @Test("hand-filtered images: every filter type, stored blocks, one or many IDATs", arguments: 1...4)
    func handFiltered(channels: Int) throws {
        var cases = 0
        for (w, h) in Self.shapes {
            let image = TestImages.noise(width: w, height: h, channels: channels, seed: UInt32(w * 7 + h))
            // Cycle 0-4, then a seeded random type per row, then each type alone.
            var rng = SeededRandom(seed: UInt64(w * 1000 + h))
            let plans: [[Int]] = [(0..<h).map { $0 % 5 }, (0..<h).map { _ in Int(rng.next() % 5) }] + (0...4).map { [Int](repeating: $0, count: h) }
            for filters in plans {
                for pieces in [1, 3] {
                    let png = FastPathPNG.encode(image, filters: filters, idatPieces: pieces)
                    let fast = try #require(try PNGCodec.decodeFastPathOnly(png, path: "hand", maxPixels: 1 << 20))
                    #expect(fast == image, "\(w)x\(h)x\(channels) filters \(filters.prefix(5))")
                    #expect(try PNGCodec.decode(png, path: "hand", maxPixels: 1 << 20, allowFastPath: false) == image)
                    cases += 1
                }
            }
        }
        #expect(cases == Self.shapes.count * 7 * 2)
    }

    @Test("our own encoders' output: PNGCodec at levels 0-9 and PNGBandEncoder's adaptive filters", arguments: 1...4)
    func encoders(channels: Int) throws {
        for (w, h) in Self.shapes {
            let image = PNGBandEncoderTests.pattern(width: w, height: h, channels: channels, seed: w + 31 * h)
            var encoded: [[UInt8]] = []
            for level in [0, 1, 6, 9] {
                // libpng picks a small zlib window for small images, which the fast path leaves
                // to libpng; with the window widened (always valid) the fast path takes it.
                let png = try PNGCodec.encode(image, compressionLevel: level)
                encoded += [png, FastPathPNG.widenWindow(png)]
            }
            for level in [0, 1, 2, 5, 9] {
                for bands in [1, 3] {
                    encoded.append(try PNGBandEncoderTests.encodeBanded(image, bands: bands, level: level))
                }
            }
            for png in encoded {
                let reference = try PNGCodec.decode(png, path: "enc", maxPixels: 1 << 20, allowFastPath: false)
                #expect(reference == image)
                #expect(try PNGCodec.decode(png, path: "enc", maxPixels: 1 << 20) == image)
                if let fast = try PNGCodec.decodeFastPathOnly(png, path: "enc", maxPixels: 1 << 20) {
                    #expect(fast == image)
                }
            }
            // Every band-encoded and widened image is the fast path's.
            for png in encoded.enumerated().filter({ $0.offset % 2 == 1 || $0.offset >= 8 }).map(\.element) {
                #expect(try PNGCodec.decodeFastPathOnly(png, path: "enc", maxPixels: 1 << 20) != nil)
            }
        }
    }

    @Test("the pixel limit and a short output are refused as by libpng")
    func limit() throws {
        let png = FastPathPNG.encode(TestImages.noise(width: 10, height: 10, channels: 3), filters: [Int](repeating: 4, count: 10))
        #expect(throws: ImageError.tooLarge(path: "m", width: 10, height: 10, limit: 99)) {
            try PNGCodec.decode(png, path: "m", maxPixels: 99)
        }
        #expect(try PNGCodec.decode(png, path: "m", maxPixels: 100).width == 10)
    }

    // MARK: - Same errors

    @Test("bad fixtures give the same error either way", arguments: [
        "bad/signature-only.png", "bad/truncated.png", "bad/bad-crc.png", "bad/garbage-idat.png", "bad/bomb.png",
    ])
    func badFixtures(file: String) throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: CodecFixtures.path(file))))
        let fast = outcome(bytes, fast: true), slow = outcome(bytes, fast: false)
        #expect(fast.kind == slow.kind)
        #expect(fast.kind != "ok")
    }

    @Test("damage at the fast path's own checks: CRC, filter type, stream, trailing chunks")
    func craftedDamage() throws {
        let image = TestImages.noise(width: 9, height: 6, channels: 3)
        let good = FastPathPNG.encode(image, filters: (0..<6).map { $0 % 5 }, idatPieces: 2)
        var chunks = FastPathPNG.chunks(good)
        let idat = try #require(chunks.firstIndex { $0.type == "IDAT" })

        // A stale CRC on an IDAT, and on an ancillary chunk (libpng drops that chunk, with a warning).
        var badCRC = chunks; badCRC[idat].crcDelta = 1
        #expect(outcome(FastPathPNG.join(badCRC), fast: true).kind == "corrupt")
        var text = chunks; text.insert(.init(type: "tEXt", data: Array("a\u{0}b".utf8), crcDelta: 1), at: idat)
        #expect(outcome(FastPathPNG.join(text), fast: true).image == image)

        // Filter type 5 in row 3: corrupt.
        let badFilter = FastPathPNG.encode(image, filters: [0, 1, 2, 5, 3, 4])
        #expect(outcome(badFilter, fast: true).kind == "corrupt")
        #expect(outcome(badFilter, fast: false).kind == "corrupt")

        // A stream one row short, and one with a row too many (libpng takes the latter).
        let short = FastPathPNG.encode(TestImages.noise(width: 9, height: 5, channels: 3), filters: [Int](repeating: 1, count: 5))
        var shortChunks = FastPathPNG.chunks(short)
        shortChunks[0] = FastPathPNG.chunks(good)[0]  // IHDR says 6 rows
        #expect(outcome(FastPathPNG.join(shortChunks), fast: true).kind == "corrupt")
        #expect(outcome(FastPathPNG.join(shortChunks), fast: false).kind == "corrupt")
        let long = FastPathPNG.encode(TestImages.noise(width: 9, height: 7, channels: 3), filters: [Int](repeating: 2, count: 7))
        var longChunks = FastPathPNG.chunks(long)
        longChunks[0] = FastPathPNG.chunks(good)[0]
        #expect(outcome(FastPathPNG.join(longChunks), fast: true) == outcome(FastPathPNG.join(longChunks), fast: false))

        // IDATs after a gap, once the stream is complete: ignored, as libpng does.
        chunks.insert(.init(type: "IDAT", data: [1, 2, 3]), at: chunks.count - 1)
        chunks.insert(.init(type: "tIME", data: [7, 233, 1, 1, 0, 0, 0]), at: chunks.count - 2)
        let gap = FastPathPNG.join(chunks)
        #expect(outcome(gap, fast: true) == outcome(gap, fast: false))
        #expect(outcome(gap, fast: true).image == image)

        // Cut after the image data: the image decodes, then the end is missing.
        #expect(outcome(Array(good.dropLast(6)), fast: true).kind == "truncated")
        #expect(outcome(Array(good.dropLast(6)), fast: false).kind == "truncated")
    }

    // MARK: - Fuzz

    @Test("cut at every offset: truncated or corrupt, exactly as libpng says")
    func everyCut() throws {
        var cases = 0
        for base in Self.fuzzBases() {
            for cut in 0..<base.count {
                let bytes = Array(base[..<cut])
                let fast = outcome(bytes, fast: true), slow = outcome(bytes, fast: false)
                #expect(fast == slow, "cut at \(cut) of \(base.count)")
                #expect(["truncated", "corrupt", "empty", "notAnImage"].contains(fast.kind), "cut at \(cut)")
                cases += 1
            }
        }
        #expect(cases > 2500)
    }

    @Test("random byte flips, with and without a repaired CRC: never a crash, the same verdict as libpng")
    func randomFlips() throws {
        var rng = SeededRandom(seed: 0x5EED)
        var cases = 0, fastDecided = 0, kindMismatches: [String] = []
        for base in Self.fuzzBases() {
            let chunks = FastPathPNG.chunks(base)
            for round in 0..<700 {
                let bytes: [UInt8]
                if round % 2 == 0 {
                    // Anywhere in the file, CRCs left stale.
                    var b = base
                    for _ in 0...(rng.next() % 3) { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 + rng.next() % 255) }
                    bytes = b
                } else {
                    // Inside the image data with the CRC repaired, so the inflater and the
                    // unfilter see the damage rather than the CRC check.
                    var c = chunks
                    let idats = c.indices.filter { c[$0].type == "IDAT" && !c[$0].data.isEmpty }
                    let i = idats[Int(rng.next() % UInt64(idats.count))]
                    for _ in 0...(rng.next() % 2) { c[i].data[Int(rng.next() % UInt64(c[i].data.count))] ^= UInt8(1 + rng.next() % 255) }
                    bytes = FastPathPNG.join(c)
                }
                let fast = outcome(bytes, fast: true), slow = outcome(bytes, fast: false)
                #expect(["ok", "truncated", "corrupt", "notAnImage", "tooLarge"].contains(fast.kind))
                #expect((fast.kind == "ok") == (slow.kind == "ok"), "round \(round): fast \(fast.kind), libpng \(slow.kind)")
                #expect(fast.image == slow.image)
                if fast.kind != slow.kind { kindMismatches.append("\(fast.kind)/\(slow.kind)") }
                if (try? PNGCodec.decodeFastPathOnly(bytes, path: "f", maxPixels: 1 << 20)) != .some(nil) { fastDecided += 1 }
                cases += 1
            }
        }
        #expect(kindMismatches.isEmpty, "error kinds differ: \(kindMismatches)")
        #expect(cases == 2800)
        #expect(fastDecided > cases / 2, "the fast path answered only \(fastDecided) of \(cases)")
    }

    /// Valid PNGs the fast path takes: hand-filtered stored blocks, multi-IDAT, band-encoded.
    static func fuzzBases() -> [[UInt8]] {
        let rgb = TestImages.noise(width: 13, height: 9, channels: 3, seed: 5)
        let rgba = PNGBandEncoderTests.pattern(width: 24, height: 20, channels: 4, seed: 9)
        let gray = PNGBandEncoderTests.pattern(width: 40, height: 30, channels: 1, seed: 3)
        return [
            FastPathPNG.encode(rgb, filters: (0..<9).map { $0 % 5 }, idatPieces: 3),
            try! PNGBandEncoderTests.encodeBanded(rgba, bands: 2, level: 6),
            FastPathPNG.splitIDAT(try! PNGBandEncoderTests.encodeBanded(gray, bands: 1, level: 9), pieces: 4, seed: 1),
            FastPathPNG.widenWindow(try! PNGCodec.encode(TestImages.noise(width: 11, height: 7, channels: 2), compressionLevel: 6)),
        ]
    }
}

// MARK: - Support

/// A decode's result reduced to what the paths must agree on: the image, or the error's case.
struct DecodeOutcome: Equatable {
    var image: Image?
    var kind: String
}

func outcome(_ bytes: [UInt8], fast: Bool) -> DecodeOutcome {
    do {
        let image = try PNGCodec.decode(bytes, path: "f", maxPixels: 1 << 20, allowFastPath: fast)
        return DecodeOutcome(image: image, kind: "ok")
    } catch {
        switch error {
        case .empty: return DecodeOutcome(image: nil, kind: "empty")
        case .truncated: return DecodeOutcome(image: nil, kind: "truncated")
        case .corrupt: return DecodeOutcome(image: nil, kind: "corrupt")
        case .notAnImage: return DecodeOutcome(image: nil, kind: "notAnImage")
        case .tooLarge: return DecodeOutcome(image: nil, kind: "tooLarge")
        default: return DecodeOutcome(image: nil, kind: "\(error)")
        }
    }
}

/// A PNG writer and chunk editor for tests: chosen filter types per row, stored deflate
/// blocks, IDATs split at will, CRCs right or deliberately wrong.
enum FastPathPNG {
    struct Chunk {
        var type: String
        var data: [UInt8]
        /// Added to the correct CRC when written (nonzero makes it stale).
        var crcDelta: UInt32 = 0
    }

    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    /// The chunks after the signature (the input must be well formed up to IEND).
    static func chunks(_ png: [UInt8]) -> [Chunk] {
        var out: [Chunk] = [], pos = 8
        while pos + 12 <= png.count {
            let length = Int(be32(png, pos))
            let type = String(decoding: png[(pos + 4)..<(pos + 8)], as: UTF8.self)
            out.append(Chunk(type: type, data: Array(png[(pos + 8)..<(pos + 8 + length)])))
            pos += length + 12
            if type == "IEND" { break }
        }
        return out
    }

    static func join(_ chunks: [Chunk]) -> [UInt8] {
        var png = signature
        for chunk in chunks {
            png += bigEndian(UInt32(chunk.data.count))
            let body = Array(chunk.type.utf8) + chunk.data
            png += body
            png += bigEndian(crc32(body) &+ chunk.crcDelta)
        }
        return png
    }

    /// The PNG with its IDAT data re-cut into `pieces` IDATs at seeded points (some may be empty).
    static func splitIDAT(_ png: [UInt8], pieces: Int, seed: UInt64) -> [UInt8] {
        let all = chunks(png)
        let stream = all.filter { $0.type == "IDAT" }.flatMap(\.data)
        var rng = SeededRandom(seed: seed)
        let cuts = ([0, stream.count] + (1..<pieces).map { _ in Int(rng.next() % UInt64(stream.count + 1)) }).sorted()
        let idats = (0..<pieces).map { Chunk(type: "IDAT", data: Array(stream[cuts[$0]..<cuts[$0 + 1]])) }
        let first = all.firstIndex { $0.type == "IDAT" }!
        return join(Array(all[..<first]) + idats + all[first...].filter { $0.type != "IDAT" })
    }

    /// The PNG with its zlib header declaring a 32 KiB window (valid for any stream).
    static func widenWindow(_ png: [UInt8]) -> [UInt8] {
        var all = chunks(png)
        let first = all.firstIndex { $0.type == "IDAT" && $0.data.count >= 2 }!
        all[first].data[0] = 0x78
        all[first].data[1] = 0x9C
        return join(all)
    }

    /// An 8-bit, non-interlaced PNG whose row y uses filter type `filters[y]` (values over 4
    /// are written as they are, unfiltered), deflated as stored blocks.
    static func encode(_ image: Image, filters: [Int], idatPieces: Int = 1) -> [UInt8] {
        let bpp = image.channels, n = image.rowBytes
        var raw: [UInt8] = []
        var prev = [UInt8](repeating: 0, count: n)
        for y in 0..<image.height {
            let row = Array(image.pixels[(y * n)..<((y + 1) * n)])
            raw.append(UInt8(filters[y]))
            for i in 0..<n {
                let a = i >= bpp ? Int(row[i - bpp]) : 0, b = Int(prev[i]), c = i >= bpp ? Int(prev[i - bpp]) : 0
                let predictor: Int
                switch filters[y] {
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: predictor = 0
                }
                raw.append(UInt8(truncatingIfNeeded: Int(row[i]) - predictor))
            }
            prev = row
        }
        var stream: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let end = min(raw.count, offset + 65535), length = UInt16(end - offset)
            stream += [end == raw.count ? 1 : 0, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            stream += raw[offset..<end]
            offset = end
        } while offset < raw.count
        stream += bigEndian(adler32(raw))
        let colour: UInt8 = [1: 0, 2: 4, 3: 2, 4: 6][image.channels]!
        let ihdr = bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height)) + [8, colour, 0, 0, 0]
        let png = join([Chunk(type: "IHDR", data: ihdr), Chunk(type: "IDAT", data: stream), Chunk(type: "IEND", data: [])])
        return idatPieces > 1 ? splitIDAT(png, pieces: idatPieces, seed: 7) : png
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return b << 16 | a
    }
}
