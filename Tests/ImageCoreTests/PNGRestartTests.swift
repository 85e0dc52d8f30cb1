import ImageCore
@_spi(Testing) import ImageCodecs
import TestSupport
import Testing

/// Restart points: the segment layout, files written with them by any band split, decoding
/// by segments over any rank count, and files whose restart data lies.
struct PNGRestartTests {
    // MARK: - Helpers

    /// Encodes `image` in `counts` bands as the ranks do, with restart points where
    /// ``RestartLayout/forWriting(height:)`` puts them (or `layout`).
    static func encode(_ image: Image, bands counts: [Int], layout: RestartLayout?, level: Int = 1) throws -> [UInt8] {
        let plan = BandPlan(height: image.height, ownedCounts: counts, halo: 0)
        var compressed: [UInt8] = [], adlers: [UInt32] = [], lengths: [UInt64] = [], starts: [Int] = []
        for share in plan.shares {
            let band = image.band(rows: share.owned)
            let previous = share.owned.lowerBound > 0 && !share.owned.isEmpty
                ? Array(image.band(rows: (share.owned.lowerBound - 1)..<share.owned.lowerBound).pixels) : nil
            let piece = try PNGBandEncoder.deflate(band, previousRow: previous,
                                                   restartRows: layout?.restartRows(in: share.owned) ?? [],
                                                   compressionLevel: level)
            starts += piece.restartOffsets.map { compressed.count + $0 }
            compressed += piece.bytes; adlers.append(piece.adler); lengths.append(piece.rawLength)
        }
        return PNGBandEncoder.assemble(width: image.width, height: image.height, channels: image.channels,
                                       compressed: compressed, adlers: adlers, rawLengths: lengths,
                                       restart: layout, segmentStarts: starts)
    }

    /// Decodes `bytes` as the ranks would, `ranks` parts each decoded alone, checked as the
    /// engine checks them: nil when the file is not decodable by segments or any check fails.
    static func decodeBySegments(_ bytes: [UInt8], ranks: Int) -> Image? {
        guard let png = PNGRestart.probe(bytes, maxPixels: 1 << 28) else { return nil }
        let counts = png.layout.rankRowCounts(ranks: ranks)
        let plan = BandPlan(height: png.height, ownedCounts: counts, halo: 0)
        let rowBytes = png.width * png.channels
        var pixels: [UInt8] = []
        var adler: UInt32 = 1
        for share in plan.shares {
            let range = png.bytes(for: share.owned)
            var data = Array(png.stream[range]) + [0, 0]
            var out = [UInt8](repeating: 0, count: share.owned.count * (rowBytes + 1))
            do {
                let a = try data.withUnsafeMutableBytes { d in
                    try out.withUnsafeMutableBytes { o in
                        try PNGRestart.decode(d, count: range.count, atTop: share.owned.lowerBound == 0,
                                              toEnd: share.owned.upperBound == png.height && !share.owned.isEmpty,
                                              into: o, rows: share.owned.count, rowBytes: rowBytes, channels: png.channels)
                    }
                }
                adler = PNGRestart.combine(adler, a, lengthOfB: share.owned.count * (rowBytes + 1))
            } catch { return nil }
            pixels += out[0..<(share.owned.count * rowBytes)]
        }
        guard adler == png.adler else { return nil }
        return Image(width: png.width, height: png.height, channels: png.channels, pixels: pixels)
    }

    static func chunks(_ png: [UInt8]) -> [(type: String, offset: Int, length: Int)] {
        var list: [(String, Int, Int)] = []
        var p = 8
        while p + 12 <= png.count {
            let n = png[p..<(p + 4)].reduce(0) { $0 << 8 | Int($1) }
            list.append((String(decoding: png[(p + 4)..<(p + 8)], as: UTF8.self), p, n))
            p += 12 + n
        }
        return list
    }

