// Fuzz targets for the parsers bandsaw wrote in Swift, in one libFuzzer binary (built by
// scripts/fuzz.sh with `swiftc -sanitize=fuzzer,address -parse-as-library` over ImageCore,
// ImageCodecs and ImageFilters, each module instrumented; the harness uses their public API).
// BANDSAW_FUZZ_TARGET picks the target; each keeps its own corpus:
//   pnm          PNMCodec's header reader and row decode
//   exif         JPEG marker scanning up to the first scan, and EXIF orientation (IFD0)
//   filter_spec  --op specs and pipelines: parse, canonical text round trip, a run on a tiny image
//   decode       the whole read path: format sniffing and every codec's Swift side

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
