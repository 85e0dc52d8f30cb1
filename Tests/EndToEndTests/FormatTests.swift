import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// JPEG, TIFF and WebP through the real binary under real `mpirun`: every rank count gives
/// the one-rank result, lossless outputs round trip exactly, and bad files of each format
/// end with one `error:` line, exit 3 and no output at any rank count.
@Suite(.serialized)
struct FormatTests {
    /// The reference files of `scripts/make-format-references.py` (Pillow and libtiff), or nil
    /// without Python and Pillow (CI has them and fails instead).
    static func references(in folder: URL) throws -> URL? {
        let dir = folder.appendingPathComponent("refs")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = Harness.packageRoot.appendingPathComponent("scripts/make-format-references.py").path
        let run = try Harness.run([Harness.python3, script, Harness.fixtures.appendingPathComponent("photos/astronaut-256.png").path,
                                   dir.path], timeout: 120)
        if run.status == 0 { return dir }
        try #require(ProcessInfo.processInfo.environment["CI"] != "true", "reference files: \(run.stderr)")
        print("skipping the reference inputs: pip install pillow numpy")
        return nil
    }

    @Test("JPEG, TIFF and WebP inputs and outputs: mpirun -np 1...4 equals one rank", .needsMPIRun)
    func ranksAgree() throws {
        let folder = try Harness.temporaryFolder("formats")
        defer { Harness.cleanup(folder) }
        // Made here: an odd-sized pattern as JPEG, TIFF and lossy WebP.
        let image = TestImages.stripes(width: 97, height: 61, channels: 3, seed: 12)
        var inputs: [URL] = []
        for (name, options) in [("gen.jpg", EncodeOptions()), ("gen.tif", EncodeOptions()), ("gen.webp", EncodeOptions(quality: 75))] {
            let url = folder.appendingPathComponent(name)
            try writeImage(image, path: url.path, options: options)
            inputs.append(url)
        }
        // And from the reference script: progressive, CMYK, rotated JPEG; 16-bit, tiled, BigTIFF; lossless WebP with alpha.
        if let refs = try Self.references(in: folder) {
            for name in ["jpeg-progressive.jpg", "jpeg-cmyk.jpg", "jpeg-orient-6.jpg", "tiff-gray16.tif",
                         "tiff-tiled-rgba8-deflate.tif", "tiff-bigtiff-tiled-rgb16.tif", "webp-lossless-rgba.webp", "jpeg-photo.jpg"] {
                inputs.append(refs.appendingPathComponent(name))
            }
        }
        let outputs = ["tif", "webp", "jpg", "png"]
        for (i, input) in inputs.enumerated() {
            let ext = outputs[i % outputs.count]
            let args = ["--op", "gaussian:sigma=1.5", "--op", "invert", "-q"]
            let one = folder.appendingPathComponent("one-\(i).\(ext)")
            let alone = try Harness.bandsaw([input.path, "-o", one.path] + args)
            try #require(alone.status == 0, "\(input.lastPathComponent): \(alone.stderr)")
            let expected = try readImage(path: one.path)
            for ranks in 1...4 {
                let out = folder.appendingPathComponent("np\(ranks)-\(i).\(ext)")
                let run = try Harness.mpirun(ranks, [input.path, "-o", out.path] + args)
                #expect(run.status == 0 && run.stderr.isEmpty, "\(input.lastPathComponent) np \(ranks): \(run.stderr)")
                #expect(try readImage(path: out.path) == expected, "\(input.lastPathComponent) -> .\(ext) np \(ranks)")
            }
        }
    }

    @Test("lossless outputs round trip through the program exactly (invert twice)", .needsMPIRun, arguments: ["tif", "webp", "png"])
    func losslessRoundTrip(ext: String) throws {
        let folder = try Harness.temporaryFolder("roundtrip")
        defer { Harness.cleanup(folder) }
        let image = TestImages.stripes(width: 53, height: 41, channels: 4, seed: 3)
        let a = folder.appendingPathComponent("a.\(ext)"), b = folder.appendingPathComponent("b.\(ext)")
        let c = folder.appendingPathComponent("c.\(ext)")
        try writeImage(image, path: a.path)
        for (from, to) in [(a, b), (b, c)] {
            let run = try Harness.mpirun(3, [from.path, "-o", to.path, "--op", "invert", "-q"])
            try #require(run.status == 0, "\(run.stderr)")
        }
        #expect(try readImage(path: c.path) == image)
    }

    @Test("`bandsaw ops` and `--help` name the formats")
    func listed() throws {
        let ops = try Harness.bandsaw(["ops"])
        #expect(ops.status == 0)
        for format in ImageFormat.allCases {
            #expect(ops.stdout.contains(format.summary), "ops lacks \(format)")
        }
        let help = try Harness.bandsaw(["--help"]).stdout + (try Harness.bandsaw(["process", "--help"]).stdout)
        for word in ["JPEG", "TIFF", "WebP", ".webp", "--quality", "--no-autorotate"] {
            #expect(help.contains(word), "help lacks \(word)")
        }
    }

