import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// Row-parallel unfiltering: the split, and bands unfiltered apart equal the whole decode.
struct PNGFilteredRowsTests {
    @Test("the split keeps every row once, moves boundaries only onto independent rows nearby, empty bands last")
    func splitProperties() {
        var rng = SeededRandom(seed: 0x5911)
        for _ in 0..<2000 {
            let height = Int.random(in: 0...3000, using: &rng), ranks = Int.random(in: 1...9, using: &rng)
            let density = Int.random(in: 0...20, using: &rng)
            let independent = (0..<max(height, 1)).map { _ in density > 0 && Int.random(in: 0..<(density + 1), using: &rng) == 0 }
            let counts = PNGRows.split(height: height, ranks: ranks) { independent[$0] }
            let equal = BandPlan(height: height, ranks: ranks, halo: 0).ownedCounts
            let window = max(1, min(64, height / max(1, 8 * ranks)))
            #expect(counts.count == ranks && counts.reduce(0, +) == height && counts.allSatisfy { $0 >= 0 })
            if let firstEmpty = counts.firstIndex(of: 0) { #expect(counts[firstEmpty...].allSatisfy { $0 == 0 }) }
            var start = 0, ideal = 0
            for r in 0..<ranks {
                if r > 0 && counts[r] > 0 {
                    #expect(abs(start - ideal) <= window, "boundary \(r) moved \(start - ideal) rows")
                    #expect(start == ideal || independent[start], "boundary \(r) moved onto a dependent row")
                    // Stayed put only when no independent row was in reach.
                    if start == ideal && !independent[start] {
                        let previous = start - counts[r - 1], nextIdeal = r + 1 < ranks ? ideal + equal[r] : height
                        let reachable = (max(0, ideal - window)...min(height - 1, ideal + window))
                            .filter { $0 > previous && $0 < nextIdeal && independent[$0] }
                        #expect(reachable.isEmpty, "boundary \(r) stayed on a dependent row with \(reachable) in reach")
                    }
                }
                start += counts[r]; ideal += equal[r]
            }
        }
    }

    @Test("bands unfiltered apart, each from the row above or alone at an independent row, equal the whole decode")
    func bandsEqualWhole() throws {
        var rng = SeededRandom(seed: 0xF117)
        var inflated = 0
        defer { #expect(inflated >= 40, "only \(inflated) of 80 cases took the fast inflate") }
        for case_ in 0..<80 {
            // Big enough for libpng to use a 32 KiB window on the adaptive half.
            let shape = case_ % 2 == 0
                ? Shape(width: Int.random(in: 100...400, using: &rng), height: Int.random(in: 100...300, using: &rng),
                        channels: Int.random(in: 3...4, using: &rng))
                : Shape.random(using: &rng, maxSide: 200)
            let image = TestImages.random(width: shape.width, height: shape.height, channels: shape.channels, using: &rng)
            // libpng's adaptive filters (a mix of types) or bandsaw's band encoder (Paeth on
            // every row, so every boundary waits for the row above).
            let png = case_ % 2 == 0 ? try encodeImage(image, format: .png, compressionLevel: 6)
                : try PNGRestartTests.encode(image, bands: [image.height], layout: nil, level: 1)
            // libpng gives small images a window under 32 KiB, which the fast path leaves to
            // libpng itself (and so the engine to its whole decode).
            guard var filtered = PNGRows.inflate(png, maxPixels: 1 << 28) else { continue }
            inflated += 1
            let ranks = Int.random(in: 1...7, using: &rng)
            let counts = PNGRows.split(height: image.height, ranks: ranks, independent: filtered.isIndependent)
            let rowBytes = filtered.rowBytes
            let independentStarts = counts.indices.map { r in
                let first = counts[..<r].reduce(0, +)
                return counts[r] == 0 || first == 0 || filtered.isIndependent(first)
            }
            var raw = filtered.takeRows()
            var decoded: [UInt8] = []
            var start = 0
            for (r, count) in counts.enumerated() where count > 0 {
                var band = Array(raw[(start * (rowBytes + 1))..<((start + count) * (rowBytes + 1))])
                let above: [UInt8]? = independentStarts[r] ? nil : Array(decoded.suffix(rowBytes))
                let ok = band.withUnsafeMutableBytes { buffer in
                    if let above { return above.withUnsafeBytes { PNGRows.unfilter(buffer, rows: count, rowBytes: rowBytes, channels: image.channels, above: $0) } }
                    return PNGRows.unfilter(buffer, rows: count, rowBytes: rowBytes, channels: image.channels, above: nil)
                }
                #expect(ok)
                decoded += band[0..<(count * rowBytes)]
                start += count
            }
            raw = []
            #expect(decoded == image.pixels, "case \(case_): \(shape) over \(counts)")
        }
    }

    @Test("files the fast decoder does not take, and damaged ones, are not inflated here")
    func declines() throws {
        var rng = SeededRandom(seed: 3)
        let png = try encodeImage(TestImages.random(width: 30, height: 20, channels: 3, using: &rng), format: .png)
        #expect(PNGRows.inflate(png, maxPixels: 599) == nil, "over the pixel limit")
        #expect(PNGRows.inflate(Array(png.prefix(png.count - 20)), maxPixels: 1 << 28) == nil, "truncated")
        #expect(PNGRows.inflate([], maxPixels: 1 << 28) == nil)
        let palette = try readFileBytes(path: CodecFixtures.path("variants/palette8-trns.png"))
        #expect(PNGRows.inflate(palette, maxPixels: 1 << 28) == nil, "palette goes to libpng")
    }
}
