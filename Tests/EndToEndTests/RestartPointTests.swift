import Foundation
import ImageCore
import ImageCodecs
import ImageFilters
import TestSupport
import Testing

/// Shared PNG decoding end to end. PNGs with restart points: written by bandsaw on any rank
/// count, read back by segments on any rank count with the one-rank result; lying or damaged
/// files under `mpirun -np 3` behave as with one rank; other decoders read the same pixels.
/// Other PNGs: rows unfiltered on every rank give the one-rank result.
@Suite(.serialized)
struct RestartPointTests {
    /// The `"decode"` field of a `--json` report: "segments" or "whole".
    static func decoding(_ json: String) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return (object?["images"] as? [[String: Any]])?.first?["decode"] as? String
    }

    static func makeInput(_ folder: URL, width: Int = 83, height: Int = 1300) throws -> String {
        let path = folder.appendingPathComponent("in.png").path
        try writeImage(TestImages.stripes(width: width, height: height, channels: 3, seed: 11), path: path)
        return path
    }

    @Test("written by 1-7 ranks, read by segments on 1-7 ranks: the one-rank pixels", .needsMPIRun)
    func writersByReaders() throws {
        let root = try Harness.temporaryFolder("restart")
        defer { Harness.cleanup(root) }
        let input = try Self.makeInput(root)
        let expected = Pipeline(specs: [try FilterSpec(parsing: "sobel")]).apply(
            Pipeline(specs: [try FilterSpec(parsing: "invert")]).apply(try readImage(path: input)))
        for writers in 1...7 {
            let written = root.appendingPathComponent("w\(writers).png").path
            let w = try Harness.mpirun(writers, [input, "-o", written, "--op", "invert", "--quiet"])
            #expect(w.status == 0, "\(writers) writers: \(w.stderr)")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: written)))
            #expect(PNGRestart.probe(bytes, maxPixels: 1 << 28)?.layout.segments == 10, "\(writers) writers wrote no restart points")
            for readers in 1...7 {
                let out = root.appendingPathComponent("r.png").path
                let r = try Harness.mpirun(readers, [written, "-o", out, "--op", "sobel", "--json"])
                #expect(r.status == 0, "\(writers) -> \(readers): \(r.stderr)")
                #expect(Self.decoding(r.stdout) == (readers == 1 ? "whole" : "segments"), "\(writers) -> \(readers): \(r.stdout)")
                #expect(try readImage(path: out) == expected, "written by \(writers), read by \(readers) ranks")
            }
        }
    }

    @Test("per-stage halos and more ranks than segments read by segments too", .needsMPIRun)
    func haloModesAndIdleRanks() throws {
        let root = try Harness.temporaryFolder("restart-halo")
        defer { Harness.cleanup(root) }
        // 300 rows: two segments, so 5 ranks leave three idle.
        let input = try Self.makeInput(root, width: 41, height: 300)
        let written = root.appendingPathComponent("w.png").path
        #expect(try Harness.bandsaw([input, "-o", written, "--quiet"]).status == 0)
        for args in [["--op", "median:size=7", "--op", "gaussian:sigma=4"],
                     ["--halo-mode", "per-stage", "--op", "box:size=9", "--op", "laplacian"]] {
            let base = root.appendingPathComponent("base.ppm").path
            #expect(try Harness.bandsaw([written, "-o", base, "--quiet"] + args).status == 0)
            for ranks in [2, 5] {
                let out = root.appendingPathComponent("n\(ranks).ppm").path
                let r = try Harness.mpirun(ranks, [written, "-o", out, "--json"] + args)
                #expect(r.status == 0 && Self.decoding(r.stdout) == "segments", "\(args) on \(ranks): \(r.stderr)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: base)),
                        "\(args) on \(ranks) ranks")
            }
        }
    }

    @Test("lying, damaged and truncated restart files under mpirun -np 3 end as with one rank", .needsMPIRun)
    func badRestartFiles() throws {
        let root = try Harness.temporaryFolder("restart-bad")
        defer { Harness.cleanup(root) }
        let input = try Self.makeInput(root)
        let honest = root.appendingPathComponent("honest.png").path
        #expect(try Harness.bandsaw([input, "-o", honest, "--quiet"]).status == 0)
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: honest)))
        var chunks: [(type: String, offset: Int, length: Int)] = []
        var p = 8
        while p + 12 <= png.count {
            let n = png[p..<(p + 4)].reduce(0) { $0 << 8 | Int($1) }
            chunks.append((String(decoding: png[(p + 4)..<(p + 8)], as: UTF8.self), p, n)); p += 12 + n
        }
        func fixCRC(_ b: inout [UInt8], _ offset: Int) {
            let n = b[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let crc = BadInputTests.crc32(Array(b[(offset + 4)..<(offset + 8 + n)]))
            b.replaceSubrange((offset + 8 + n)..<(offset + 12 + n), with: BadInputTests.bigEndian(crc))
        }
        let mark = chunks.first { $0.type == "mARK" }!
        let idat = chunks.filter { $0.type == "IDAT" }[4]
        var lyingCount = png
        lyingCount[mark.offset + 13] = 7  // 10 segments claimed as 7, CRC made good
        fixCRC(&lyingCount, mark.offset)
        var damaged = png
        for i in 0..<16 { damaged[idat.offset + 8 + idat.length / 2 + i] ^= 0xA5 }  // inside segment 4, CRC made good
        fixCRC(&damaged, idat.offset)
        var wrongFilter = png
        wrongFilter[idat.offset + 8 + 3] ^= 0x40  // early in a segment: its first row's filter or the block header
        fixCRC(&wrongFilter, idat.offset)
        let cases: [(String, [UInt8])] = [
            ("lying-count.png", lyingCount), ("damaged.png", damaged), ("wrong-filter.png", wrongFilter),
            ("truncated.png", Array(png.prefix(png.count * 2 / 3))), ("truncated-end.png", Array(png.dropLast(7))),
        ]
        for (name, bytes) in cases {
            let path = root.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let one = root.appendingPathComponent("one-\(name)").path, three = root.appendingPathComponent("three-\(name)").path
            let single = try Harness.bandsaw([path, "-o", one, "--quiet"])
            let multi = try Harness.mpirun(3, [path, "-o", three, "--quiet"], timeout: 60)
            #expect(!multi.timedOut && multi.seconds < 30, "\(name) hung")
            #expect(multi.status == single.status, "\(name): 3 ranks exit \(multi.status), one rank \(single.status)")
            if single.status == 0 {
                #expect(try readImage(path: three) == readImage(path: one), "\(name): 3 ranks decoded other pixels")
            } else {
                #expect(multi.status == 3, "\(name): \(multi.stderr)")
                let lines = multi.stderr.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].hasPrefix("error:"), "\(name): \(multi.stderr)")
                #expect(multi.stdout.isEmpty && !FileManager.default.fileExists(atPath: three), "\(name)")
            }
        }
        // The lie is only in the chunk: the whole decode is right, so the output is too.
        #expect(try Harness.bandsaw([root.appendingPathComponent("lying-count.png").path, "-o",
                                     root.appendingPathComponent("x.png").path, "--quiet"]).status == 0)
    }

    @Test("PNGs without restart points: rows unfiltered on every rank equal one rank; a bad filter byte exits 3 everywhere", .needsMPIRun)
    func rowParallelUnfilter() throws {
        let root = try Harness.temporaryFolder("rows")
        defer { Harness.cleanup(root) }
        // libpng's adaptive filters (boundaries on Sub/None rows), and bandsaw's Paeth-only
        // encoder on a short image without restart points (every boundary waits for the row above).
        let adaptive = root.appendingPathComponent("adaptive.png").path
        try writeImage(TestImages.stripes(width: 150, height: 420, channels: 3, seed: 5), path: adaptive)
        let paeth = root.appendingPathComponent("paeth.png").path
        let source = root.appendingPathComponent("short.ppm").path
        try writeImage(TestImages.stripes(width: 120, height: 250, channels: 3, seed: 6), path: source)
        #expect(try Harness.bandsaw([source, "-o", paeth, "--op", "invert", "--quiet"]).status == 0)
        for input in [adaptive, paeth] {
            let base = root.appendingPathComponent("base.png").path
            #expect(try Harness.bandsaw([input, "-o", base, "--op", "median:size=5", "--quiet"]).status == 0)
            for ranks in [2, 3, 4, 7] {
                let out = root.appendingPathComponent("o.png").path
                let r = try Harness.mpirun(ranks, [input, "-o", out, "--op", "median:size=5", "--json"])
                #expect(r.status == 0 && Self.decoding(r.stdout) == "rows", "\(input) on \(ranks): \(r.stderr) \(r.stdout)")
                #expect(try readImage(path: out) == readImage(path: base), "\(input) on \(ranks) ranks")
            }
        }
        // An unknown filter type deep in the image, found by whichever rank unfilters that row.
        let bad = root.appendingPathComponent("bad-filter.png").path
        let script = """
        import struct, sys, zlib
        w, h = 200, 300
        rows = b"".join(bytes([9 if y == 250 else 1]) + bytes((x * 7 + y) % 256 for x in range(w * 3)) for y in range(h))
        def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
        open(sys.argv[1], "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))
        """
        let made = try Harness.run(["python3", "-c", script, bad], timeout: 60)
        try #require(made.status == 0, "\(made.stderr)")
        let single = try Harness.bandsaw([bad, "-o", root.appendingPathComponent("b1.png").path, "--quiet"])
        #expect(single.status == 3 && single.stderr.contains("filter"), "\(single.stderr)")
        for ranks in [2, 3] {
            let out = root.appendingPathComponent("b\(ranks).png").path
            let r = try Harness.mpirun(ranks, [bad, "-o", out, "--quiet"], timeout: 60)
            #expect(r.status == 3 && !r.timedOut, "\(ranks) ranks: \(r.status) \(r.stderr)")
            #expect(r.stderr == single.stderr, "\(ranks) ranks say other words: \(r.stderr)")
            #expect(r.stdout.isEmpty && !FileManager.default.fileExists(atPath: out))
        }
    }

    @Test("libpng, Pillow and OpenCV read a restart-point PNG to the same pixels")
    func otherDecoders() throws {
        let root = try Harness.temporaryFolder("restart-interop")
        defer { Harness.cleanup(root) }
        let input = try Self.makeInput(root)
        let written = root.appendingPathComponent("w.png").path
        #expect(try Harness.bandsaw([input, "-o", written, "--op", "emboss", "--quiet"]).status == 0)
        let image = try readImage(path: written)
        let raw = root.appendingPathComponent("w.rgb").path
        try Data(image.pixels).write(to: URL(fileURLWithPath: raw))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: written)))
        #expect(PNGRestart.probe(bytes, maxPixels: 1 << 28) != nil)
        #expect(try PNGCodec.decode(bytes, path: written, maxPixels: 1 << 28, allowFastPath: false) == image, "libpng")
        let script = """
        import sys, numpy as np
        from PIL import Image
        import cv2
        png, raw, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        want = np.fromfile(raw, dtype=np.uint8).reshape(h, w, 3)
        pil = np.asarray(Image.open(png).convert("RGB"))
        ocv = cv2.imread(png, cv2.IMREAD_UNCHANGED)[:, :, ::-1]
        print("pillow", bool((pil == want).all()), "opencv", bool((ocv == want).all()))
        """
        let probe = try Harness.run([Harness.python3, "-c", "import PIL, cv2, numpy"], timeout: 60)
        if probe.status != 0 {
            // CI installs them (scripts/test.sh, into .venv); elsewhere say what is missing.
            let ci = ProcessInfo.processInfo.environment["CI"] == "true"
            try #require(!ci, "Pillow/OpenCV missing in CI: \(probe.stderr)")
            print("skipping Pillow/OpenCV: pip install pillow opencv-python-headless numpy")
            return
        }
        let run = try Harness.run([Harness.python3, "-c", script, written, raw, String(image.width), String(image.height)], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "pillow True opencv True", "\(run.stdout)")
    }
}
