import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
import TestSupport
import Testing

/// JPEG by bands through the real binary under real `mpirun`: JPEG inputs decoded by restart
/// segments or by skipping on every rank, JPEG outputs encoded by bands, byte-identical on
/// 1...7 ranks and equal to Pillow's decode; damaged files end as on one rank.
@Suite(.serialized)
struct JPEGBandsTests {
    /// The `"decode"` field of a `--json` report.
    static func decoding(_ json: String) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return (object?["images"] as? [[String: Any]])?.first?["decode"] as? String
    }

    /// Writes the test inputs with Pillow: its baseline (no restart markers), a restart marker
    /// every MCU row (as phones write them), and progressive; plus Pillow's decode of each as
    /// raw RGB. nil where Pillow is missing (CI installs it and fails instead).
    static func pillowInputs(_ folder: URL) throws -> [String: (path: String, decoded: [UInt8])]? {
        let script = """
        import sys
        import numpy as np
        from PIL import Image
        out = sys.argv[1]
        h, w = 523, 307
        y, x = np.mgrid[0:h, 0:w]
        rng = np.random.default_rng(7)
        rgb = np.stack([128 + 100 * np.sin(x / 23.0) * np.cos(y / 31.0), (x * 255 // w) + 0 * y,
                        128 + 90 * np.sin((x + y) / 17.0)], axis=2) + rng.normal(0, 4, (h, w, 3))
        im = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
        for name, kw in [("baseline", {}), ("restart", {"restart_marker_rows": 1}),
                         ("restart2", {"restart_marker_rows": 2, "subsampling": 1}), ("progressive", {"progressive": True})]:
            path = f"{out}/{name}.jpg"
            im.save(path, quality=90, **kw)
            open(f"{out}/{name}.rgb", "wb").write(np.asarray(Image.open(path).convert("RGB")).tobytes())
        """
        let made = try Harness.run(["python3", "-c", script, folder.path], timeout: 120)
        guard made.status == 0 else {
            try #require(ProcessInfo.processInfo.environment["CI"] != "true", "Pillow missing in CI: \(made.stderr)")
            return nil
        }
        var inputs: [String: (String, [UInt8])] = [:]
        for name in ["baseline", "restart", "restart2", "progressive"] {
            let raw = [UInt8](try Data(contentsOf: folder.appendingPathComponent("\(name).rgb")))
            inputs[name] = (folder.appendingPathComponent("\(name).jpg").path, raw)
        }
        return inputs
    }

    @Test("JPEG in, JPEG out on 1-7 ranks: the one-rank bytes; restart and skip decodes equal Pillow's", .needsMPIRun)
    func ranksAgree() throws {
        let root = try Harness.temporaryFolder("jpeg-bands")
        defer { Harness.cleanup(root) }
        guard let inputs = try Self.pillowInputs(root) else { return }
        // bandsaw's own JPEG too: a restart marker every MCU row, written by bands.
        let own = root.appendingPathComponent("own.jpg").path
        let w = try Harness.mpirun(3, [inputs["baseline"]!.path, "-o", own, "--op", "invert", "--quiet"])
        #expect(w.status == 0, "\(w.stderr)")
        let expected: [String: String] = ["baseline": "jpeg-skip", "restart": "jpeg-restart", "restart2": "jpeg-restart",
                                          "progressive": "whole", "own": "jpeg-restart"]
        for name in expected.keys.sorted() {
            let input = name == "own" ? own : inputs[name]!.path
            // invert twice: the decoded pixels themselves, as PNG, against Pillow's decode.
            if let decoded = inputs[name]?.decoded {
                for ranks in [2, 5] {
                    let out = root.appendingPathComponent("same-\(name)-\(ranks).png").path
                    let r = try Harness.mpirun(ranks, [input, "-o", out, "--op", "invert", "--op", "invert", "--json"])
                    #expect(r.status == 0 && Self.decoding(r.stdout) == expected[name], "\(name) on \(ranks): \(r.stderr) \(r.stdout)")
                    #expect(try readImage(path: out).pixels == decoded, "\(name) on \(ranks) ranks: not Pillow's pixels")
                }
            }
            for op in name == "baseline" || name == "own" ? ["sobel", "gaussian:sigma=3"] : ["sobel"] {
                let one = root.appendingPathComponent("one-\(name).jpg").path
                let single = try Harness.bandsaw([input, "-o", one, "--op", op, "--quiet"])
                #expect(single.status == 0, "\(name) \(op): \(single.stderr)")
                let reference = try Data(contentsOf: URL(fileURLWithPath: one))
                for ranks in 1...7 {
                    let out = root.appendingPathComponent("n-\(name)-\(ranks).jpg").path
                    let r = try Harness.mpirun(ranks, [input, "-o", out, "--op", op, "--json"])
                    #expect(r.status == 0, "\(name) \(op) on \(ranks): \(r.stderr)")
                    #expect(Self.decoding(r.stdout) == (ranks == 1 ? "whole" : expected[name]), "\(name) on \(ranks): \(r.stdout)")
                    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == reference, "\(name) \(op) on \(ranks) ranks: other bytes")
                }
            }
        }
    }

    @Test("damaged and lying JPEGs under 1-4 ranks end as on one rank: exit 3 with one line, or the same output", .needsMPIRun)
    func damagedFiles() throws {
        let root = try Harness.temporaryFolder("jpeg-bands-bad")
        defer { Harness.cleanup(root) }
        let source = root.appendingPathComponent("src.ppm").path
        try writeImage(TestImages.stripes(width: 190, height: 301, channels: 3, seed: 24), path: source)
        let restart = root.appendingPathComponent("r.jpg").path
        #expect(try Harness.bandsaw([source, "-o", restart, "--op", "invert", "--quiet"]).status == 0)
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: restart)))
        let sos = (0..<(good.count - 1)).first { good[$0] == 0xFF && good[$0 + 1] == 0xDA }!
        let dri = (0..<sos).first { good[$0] == 0xFF && good[$0 + 1] == 0xDD }!
        let markers = (sos..<(good.count - 1)).filter { good[$0] == 0xFF && (0xD0...0xD7).contains(good[$0 + 1]) }
        // Segment data flipped, a marker renumbered or taken out, the interval doubled, EOI
        // gone, the file cut in its data or in its headers.
        var flipped = good
        for i in 0..<12 { flipped[markers[7] + 40 + i] ^= 0x5A }
        var renumbered = good
        renumbered[markers[5] + 1] = 0xD0 + (renumbered[markers[5] + 1] - 0xD0 + 3) % 8
        var lyingDRI = good
        lyingDRI[dri + 5] = lyingDRI[dri + 5] &* 2
        var missing = good
        missing.removeSubrange(markers[9]..<(markers[9] + 2))
        let noEOI = Array(good.dropLast(2))
        let cases: [(String, [UInt8])] = [
            ("flipped.jpg", flipped), ("renumbered.jpg", renumbered), ("lying-dri.jpg", lyingDRI),
            ("missing-rst.jpg", missing), ("no-eoi.jpg", noEOI), ("cut.jpg", Array(good.prefix(good.count * 3 / 5))),
            ("cut-in-header.jpg", Array(good.prefix(sos + 4))),
        ]
        for (name, bytes) in cases {
            let path = root.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let one = root.appendingPathComponent("one-\(name)").path
            let single = try Harness.bandsaw([path, "-o", one, "--quiet"])
            for ranks in 2...4 {
                let out = root.appendingPathComponent("n\(ranks)-\(name)").path
                let multi = try Harness.mpirun(ranks, [path, "-o", out, "--quiet"], timeout: 60)
                #expect(!multi.timedOut && multi.seconds < 30, "\(name) on \(ranks) hung")
                #expect(multi.status == single.status, "\(name): \(ranks) ranks exit \(multi.status), one rank \(single.status) (\(single.stderr)): \(multi.stderr)")
                if single.status == 0 {
                    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: one)),
                            "\(name): \(ranks) ranks wrote other bytes")
                } else {
                    #expect(multi.status == 3, "\(name): \(multi.stderr)")
                    BadInputTests.expectOneErrorLine(multi, "\(name) np \(ranks)")
                    #expect(multi.stderr == single.stderr, "\(name): \(ranks) ranks say other words: \(multi.stderr)")
                    #expect(!FileManager.default.fileExists(atPath: out), "\(name) on \(ranks): output left behind")
                }
            }
        }
    }
}
