import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// Bad input under `mpirun -np 3`: exit code 3 (image) or 2 (usage) from mpirun, one line on
/// stderr starting with `error:`, nothing on stdout, no output file, and no hang.
@Suite(.serialized)
struct BadInputTests {
    /// CRC-32 as PNG chunks use it, to craft a header-only decompression bomb.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// A PNG whose IHDR claims 100000 x 100000 pixels, followed by a tiny IDAT and IEND.
    static func bombPNG() -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
        }
        let ihdr = bigEndian(100_000) + bigEndian(100_000) + [8, 2, 0, 0, 0]
        return [137, 80, 78, 71, 13, 10, 26, 10] + chunk("IHDR", ihdr)
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    }

    /// Named bad files, written fresh for each run.
    static func makeBadInputs(in folder: URL) throws -> [String: URL] {
        let good = try encodeImage(TestImages.stripes(width: 40, height: 30, channels: 3, seed: 3), format: .png)
        let files: [String: [UInt8]] = [
            "empty.png": [],
            "text.png": Array("this is not an image\n".utf8),
            "truncated.png": Array(good.prefix(good.count / 2)),
            "signature-only.png": Array(good.prefix(8)),
            "photo.jpg": [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [UInt8](repeating: 0, count: 64),
            "corrupt.png": { var b = good; for i in 40..<min(b.count, 80) { b[i] ^= 0x5A }; return b }(),
            "bomb.png": bombPNG(),
        ]
        var urls: [String: URL] = [:]
        for (name, bytes) in files {
            let url = folder.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            urls[name] = url
        }
        urls["missing.png"] = folder.appendingPathComponent("does-not-exist.png")
        return urls
    }

    static func expectOneErrorLine(_ run: Harness.Outcome, _ label: String) {
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(label): expected one stderr line, got: \(run.stderr)")
        #expect(lines.first?.hasPrefix("error: ") == true, "\(label): \(run.stderr)")
        #expect(run.stdout.isEmpty, "\(label): stray stdout: \(run.stdout)")
        #expect(!run.timedOut && run.seconds < 30, "\(label): took \(run.seconds)s")
    }

    @Test("bad images exit 3 with one message from all ranks", .needsMPIRun)
    func badImages() throws {
        let folder = try Harness.temporaryFolder("bad")
        defer { Harness.cleanup(folder) }
        for (name, url) in try Self.makeBadInputs(in: folder).sorted(by: { $0.key < $1.key }) {
            let output = folder.appendingPathComponent("out-\(name).png")
            let run = try Harness.mpirun(3, [url.path, "-o", output.path, "--op", "median:size=3"], timeout: 60)
            #expect(run.status == 3, "\(name): exit \(run.status), stderr: \(run.stderr)")
            Self.expectOneErrorLine(run, name)
            #expect(!FileManager.default.fileExists(atPath: output.path), "\(name): output file left behind")
            // The single-process baseline refuses it the same way.
            let alone = try Harness.bandsaw([url.path, "-o", output.path])
            #expect(alone.status == 3, "\(name) alone: exit \(alone.status)")
            Self.expectOneErrorLine(alone, "\(name) alone")
        }
        // Nothing but the bad inputs themselves: no temporary files from refused runs.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("out-") || $0.contains(".tmp") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("bad usage exits 2 with one message", .needsMPIRun, arguments: [
        ["--op", "blur"],
        ["--op", "gaussian:sigma=1000"],
        ["--op", "median:size=4"],
        ["--op", "box:size=abc"],
        ["--op", "sobel:radius=2"],
        ["--op", "threshold:value=256"],
        ["--op", "canny:low=200,high=100"],
        ["--op", "canny:l2=yes"],
        ["--op", "canny:high=40000"],
        ["--op", "canny:sigma=0.01"],
        ["--max-pixels", "0"],
    ])
    func badUsage(_ extra: [String]) throws {
        let folder = try Harness.temporaryFolder("usage")
        defer { Harness.cleanup(folder) }
        let input = folder.appendingPathComponent("in.png")
        try writeImage(TestImages.stripes(width: 8, height: 8, channels: 3, seed: 1), path: input.path)
        let output = folder.appendingPathComponent("out.png")
        let run = try Harness.mpirun(3, [input.path, "-o", output.path] + extra, timeout: 60)
        #expect(run.status == 2, "\(extra): exit \(run.status), stderr: \(run.stderr)")
        Self.expectOneErrorLine(run, "\(extra)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test("unknown output extension and missing output exit 2")
    func badOutput() throws {
        let folder = try Harness.temporaryFolder("usage-out")
        defer { Harness.cleanup(folder) }
        let input = folder.appendingPathComponent("in.png")
        try writeImage(TestImages.stripes(width: 8, height: 8, channels: 1, seed: 2), path: input.path)
        let gif = try Harness.bandsaw([input.path, "-o", folder.appendingPathComponent("out.gif").path])
        #expect(gif.status == 2, "\(gif.stderr)")
        Self.expectOneErrorLine(gif, "out.gif")
        let none = try Harness.bandsaw([input.path])
        #expect(none.status == 2, "\(none.stderr)")
        Self.expectOneErrorLine(none, "no -o")
    }

    @Test("an unwritable output folder exits 3 and leaves no file", .needsMPIRun)
    func unwritableOutput() throws {
        let folder = try Harness.temporaryFolder("unwritable")
        defer { Harness.cleanup(folder) }
        let input = folder.appendingPathComponent("in.png")
        try writeImage(TestImages.stripes(width: 16, height: 16, channels: 3, seed: 4), path: input.path)
        let output = folder.appendingPathComponent("no/such/folder/out.png")
        let run = try Harness.mpirun(2, [input.path, "-o", output.path], timeout: 60)
        #expect(run.status == 3, "exit \(run.status): \(run.stderr)")
        Self.expectOneErrorLine(run, "unwritable")
    }

    @Test("a batch whose inputs share a name exits 2 before any work, one line, no output", .needsMPIRun)
    func duplicateOutputNames() throws {
        let root = try Harness.temporaryFolder("dup")
        defer { Harness.cleanup(root) }
        for folder in ["a", "b"] {
            let dir = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try writeImage(TestImages.stripes(width: 9, height: 7, channels: 3, seed: 2), path: dir.appendingPathComponent("x.png").path)
        }
        let out = root.appendingPathComponent("out")
        let r = try Harness.mpirun(3, [root.appendingPathComponent("a/x.png").path, root.appendingPathComponent("b/x.png").path,
                                       "-o", out.path, "--quiet"], timeout: 60)
        #expect(r.status == 2, "\(r.status) \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error:") && lines[0].contains("would both be written"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