    /// Rewrites the CRC of the chunk at `offset`, so an edit inside it looks intact.
    static func fixCRC(_ png: inout [UInt8], chunkAt offset: Int) {
        let n = png[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in png[(offset + 4)..<(offset + 8 + n)] {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc = ~crc
        for i in 0..<4 { png[offset + 8 + n + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * i)) }
    }

    // MARK: - Layout

    @Test("segments partition the rows; each rank owns whole segments, empty ranks last")
    func layoutProperties() {
        var rng = SeededRandom(seed: 0x5E6)
        for _ in 0..<500 {
            let height = Int.random(in: 3...5000, using: &rng)
            let segments = Int.random(in: 2..<min(height, 80), using: &rng)
            let layout = RestartLayout(height: height, segments: segments)
            let sizes = (0..<segments).map { layout.rows(of: $0).count }
            #expect(layout.start(of: 0) == 0 && layout.start(of: segments) == height)
            #expect(sizes.dropFirst().allSatisfy { $0 == height / segments })
            #expect(sizes[0] == height / segments + height % segments, "first segment taller by the remainder")
            #expect(layout.restartRows(in: 0..<height) == (1..<segments).map(layout.start(of:)))
            let starts = Set((0...segments).map(layout.start(of:)))
            for ranks in 1...9 {
                let counts = layout.rankRowCounts(ranks: ranks)
                #expect(counts.count == ranks && counts.reduce(0, +) == height)
                var edge = 0
                var perRank: [Int] = []
                for c in counts {
                    edge += c
                    #expect(starts.contains(edge), "\(height)/\(segments) over \(ranks): a band ends inside a segment")
                    perRank.append((0..<segments).filter { layout.start(of: $0) >= edge - c && layout.start(of: $0) < edge }.count)
                }
                #expect(perRank.max()! - perRank.min()! <= 1)
                if let firstEmpty = counts.firstIndex(of: 0) { #expect(counts[firstEmpty...].allSatisfy { $0 == 0 }) }
            }
        }
        #expect(RestartLayout.forWriting(height: 255) == nil)
        #expect(RestartLayout.forWriting(height: 256)?.segments == 2)
        #expect(RestartLayout.forWriting(height: 4096)?.segments == 32)
    }

    // MARK: - Round trips

    @Test("files written with restart points by any band split decode alike everywhere and by segments on any rank count")
    func writtenByAnySplitDecodedByAnyRanks() throws {
        var rng = SeededRandom(seed: 0xA11)
        for case_ in 0..<40 {
            let width = Int.random(in: 1...70, using: &rng), height = Int.random(in: 256...1100, using: &rng)
            let channels = Int.random(in: 1...4, using: &rng)
            let image = TestImages.random(width: width, height: height, channels: channels, using: &rng)
            let layout = RestartLayout.forWriting(height: height)!
            // A random band split of the writer, including empty bands at the end.
            let writers = Int.random(in: 1...7, using: &rng)
            var cuts = (0..<(writers - 1)).map { _ in Int.random(in: 0...height, using: &rng) }.sorted()
            cuts = [0] + cuts + [height]
            let counts = zip(cuts, cuts.dropFirst()).map { $1 - $0 }
            let level = [0, 1, 6][case_ % 3]
            let png = try Self.encode(image, bands: counts, layout: layout, level: level)
            let context = "case \(case_): \(width)x\(height)x\(channels), writer bands \(counts), level \(level)"
            #expect(try PNGCodec.decode(png, path: "r.png", maxPixels: 1 << 28, allowFastPath: false) == image, "libpng, \(context)")
            #expect(try decodeImage(bytes: png, path: "r.png") == image, "fast path, \(context)")
            let kinds = Self.chunks(png).map(\.type)
            #expect(kinds == ["IHDR", "mARK"] + Array(repeating: "IDAT", count: layout.segments) + ["IEND"], "\(context)")
            for ranks in 1...7 {
                #expect(Self.decodeBySegments(png, ranks: ranks) == image, "\(ranks) reader ranks, \(context)")
            }
        }
    }

    @Test("short images get no restart points; files without mARK are not decoded by segments")
    func noRestartPoints() throws {
        var rng = SeededRandom(seed: 7)
        let short = TestImages.random(width: 40, height: 255, channels: 3, using: &rng)
        let png = try Self.encode(short, bands: [100, 155], layout: RestartLayout.forWriting(height: 255))
        #expect(!Self.chunks(png).map(\.type).contains("mARK"))
        #expect(PNGRestart.probe(png, maxPixels: 1 << 28) == nil)
        let plain = try encodeImage(TestImages.random(width: 40, height: 600, channels: 3, using: &rng), format: .png)
        #expect(PNGRestart.probe(plain, maxPixels: 1 << 28) == nil)
    }

    // MARK: - Lies and damage

    /// Never decoded wrong: whatever the edit, decoding by segments either declines or gives
    /// exactly what libpng makes of the same bytes (and libpng must accept them then).
    func expectNeverWrong(_ bytes: [UInt8], _ context: String) {
        for ranks in [1, 2, 3, 5] {
            guard let segments = Self.decodeBySegments(bytes, ranks: ranks) else { continue }
            let reference = try? PNGCodec.decode(bytes, path: "lie.png", maxPixels: 1 << 28, allowFastPath: false)
            #expect(reference == segments, "\(ranks) ranks decoded what libpng does not: \(context)")
        }
    }

    @Test("a mARK that lies about the segment count, or damaged segment data with good CRCs, is never decoded wrong")
    func lyingFiles() throws {
        var rng = SeededRandom(seed: 0x11E)
        for case_ in 0..<30 {
            let image = TestImages.random(width: Int.random(in: 3...40, using: &rng), height: Int.random(in: 512...900, using: &rng),
                                     channels: Int.random(in: 1...4, using: &rng), using: &rng)
            let png = try Self.encode(image, bands: [image.height], layout: RestartLayout.forWriting(height: image.height))
            let list = Self.chunks(png)
            let mark = list.first { $0.type == "mARK" }!
            // The segment count edited (the data is intact: a whole decode must still be right).
            for count in [0, 1, 2, 3, 5, UInt32(list.count), 1 << 31] {
                var lie = png
                for i in 0..<4 { lie[mark.offset + 10 + i] = UInt8(truncatingIfNeeded: count >> (24 - 8 * i)) }
                Self.fixCRC(&lie, chunkAt: mark.offset)
                expectNeverWrong(lie, "case \(case_), count \(count)")
                if Self.decodeBySegments(lie, ranks: 3) == nil {
                    #expect(try decodeImage(bytes: lie, path: "lie.png") == image, "whole decode of a lying mARK, case \(case_)")
                }
            }
            // Bytes of the image data flipped, CRCs made good again.
            let idats = list.filter { $0.type == "IDAT" }
            for _ in 0..<20 {
                var lie = png
                let chunk = idats.randomElement(using: &rng)!
                let at = chunk.offset + 8 + Int.random(in: 0..<chunk.length, using: &rng)
                lie[at] ^= UInt8.random(in: 1...255, using: &rng)
                Self.fixCRC(&lie, chunkAt: chunk.offset)
                expectNeverWrong(lie, "case \(case_), byte \(at) flipped")
            }
            // A segment boundary moved: two neighbouring IDATs re-cut elsewhere.
            if idats.count >= 2 {
                var stream: [UInt8] = []
                for c in idats { stream += png[(c.offset + 8)..<(c.offset + 8 + c.length)] }
                let cut = idats[0].length + Int.random(in: -3...3, using: &rng)
                var recut = Array(png[0..<idats[0].offset])
                func chunk(_ data: ArraySlice<UInt8>) {
                    let at = recut.count
                    recut += [UInt8(data.count >> 24), UInt8(data.count >> 16 & 255), UInt8(data.count >> 8 & 255), UInt8(data.count & 255)]
                    recut += Array("IDAT".utf8) + data + [0, 0, 0, 0]
                    Self.fixCRC(&recut, chunkAt: at)
                }
                var from = 0
                for (k, c) in idats.enumerated() {
                    let end = k == 0 ? cut : (k == idats.count - 1 ? stream.count : from + c.length)
                    chunk(stream[from..<end]); from = end
                }
                recut += png[(idats.last!.offset + 12 + idats.last!.length)...]
                expectNeverWrong(recut, "case \(case_), first boundary moved to \(cut)")
            }
            // Truncated anywhere: never decoded by segments.
            for _ in 0..<10 {
                let cut = Array(png[0..<Int.random(in: 0..<png.count, using: &rng)])
                #expect(Self.decodeBySegments(cut, ranks: 2) == nil, "case \(case_), truncated to \(cut.count)")
            }
        }
    }
}
