// Fuzz targets for the parsers bandsaw wrote in Swift, in one libFuzzer binary (built by
// scripts/fuzz.sh with `swiftc -sanitize=fuzzer,address -parse-as-library` over ImageCore,
// ImageCodecs and ImageFilters, each module instrumented; the harness uses their public API).
// BANDSAW_FUZZ_TARGET picks the target; each keeps its own corpus:
//   pnm          PNMCodec's header reader and row decode
//   exif         JPEG marker scanning up to the first scan, and EXIF orientation (IFD0)
//   filter_spec  --op specs and pipelines: parse, canonical text round trip, a run on a tiny image
//   decode       the whole read path: format sniffing and every codec's Swift side
//   jpeg_bands   JPEG by bands: the restart-marker index, its wire form, the band split and
//                each band's decode, as rank 0 and the ranks drive them

#if canImport(Glibc)
import Glibc
#endif
import ImageCodecs
import ImageCore
import ImageFilters

/// Which target this process runs, read once.
private let fuzzTarget: String = {
    guard let name = getenv("BANDSAW_FUZZ_TARGET") else { return "decode" }
    return String(cString: name)
}()

/// Pixel limit for the decoders: 2^20, as the C targets use.
private let fuzzMaxPixels = 1 << 20

/// Stops the process so libFuzzer records the input as a crash.
private func oracleFailed(_ reason: String) -> Never {
    fputs("oracle failed: \(reason)\n", stderr)
    abort()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    switch fuzzTarget {
    case "pnm": fuzzPNM(bytes)
    case "exif": fuzzExif(bytes)
    case "filter_spec": fuzzFilterSpec(bytes)
    case "jpeg_bands": fuzzJPEGBands(bytes)
    default: fuzzDecode(bytes)
    }
    return 0
}

/// The header must agree with the decode: same size, and a decode only where the header passed.
private func fuzzPNM(_ bytes: [UInt8]) {
    let header = try? PNMCodec.header(bytes, path: "f", maxPixels: fuzzMaxPixels)
    guard let image = try? PNMCodec.decode(bytes, path: "f", maxPixels: fuzzMaxPixels) else { return }
    guard let header else { oracleFailed("PNM decoded without a valid header") }
    guard image.width == header.width, image.height == header.height, image.channels == header.channels,
          image.pixels.count == header.width * header.height * header.channels else {
        oracleFailed("PNM decode disagrees with its header")
    }
}

/// Any bytes, and the same bytes after a JPEG start: an orientation or none, never a trap;
/// and orienting a small image by it keeps its pixel count.
private func fuzzExif(_ bytes: [UInt8]) {
    let orientation = ExifOrientation(jpeg: bytes)
    _ = ExifOrientation(jpeg: [0xFF, 0xD8] + bytes)
    let image = Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
    let turned = image.oriented(orientation)
    guard turned.pixels.sorted() == image.pixels else { oracleFailed("orienting lost pixels") }
}

/// One spec per line. A spec that parses prints a canonical text that parses back to it; a
/// pipeline of the parsed specs runs on a tiny image and keeps its size.
private func fuzzFilterSpec(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    var specs: [FilterSpec] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(4) {
        guard let spec = try? FilterSpec(parsing: String(line)) else { continue }
        guard let again = try? FilterSpec(parsing: spec.description), again == spec else {
            oracleFailed("\(spec.description) does not parse back to itself")
        }
        specs.append(spec)
    }
    guard !specs.isEmpty else { return }
    let pixels = (0..<(7 * 5 * 3)).map { UInt8(truncatingIfNeeded: $0 * 37) }
    let image = Image(width: 7, height: 5, channels: 3, pixels: pixels)
    let out = Pipeline(specs: specs).apply(image)
    guard out.width == 7, out.height == 5 else { oracleFailed("the pipeline changed the image size") }
}

/// decodeImage over every format: an image whose size fits its pixels, or a typed error.
private func fuzzDecode(_ bytes: [UInt8]) {
    guard let image = try? decodeImage(bytes: bytes, path: "f", maxPixels: fuzzMaxPixels) else { return }
    guard image.width * image.height <= fuzzMaxPixels,
          image.pixels.count == image.width * image.height * image.channels else {
        oracleFailed("decoded \(image.width)x\(image.height)x\(image.channels) with \(image.pixels.count) bytes")
    }
    if let restart = PNGRestart.probe(bytes, maxPixels: fuzzMaxPixels) {
        guard restart.width == image.width, restart.height == image.height,
              restart.starts.count == restart.layout.segments + 1 else {
            oracleFailed("restart probe disagrees with the decode")
        }
    }
}

