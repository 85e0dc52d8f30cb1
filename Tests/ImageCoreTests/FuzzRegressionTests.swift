import Foundation
import ImageCore
@_spi(Testing) import ImageCodecs
import ImageFilters
import TestSupport
import Testing

/// Every input under Tests/Fixtures/fuzz-regressions/<target>/ (what scripts/fuzz.sh's fuzzers
/// found, and small versions of scripts/make-hostile.py's bombs) replayed through the real
/// parser of its target: each ends in an image or a typed error, never a trap, and the ones
/// named below end exactly as their fix decided.
@Suite struct FuzzRegressionTests {
    static let root = CodecFixtures.path("fuzz-regressions")

    /// (target, file name) for every regression file.
    static func cases() -> [(String, String)] {
        let targets = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return targets.sorted().flatMap { target in
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + target)) ?? []).sorted().map { (target, $0) }
        }
    }

    /// What the fixes decided for the named files: the error's case.
    static let expected: [String: String] = [
        "inflate-bomb-32mib.png": "corrupt",
        "inflate-bomb-palette-32mib.png": "corrupt",
        "ztxt-length-claim.png": "truncated",
        "oom-ztxt-184mb-claim.png": "truncated",
        "scan-bomb-300.jpg": "corrupt",
        "scans-250.jpg": "ok",
        "tile-16384.tif": "corrupt",
    ]

    @Test("there is something to replay, for more than one target")
    func present() {
        let targets = Set(Self.cases().map(\.0))
        #expect(targets.isSuperset(of: ["png_fast", "decode", "jpeg_decode", "tiff_layout"]), "\(targets)")
    }

    @Test("each regression input ends in an image or a typed error, as its fix decided", arguments: cases())
    func replay(target: String, name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.root + "/" + target + "/" + name)))
        let limit = 1 << 20
        switch target {
        case "pnm":
            _ = try? PNMCodec.decode(bytes, path: name, maxPixels: limit)
        case "exif":
            let orientation = ExifOrientation(jpeg: bytes)
            #expect(ExifOrientation.allCases.contains(orientation))
        case "filter_spec":
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                if let spec = try? FilterSpec(parsing: String(line)) { #expect(try FilterSpec(parsing: spec.description) == spec) }
            }
        default:
            // The default limit, as the command line has it: the fixes hold under it.
            let kind = Self.kind(bytes, maxPixels: ImageLimits.defaultMaxPixels)
            if target == "png_fast" || target == "png_restart" {
                // The fast path's contract: it accepts exactly when libpng does.
                #expect((kind == "ok") == (outcome(bytes, fast: false).kind == "ok"), "\(name): fast \(kind)")
            }
            if let want = Self.expected[name] { #expect(kind == want, "\(name): \(kind)") }
            _ = PNGRestart.probe(bytes, maxPixels: limit)
        }
    }

    /// decodeImage's result reduced to "ok" or the error's case.
    static func kind(_ bytes: [UInt8], maxPixels: Int) -> String {
        do {
            _ = try decodeImage(bytes: bytes, path: "f", maxPixels: maxPixels)
            return "ok"
        } catch {
            switch error {
            case .truncated: return "truncated"
            case .corrupt: return "corrupt"
            case .tooLarge: return "tooLarge"
            default: return "\(error)"
            }
        }
    }

    @Test("an IDAT tail a little past the image is still decoded, as libpng does")
    func smallTailDecodes() throws {
        // One extra row of data: libpng's "extra compressed data" warning, the claimed image kept.
        let image = TestImages.noise(width: 9, height: 6, channels: 3)
        let long = FastPathPNG.encode(TestImages.noise(width: 9, height: 7, channels: 3), filters: [Int](repeating: 0, count: 7))
        var chunks = FastPathPNG.chunks(long)
        chunks[0] = FastPathPNG.chunks(FastPathPNG.encode(image, filters: [Int](repeating: 0, count: 6)))[0]
        let file = FastPathPNG.join(chunks)
        for fast in [true, false] {
            let decoded = outcome(file, fast: fast)
            #expect(decoded.kind == "ok")
            #expect(decoded.image?.pixels == TestImages.noise(width: 9, height: 7, channels: 3).pixels.prefix(9 * 6 * 3).map { $0 })
        }
    }
}