    @Test("--no-autorotate keeps a JPEG's stored orientation; by default it is turned upright")
    func autorotate() throws {
        let folder = try Harness.temporaryFolder("rotate")
        defer { Harness.cleanup(folder) }
        guard let refs = try Self.references(in: folder) else { return }
        let input = refs.appendingPathComponent("jpeg-orient-6.jpg").path
        let upright = folder.appendingPathComponent("up.png").path, stored = folder.appendingPathComponent("st.png").path
        #expect(try Harness.bandsaw([input, "-o", upright, "--op", "invert", "-q"]).status == 0)
        #expect(try Harness.bandsaw([input, "-o", stored, "--op", "invert", "-q", "--no-autorotate"]).status == 0)
        let (u, s) = (try readImage(path: upright), try readImage(path: stored))
        #expect(s.width == 101 && s.height == 77 && u.width == 77 && u.height == 101)
    }

    /// Bad files of each format, named for what they are (or claim to be).
    static func badFiles(in folder: URL) throws -> [String: [UInt8]] {
        let image = TestImages.stripes(width: 48, height: 40, channels: 3, seed: 5)
        let jpeg = try encodeImage(image, format: .jpeg), tiff = try encodeImage(image, format: .tiff)
        let webp = try encodeImage(image, format: .webp, options: EncodeOptions(quality: 80))
        func garbled(_ bytes: [UInt8], from: Int) -> [UInt8] {
            var b = bytes
            for i in from..<min(b.count, from + 40) { b[i] ^= 0x5A }
            return b
        }
        // A JPEG whose frame header claims 60000 x 60000.
        var bomb = jpeg
        if let sof = (2..<(bomb.count - 9)).first(where: { bomb[$0] == 0xFF && bomb[$0 + 1] == 0xC0 }) {
            bomb.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])
        }
        // A TIFF whose first directory claims 100000 x 100000 (little-endian; width and height
        // are the first two entries our encoder writes: made LONG, 100000 each).
        var tiffBomb = tiff
        let ifd = Int(tiff[4]) | Int(tiff[5]) << 8 | Int(tiff[6]) << 16 | Int(tiff[7]) << 24
        for entry in 0..<2 {
            let at = ifd + 2 + 12 * entry
            tiffBomb.replaceSubrange((at + 2)..<(at + 4), with: [4, 0])
            tiffBomb.replaceSubrange((at + 8)..<(at + 12), with: [0xA0, 0x86, 0x01, 0x00])
        }
        return [
            "truncated.jpg": Array(jpeg.prefix(jpeg.count / 2)),
            "corrupt.jpg": garbled(jpeg, from: 20),
            "bomb.jpg": bomb,
            "text.jpg": Array("not a photo\n".utf8),
            "truncated.tif": Array(tiff.prefix(tiff.count / 2)),
            "corrupt.tif": garbled(tiff, from: tiff.count - 60),
            "bomb.tif": tiffBomb,
            "cmyk.tif": CMYKTIFF.bytes,
            "truncated.webp": Array(webp.prefix(webp.count / 2)),
            "corrupt.webp": garbled(webp, from: 30),
            "jpeg-cut-named.webp": Array(jpeg.prefix(100)),
        ]
    }

    @Test("bad JPEG, TIFF and WebP files: one error line, exit 3, no output, at 1...4 ranks", .needsMPIRun)
    func badFiles() throws {
        let folder = try Harness.temporaryFolder("badformats")
        defer { Harness.cleanup(folder) }
        for (name, bytes) in try Self.badFiles(in: folder).sorted(by: { $0.key < $1.key }) {
            let input = folder.appendingPathComponent(name)
            try Data(bytes).write(to: input)
            for ranks in 1...4 {
                let output = folder.appendingPathComponent("out-\(ranks)-\(name).tif")
                let run = ranks == 1 ? try Harness.bandsaw([input.path, "-o", output.path])
                                     : try Harness.mpirun(ranks, [input.path, "-o", output.path], timeout: 60)
                #expect(run.status == 3, "\(name) np \(ranks): exit \(run.status), stderr: \(run.stderr)")
                BadInputTests.expectOneErrorLine(run, "\(name) np \(ranks)")
                #expect(!FileManager.default.fileExists(atPath: output.path), "\(name) np \(ranks): output left behind")
            }
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("out-") || $0.contains(".tmp") }
        #expect(left.isEmpty, "left behind: \(left)")
    }
}

/// A 2x2 CMYK TIFF (photometric 5), a layout bandsaw refuses by name.
enum CMYKTIFF {
    static var bytes: [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16) }
        let entries: [(Int, Int, Int)] = [(256, 4, 2), (257, 4, 2), (258, 3, 8), (259, 3, 1), (262, 3, 5),
                                          (273, 4, 200), (277, 3, 4), (278, 4, 2), (279, 4, 16), (284, 3, 1)]
        var out: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + u32(8) + u16(entries.count)
        for (tag, type, value) in entries { out += u16(tag) + u16(type) + u32(1) + (type == 3 ? u16(value) + [0, 0] : u32(value)) }
        out += u32(0)
        return out + [UInt8](repeating: 0x40, count: 216 - out.count)
    }
}