/// JPEG by bands (issue 24), the way the engine's JPEG band sources use it: rank 0 indexes
/// the markers, the ranks get the layout's wire form, the rows are split and every band
/// decodes the rows it needs (owned and halo) from its restart segments or by skipping.
/// The rank count and halo come from the input's size and last byte, so the corpus covers
/// many plans. Oracles: the index's segments lie between restart markers in sequence and end
/// at EOI; the wire form gives back the layout; the split covers the rows in whole units; a
/// band's segments always hold its rows with their context; and when every band decodes, the
/// whole decode accepts the file too (the engine then never runs it) and gives the same rows.
private func fuzzJPEGBands(_ bytes: [UInt8]) {
    // A quarter of the limit: a band decode per rank runs for each input.
    guard let layout = try? JPEGLayout.probe(bytes, path: "f", maxPixels: fuzzMaxPixels / 4), !layout.isWhole else { return }
    checkRestartIndex(layout, bytes)
    guard var back = JPEGLayout(wire: layout.wire) else { oracleFailed("the wire form of \(layout) does not read back") }
    back.segmentStarts = layout.segmentStarts
    back.segmentEnds = layout.segmentEnds
    guard back == layout else { oracleFailed("the wire form reads back as \(back), not \(layout)") }

    let ranks = 2 + bytes.count % 6, halo = Int(bytes.last ?? 0) % 5
    let unit = layout.strategy == .restart ? layout.segmentHeight : layout.mcuHeight
    let counts = JPEGBands.split(height: layout.height, ranks: ranks, unit: unit)
    // Whole units in every band but the one that ends the image; empty bands only at the end.
    var first = 0
    let inUnits = counts.allSatisfy { n in
        defer { first += n }
        return n % unit == 0 || first + n == layout.height
    }
    guard counts.count == ranks, counts.reduce(0, +) == layout.height, inUnits,
          counts.drop(while: { $0 > 0 }).allSatisfy({ $0 == 0 }) else {
        oracleFailed("split of \(layout.height) rows in units of \(unit) over \(ranks) ranks: \(counts)")
    }
    let plan = BandPlan(height: layout.height, ownedCounts: counts, halo: halo)
    var bands: [(rows: Range<Int>, pixels: [UInt8])] = []
    for share in plan.shares where !share.needed.isEmpty {
        let rows = share.needed
        do {
            let pixels = try bytes.withUnsafeBytes { file throws(ImageError) -> [UInt8] in
                guard layout.strategy == .restart else {
                    return try JPEGBands.decodeSkipping(rows: rows, file: file, layout: layout, maxPixels: fuzzMaxPixels, path: "f")
                }
                let segments = layout.segments(for: rows)
                let header = UnsafeRawBufferPointer(rebasing: file[0..<layout.headerLength])
                return try JPEGBands.decode(rows: rows, segments: segments, data: UnsafeRawBufferPointer(rebasing: file[layout.bytes(of: segments)]),
                                            header: header, layout: layout, path: "f")
            }
            bands.append((rows, pixels))
        } catch {
            // A band the plan gave too few segments is a plan bug; damage is the fallback's.
            if let error = error as? ImageError, case .io = error { oracleFailed("band \(rows) of \(layout): \(error)") }
            return
        }
    }
    let image: Image
    do {
        image = try JPEGCodec.decode(bytes, path: "f", maxPixels: fuzzMaxPixels)
    } catch {
        oracleFailed("every band of \(layout) decoded, but the whole decode refuses the file: \(error)")
    }
    guard image.width == layout.width, image.height == layout.height, image.channels == layout.channels else {
        oracleFailed("the layout says \(layout.width)x\(layout.height)x\(layout.channels), the decode \(image.width)x\(image.height)x\(image.channels)")
    }
    let row = image.width * image.channels
    for band in bands where Array(image.pixels[band.rows.lowerBound * row..<band.rows.upperBound * row]) != band.pixels {
        oracleFailed("rows \(band.rows) decoded by bands (\(layout.decodeName)) differ from the whole decode")
    }
}

/// The restart index: segment k starts where the headers end or just past restart marker
/// k - 1, holds no marker (0xFF only as a stuffed 0xFF 0x00, after fill bytes), and ends at
/// the next marker's first 0xFF: RSTk mod 8, or for the last segment EOI.
private func checkRestartIndex(_ layout: JPEGLayout, _ bytes: [UInt8]) {
    guard layout.strategy == .restart else { return }
    let starts = layout.segmentStarts, ends = layout.segmentEnds
    guard starts.count == layout.segments, ends.count == layout.segments, layout.segments > 0,
          starts[0] == layout.headerLength,
          layout.segments == (layout.height + layout.segmentHeight - 1) / layout.segmentHeight else {
        oracleFailed("index of \(layout.segments) segments: starts \(starts), ends \(ends)")
    }
    for k in 0..<layout.segments {
        guard starts[k] <= ends[k], ends[k] < bytes.count, bytes[ends[k]] == 0xFF else {
            oracleFailed("segment \(k) [\(starts[k]), \(ends[k])) does not end at a marker")
        }
        var at = starts[k]
        while at < ends[k] {
            if bytes[at] == 0xFF {
                var next = at + 1
                while next < ends[k], bytes[next] == 0xFF { next += 1 }
                guard next < ends[k], bytes[next] == 0x00 else { oracleFailed("segment \(k) holds a marker at \(at)") }
                at = next
            }
            at += 1
        }
        var code = ends[k]
        while code < bytes.count, bytes[code] == 0xFF { code += 1 }
        let last = k == layout.segments - 1
        guard code < bytes.count, bytes[code] == (last ? 0xD9 : 0xD0 + UInt8(k % 8)) else {
            oracleFailed("segment \(k) is followed by the wrong marker")
        }
        if !last, starts[k + 1] != code + 1 { oracleFailed("segment \(k + 1) does not start just after RST\(k % 8)") }
    }
}
