import Foundation
@_spi(Testing) import ImageCodecs
import ImageCore
import PropertyBased
import TestSupport
import Testing

/// JPEG by bands: the band encoder against libjpeg's serial encode, the marker index, and
/// band decodes (by restart segments and by skipping) against the whole decode, over
/// samplings, sizes, restart intervals and band counts; damaged and lying files.
@Suite("JPEG by bands")
struct JPEGBandTests {
    // MARK: - Helpers

    /// A photo-like image: smooth gradients, a few hard edges and some noise, so the entropy
    /// coder sees realistic runs (pure noise would make every block the same busy kind).
    static func photo(width: Int, height: Int, channels: Int, using rng: inout SeededRandom) -> Image {
        var image = Image(width: width, height: height, channels: channels)
        let fx = Double.random(in: 0.01...0.2, using: &rng), fy = Double.random(in: 0.01...0.2, using: &rng)
        let edge = Int.random(in: 0...max(width, 1), using: &rng)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    let wave: Double = 100 + 80 * sin(Double(x) * fx + Double(c)) * cos(Double(y) * fy)
                    let step: Double = x < edge ? 0 : 40
                    let noise = Double(Int.random(in: -6...6, using: &rng))
                    let value: Double = min(255, max(0, wave + step + noise))
                    image.pixels[(y * width + x) * channels + c] = UInt8(value)
                }
            }
        }
        return image
    }

    /// Bands on MCU-row boundaries for `ranks` writers: random cut points, some bands empty.
    static func randomCuts(height: Int, unit: Int, ranks: Int, using rng: inout SeededRandom) -> [Range<Int>] {
        let units = (height + unit - 1) / unit
        var cuts = (0..<(ranks - 1)).map { _ in Int.random(in: 0...units, using: &rng) * unit }.sorted()
        cuts = [0] + cuts.map { min($0, height) } + [height]
        return zip(cuts, cuts.dropFirst()).map { $0..<$1 }.filter { !$0.isEmpty }
    }

    /// The file from bands encoded apart, as the engine's gather assembles it.
    static func encodeByBands(_ image: Image, bands: [Range<Int>], quality: Int = 90) throws -> [UInt8] {
        let whole = image.band(rows: 0..<image.height)
        return JPEGBandEncoder.assemble(try bands.map { try JPEGBandEncoder.encode(whole, rows: $0, quality: quality) })
    }

    /// Decodes `bytes` as `ranks` ranks would with `layout`: each rank its owned rows widened
    /// by `halo`, from its segments or by skipping; the owned rows joined. nil when any band
    /// refused (the engine then decodes whole).
    static func decodeByBands(_ bytes: [UInt8], layout: JPEGLayout, ranks: Int, halo: Int) -> [UInt8]? {
        let unit = layout.strategy == .restart ? layout.segmentHeight : layout.mcuHeight
        let counts = JPEGBands.split(height: layout.height, ranks: ranks, unit: unit,
                                     skipCost: layout.strategy == .skip ? 0.3 : 0)
        let plan = BandPlan(height: layout.height, ownedCounts: counts, halo: halo)
        let rowBytes = layout.width * layout.channels
        var out: [UInt8] = []
        for share in plan.shares where !share.owned.isEmpty {
            let rows: [UInt8]
            do {
                rows = try bytes.withUnsafeBytes { file -> [UInt8] in
                    switch layout.strategy {
                    case .restart:
                        let segments = layout.segments(for: share.needed)
                        let range = layout.bytes(of: segments)
                        let data = Array(file[range]), header = Array(file[0..<layout.headerLength])
                        return try data.withUnsafeBytes { d in
                            try header.withUnsafeBytes { h in
                                try JPEGBands.decode(rows: share.needed, segments: segments, data: d, header: h,
                                                     layout: layout, path: "band.jpg")
                            }
                        }
                    case .skip:
                        return try JPEGBands.decodeSkipping(rows: share.needed, file: file, layout: layout,
                                                            maxPixels: 1 << 28, path: "band.jpg")
                    case .whole:
                        throw ImageError.io(path: "", detail: "whole")
                    }
                }
            } catch { return nil }
            let skip = (share.owned.lowerBound - share.needed.lowerBound) * rowBytes
            out += rows[skip..<(skip + share.owned.count * rowBytes)]
        }
        return out
    }

    /// Every sampling bandsaw may meet in a colour file, and gray.
    static let samplings: [(name: String, channels: Int, h: Int, v: Int)] = [
        ("4:4:4", 3, 1, 1), ("4:2:2", 3, 2, 1), ("4:2:0", 3, 2, 2), ("4:4:0", 3, 1, 2), ("gray", 1, 1, 1),
    ]

    // MARK: - Encoding

    @Test("bands encoded apart join into libjpeg's serial encode with a restart marker every MCU row, byte for byte")
    func bandEncoderEqualsSerial() async throws {
        await propertyCheck(count: 60, input: Gen.int(in: 1...300), Gen.int(in: 1...130), Gen.int(in: 1...4), Gen.int(in: 1...7),
                            Gen.int(in: 0...Int(Int32.max))) { width, height, channels, ranks, seed in
            var rng = SeededRandom(seed: UInt64(seed))
            let image = Self.photo(width: width, height: height, channels: channels, using: &rng)
            let unit = JPEGBandEncoder.mcuRows(channels: channels)
            let bands = Self.randomCuts(height: height, unit: unit, ranks: ranks, using: &rng)
            let quality = [90, 50, 100, 1][seed % 4]
            let serial = try JPEGCodec.encode(image, options: .bandsaw(quality: quality))
            #expect(try JPEGCodec.encode(image, quality: quality) == serial)
            #expect(try Self.encodeByBands(image, bands: bands, quality: quality) == serial,
                    "\(width)x\(height)x\(channels), bands \(bands), quality \(quality)")
        }
    }

    @Test("a band not on MCU rows is refused; one band is the whole file")
    func bandEncoderArguments() throws {
        var rng = SeededRandom(seed: 5)
        let image = Self.photo(width: 40, height: 50, channels: 3, using: &rng)
        let band = image.band(rows: 0..<50)
        #expect(throws: ImageError.self) { try JPEGBandEncoder.encode(band, rows: 8..<32) }
        #expect(throws: ImageError.self) { try JPEGBandEncoder.encode(band, rows: 0..<20) }
        let whole = try JPEGBandEncoder.encode(band, rows: 0..<50)
        #expect(whole.bytes == (try JPEGCodec.encode(image)))
        #expect(Array(whole.bytes.suffix(2)) == [0xFF, 0xD9])
        // A middle band ends with the restart marker that follows its last MCU row: rows 16..<48
        // are MCU rows 1 and 2, so RST2.
        let middle = try JPEGBandEncoder.encode(band, rows: 16..<48)
        #expect(Array(middle.bytes.suffix(2)) == [0xFF, 0xD2])
        #expect(middle.bytes[..<middle.headerLength] == whole.bytes[..<whole.headerLength])
    }

    @Test("bandsaw's JPEG is what cjpeg -restart 1 writes from the same pixels")
    func sameAsCjpeg() throws {
        guard let cjpeg = ["/usr/bin/cjpeg", "/usr/local/bin/cjpeg"].first(where: FileManager.default.isExecutableFile) else {
            try #require(ProcessInfo.processInfo.environment["CI"] != "true", "cjpeg (libjpeg-turbo-progs) missing in CI")
            return
        }
        var rng = SeededRandom(seed: 0xC1)
        for (width, height, channels) in [(123, 77, 3), (64, 64, 1), (301, 45, 3)] {
            let image = Self.photo(width: width, height: height, channels: channels, using: &rng)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bandsaw-cjpeg-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let pnm = dir.appendingPathComponent(channels == 1 ? "in.pgm" : "in.ppm").path
            try Data(encodeImage(image, format: .pnm)).write(to: URL(fileURLWithPath: pnm))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: cjpeg)
            process.arguments = ["-quality", "90", "-restart", "1", pnm]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(bytes == (try JPEGCodec.encode(image)), "\(width)x\(height)x\(channels)")
        }
    }

    // MARK: - The marker index

    @Test("the index chooses restart for MCU-row intervals, skip for none, whole for the rest")
    func strategies() throws {
        var rng = SeededRandom(seed: 0x1D)
        let colour = Self.photo(width: 70, height: 90, channels: 3, using: &rng)
        func strategy(_ options: JPEGEncodeOptions, _ image: Image? = nil) throws -> JPEGLayout.Strategy {
            try JPEGLayout.probe(JPEGCodec.encode(image ?? colour, options: options), path: "s.jpg", maxPixels: 1 << 28).strategy
        }
        #expect(try strategy(.bandsaw()) == .restart)
        #expect(try strategy(JPEGEncodeOptions(restartRows: 3)) == .restart)
        #expect(try strategy(JPEGEncodeOptions(restartBlocks: 10)) == .restart)  // 5 MCUs a row: 2 rows
        #expect(try strategy(JPEGEncodeOptions(restartBlocks: 7)) == .whole("restart interval is not whole MCU rows"))
        #expect(try strategy(JPEGEncodeOptions()) == .skip)
        #expect(try strategy(JPEGEncodeOptions(optimize: true)) == .skip)
        #expect(try strategy(JPEGEncodeOptions(progressive: true)) == .whole("progressive"))
        let layout = try JPEGLayout.probe(JPEGCodec.encode(colour, options: .bandsaw()), path: "s.jpg", maxPixels: 1 << 28)
        #expect(layout.mcuHeight == 16 && layout.segmentRows == 1 && layout.segments == 6 && layout.channels == 3)
        #expect(JPEGLayout(wire: layout.wire).map { $0.wire } == layout.wire)
        #expect(throws: ImageError.self) {
            try JPEGLayout.probe(JPEGCodec.encode(colour, options: .bandsaw()), path: "s.jpg", maxPixels: 100)
        }
    }

    // MARK: - Decoding by bands

    @Test("band decodes on 1-7 ranks equal the whole decode: every sampling, restart interval, odd size, optimised tables")
    func bandDecodesEqualWhole() async throws {
        await propertyCheck(count: 80, input: Gen.int(in: 1...260), Gen.int(in: 1...200), Gen.int(in: 0...4),
                            Gen.int(in: 0...4), Gen.int(in: 0...Int(Int32.max))) { width, height, s, restart, seed in
            var rng = SeededRandom(seed: UInt64(seed))
            let sampling = Self.samplings[s]
            let image = Self.photo(width: width, height: height, channels: sampling.channels, using: &rng)
            // No restart markers; one MCU row; several rows; blocks that are not a row.
            var options = JPEGEncodeOptions(quality: [90, 75, 97][seed % 3], sampling: (sampling.h, sampling.v),
                                            optimize: seed % 2 == 1)
            switch restart {
            case 1: options.restartRows = 1
            case 2: options.restartRows = 2
            case 3: options.restartRows = 5
            case 4: options.restartBlocks = 7
            default: break
            }
            let bytes = try JPEGCodec.encode(image, options: options)
            let whole = try JPEGCodec.decode(bytes, path: "w.jpg", maxPixels: 1 << 28)
            let layout = try JPEGLayout.probe(bytes, path: "w.jpg", maxPixels: 1 << 28)
            let context = "\(width)x\(height) \(sampling.name), restart \(restart), optimize \(options.optimize)"
            switch restart {
            case 0: #expect(layout.strategy == .skip, "\(context)")
            case 4: #expect(layout.isWhole || layout.strategy == .restart, "\(context)")
            default: #expect(layout.strategy == .restart, "\(context)")
            }
            guard !layout.isWhole else { return }
            for ranks in 1...7 {
                let halo = [0, 1, 3, 17][(seed + ranks) % 4]
                #expect(Self.decodeByBands(bytes, layout: layout, ranks: ranks, halo: halo) == whole.pixels,
                        "\(context), \(ranks) ranks, halo \(halo)")
            }
        }
    }

    @Test("every first row and row count of a band decode equals the whole decode's rows")
    func everyBandEdge() throws {
        var rng = SeededRandom(seed: 0xED6E)
        for sampling in Self.samplings {
            let image = Self.photo(width: 37, height: 83, channels: sampling.channels, using: &rng)
            for restartRows in [0, 1, 2] {
                let options = JPEGEncodeOptions(sampling: (sampling.h, sampling.v), restartRows: restartRows)
                let bytes = try JPEGCodec.encode(image, options: options)
                let whole = try JPEGCodec.decode(bytes, path: "e.jpg", maxPixels: 1 << 28).pixels
                let layout = try JPEGLayout.probe(bytes, path: "e.jpg", maxPixels: 1 << 28)
                let rowBytes = layout.width * layout.channels
                for first in 0..<83 {
                    for count in [1, 2, 7, 16, 83 - first] where first + count <= 83 {
                        let rows = first..<(first + count)
                        let got: [UInt8] = try bytes.withUnsafeBytes { file in
                            if restartRows == 0 {
                                return try JPEGBands.decodeSkipping(rows: rows, file: file, layout: layout,
                                                                    maxPixels: 1 << 28, path: "e.jpg")
                            }
                            let segments = layout.segments(for: rows)
                            let data = UnsafeRawBufferPointer(rebasing: file[layout.bytes(of: segments)])
                            return try JPEGBands.decode(rows: rows, segments: segments, data: data,
                                                        header: UnsafeRawBufferPointer(rebasing: file[..<layout.headerLength]),
                                                        layout: layout, path: "e.jpg")
                        }
                        #expect(got[...] == whole[(first * rowBytes)..<((first + count) * rowBytes)],
                                "\(sampling.name), restart \(restartRows), rows \(rows)")
                    }
                }
            }
        }
    }

    @Test("a band decode without its context MCU rows is refused, not decoded near enough")
    func contextRequired() throws {
        var rng = SeededRandom(seed: 0xC7)
        let image = Self.photo(width: 50, height: 96, channels: 3, using: &rng)
        let bytes = try JPEGCodec.encode(image)
        let layout = try JPEGLayout.probe(bytes, path: "c.jpg", maxPixels: 1 << 28)
        bytes.withUnsafeBytes { file in
            let header = UnsafeRawBufferPointer(rebasing: file[..<layout.headerLength])
            // Rows 16..<32 are segment 1; without segments 0 and 2 they lack their context.
            let data = UnsafeRawBufferPointer(rebasing: file[layout.bytes(of: 1..<2)])
            #expect(throws: ImageError.self) {
                try JPEGBands.decode(rows: 16..<32, segments: 1..<2, data: data, header: header, layout: layout, path: "c.jpg")
            }
            // The right bytes under the wrong segment numbers: the restart markers say so.
            let two = UnsafeRawBufferPointer(rebasing: file[layout.bytes(of: 1..<4)])
            #expect(throws: ImageError.self) {
                try JPEGBands.decode(rows: 48..<64, segments: 2..<5, data: two, header: header, layout: layout, path: "c.jpg")
            }
        }
    }

    @Test("Pillow's JPEGs: band decodes on 1-7 ranks equal Pillow's decode; progressive, CMYK and rotated ones decode whole")
    func pillowFiles() throws {
        guard try FormatReferences.require() else { return }
        let cases = FormatReferences.cases("jpeg-").filter { !$0.stored }
        #expect(cases.count >= 10)
        for c in cases {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: c.file)))
            let layout = try JPEGLayout.probe(bytes, path: c.file, maxPixels: 1 << 28)
            // jpeg-restart has a restart marker every 3 MCUs: not whole MCU rows.
            let whole = c.name == "jpeg-progressive" || c.name == "jpeg-cmyk" || c.name == "jpeg-restart"
                || (c.name.hasPrefix("jpeg-orient-") && c.name != "jpeg-orient-1")
            #expect(layout.isWhole == whole, "\(c.name): \(layout.strategy)")
            if c.name.hasPrefix("jpeg-restart-") { #expect(layout.strategy == .restart, "\(c.name)") }
            if c.name == "jpeg-photo" || c.name == "jpeg-gray" { #expect(layout.strategy == .skip, "\(c.name)") }
            guard !layout.isWhole else { continue }
            for ranks in 1...7 {
                #expect(Self.decodeByBands(bytes, layout: layout, ranks: ranks, halo: ranks) == c.expected.pixels,
                        "\(c.name), \(ranks) ranks")
            }
        }
    }

    // MARK: - Damage and lies

    /// Never wrong: when every band of `bytes` decodes, the whole decode succeeds and gives
    /// the same pixels. Returns whether the bands all decoded (on some rank count).
    @discardableResult
    static func expectNeverWrong(_ bytes: [UInt8], _ context: String) -> Bool {
        guard let layout = try? JPEGLayout.probe(bytes, path: "d.jpg", maxPixels: 1 << 28) else {
            #expect(throws: ImageError.self, "probe refused but the whole decode read it: \(context)") {
                try JPEGCodec.decode(bytes, path: "d.jpg", maxPixels: 1 << 28)
            }
            return false
        }
        guard !layout.isWhole else { return false }
        var decoded = false
        for ranks in 1...4 {
            guard let bands = decodeByBands(bytes, layout: layout, ranks: ranks, halo: 2) else { continue }
            decoded = true
            let whole = try? JPEGCodec.decode(bytes, path: "d.jpg", maxPixels: 1 << 28)
            #expect(whole?.pixels == bands, "\(ranks) ranks decoded what the whole decode does not: \(context)")
        }
        return decoded
    }

    /// Where the restart markers are in a file: the offsets of their 0xFF bytes.
    static func restartMarkers(_ bytes: [UInt8], from start: Int) -> [Int] {
        (start..<(bytes.count - 1)).filter { bytes[$0] == 0xFF && (0xD0...0xD7).contains(bytes[$0 + 1]) }
    }

    @Test("damaged segments and lying markers under 1-4 ranks: a band decode refuses, or equals the whole decode")
    func damagedAndLying() throws {
        var rng = SeededRandom(seed: 0xDA4A6E)
        for case_ in 0..<24 {
            let channels = [1, 3][case_ % 2]
            let image = Self.photo(width: Int.random(in: 20...90, using: &rng), height: Int.random(in: 40...130, using: &rng),
                                   channels: channels, using: &rng)
            let options = [JPEGEncodeOptions.bandsaw(), JPEGEncodeOptions(), JPEGEncodeOptions(restartRows: 2)][case_ % 3]
            let good = try JPEGCodec.encode(image, options: options)
            let layout = try JPEGLayout.probe(good, path: "g.jpg", maxPixels: 1 << 28)
            let context = "case \(case_), \(layout.strategy)"
            #expect(Self.expectNeverWrong(good, context), "the intact file decodes by bands: \(context)")
            let start = layout.headerLength, end = good.count - 2
            // Bytes of the entropy-coded data flipped.
            for _ in 0..<12 {
                var bad = good
                bad[Int.random(in: start..<end, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                Self.expectNeverWrong(bad, "\(context), flipped")
            }
            // Cut short anywhere; bytes taken out of a segment; a run of bytes repeated.
            for _ in 0..<6 {
                Self.expectNeverWrong(Array(good.prefix(Int.random(in: 2..<good.count, using: &rng))), "\(context), cut")
                let at = Int.random(in: start..<(end - 4), using: &rng)
                Self.expectNeverWrong(Array(good[..<at] + good[(at + 3)...]), "\(context), bytes removed at \(at)")
                Self.expectNeverWrong(Array(good[..<at] + good[at..<(at + 4)] + good[at...]), "\(context), bytes repeated at \(at)")
            }
            let markers = Self.restartMarkers(good, from: start)
            // A restart marker renumbered, removed, or one added inside a segment.
            if let m = markers.randomElement(using: &rng) {
                var renumbered = good
                renumbered[m + 1] = 0xD0 + (renumbered[m + 1] - 0xD0 + UInt8.random(in: 1...7, using: &rng)) % 8
                #expect(!Self.expectNeverWrong(renumbered, "\(context), renumbered"), "\(context): a renumbered marker decoded by bands")
                Self.expectNeverWrong(Array(good[..<m] + good[(m + 2)...]), "\(context), marker removed")
            }
            let inside = Int.random(in: start..<end, using: &rng)
            Self.expectNeverWrong(Array(good[..<inside] + [0xFF, 0xD0 + UInt8(case_ % 8)] + good[inside...]), "\(context), marker added")
            // The restart interval lies (DRI edited), or the frame's height does.
            if let dri = (2..<(start - 4)).first(where: { good[$0] == 0xFF && good[$0 + 1] == 0xDD }) {
                for interval in [0, 1, 2, Int.random(in: 3...400, using: &rng), 65535] {
                    var lie = good
                    lie[dri + 4] = UInt8(interval >> 8); lie[dri + 5] = UInt8(interval & 0xFF)
                    Self.expectNeverWrong(lie, "\(context), DRI \(interval)")
                }
            }
            if let sof = (2..<(start - 4)).first(where: { good[$0] == 0xFF && good[$0 + 1] == 0xC0 }) {
                for height in [1, image.height - 1, image.height + 1, image.height + 40, 4000] {
                    var lie = good
                    lie[sof + 5] = UInt8(height >> 8); lie[sof + 6] = UInt8(height & 0xFF)
                    Self.expectNeverWrong(lie, "\(context), SOF height \(height)")
                }
            }
        }
    }

    // MARK: - Other decoders

    @Test("bandsaw's JPEGs read by Pillow, OpenCV and djpeg give bandsaw's pixels")
    func otherDecoders() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bandsaw-jpeg-readers-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 0x0C7)
        var files: [(path: String, image: Image)] = []
        for (i, (width, height, channels)) in [(203, 149, 3), (64, 40, 1), (17, 301, 3)].enumerated() {
            let original = Self.photo(width: width, height: height, channels: channels, using: &rng)
            let bytes = try Self.encodeByBands(original, bands: Self.randomCuts(height: height, unit: JPEGBandEncoder.mcuRows(channels: channels),
                                                                               ranks: 3, using: &rng))
            let path = dir.appendingPathComponent("b\(i).jpg").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            files.append((path, try JPEGCodec.decode(bytes, path: path, maxPixels: 1 << 28)))
        }
        func run(_ tool: String, _ arguments: [String]) -> (status: Int32, output: [UInt8])? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let output = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
        // Pillow and OpenCV (as RGB) print each file's samples, the files in order.
        let script = """
        import sys
        from PIL import Image
        import cv2
        for path in sys.argv[2:]:
            if sys.argv[1] == "pillow":
                sys.stdout.buffer.write(Image.open(path).tobytes())
            else:
                img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
                if img.ndim == 3:
                    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
                sys.stdout.buffer.write(img.tobytes())
        """
        for reader in ["pillow", "opencv"] {
            guard let (status, output) = run("python3", ["-c", script, reader] + files.map(\.path)), status == 0 else {
                try #require(ProcessInfo.processInfo.environment["CI"] != "true", "\(reader) missing in CI")
                continue
            }
            #expect(output == files.flatMap(\.image.pixels), "\(reader)")
        }
        for file in files {
            guard let (status, output) = run("djpeg", ["-pnm", file.path]), status == 0 else {
                try #require(ProcessInfo.processInfo.environment["CI"] != "true", "djpeg missing in CI")
                continue
            }
            #expect(try decodeImage(bytes: output, path: "djpeg.pnm") == file.image, "djpeg, \(file.path)")
        }
    }

    // MARK: - Splits

    @Test("the band split covers the rows in whole units, empty bands last, even without skip cost and front-loaded with it")
    func split() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...5000), Gen.int(in: 1...9), Gen.int(in: 1...64),
                            Gen.int(in: 0...9)) { height, ranks, unit, cost in
            let skipCost = Double(cost) / 10
            let counts = JPEGBands.split(height: height, ranks: ranks, unit: unit, skipCost: skipCost)
            #expect(counts.count == ranks && counts.reduce(0, +) == height)
            let filled = counts.filter { $0 > 0 }
            #expect(counts.prefix(filled.count).allSatisfy { $0 > 0 }, "empty bands last: \(counts)")
            #expect(filled.dropLast().allSatisfy { $0 % unit == 0 }, "whole units: \(counts)")
            if skipCost == 0, filled.count > 1 {
                #expect(filled.dropLast().max()! - filled.dropLast().min()! <= unit, "even: \(counts)")
            }
            // The costs (skipped rows weighed, plus own rows) are as equal as whole units allow:
            // rounding a band to whole units moves its cost and the next band's start by a unit.
            if filled.count == ranks, ranks > 1 {
                var start = 0
                var costs: [Double] = []
                for n in counts { costs.append(skipCost * Double(start) + Double(n)); start += n }
                let spread = costs.dropLast().max()! - costs.dropLast().min()!
                #expect(spread <= 2 * Double(unit) * (1 + skipCost), "costs \(costs) for \(counts)")
            }
        }
    }
}
