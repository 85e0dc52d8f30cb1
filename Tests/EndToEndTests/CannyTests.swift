import Foundation
import ImageCore
import ImageCodecs
import ImageFilters
import TestSupport
import Testing

/// `canny` end to end: the binary's output equals OpenCV's `cv2.Canny` pixel for pixel, and
/// `mpirun -np 1...7` equals one rank on photos and on chains built to cross every band border,
/// with the hysteresis exchanges in the JSON report (one, whatever the chains).
@Suite(.serialized)
struct CannyTests {
    /// Real photos and generated images (gray, colour, degenerate shapes, adversarial chains),
    /// written as PNG into `folder`; returns their names.
    static func makeInputs(in folder: URL) throws -> [String] {
        var names: [String] = []
        for name in ["astronaut-256.png", "coffee-256.png"] {
            let source = Harness.fixtures.appendingPathComponent("photos/\(name)")
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(name))
            names.append(name)
        }
        let shapes: [(Int, Int, Int)] = [(131, 97, 1), (64, 80, 3), (1, 1, 1), (50, 1, 1), (1, 40, 3), (33, 29, 4), (17, 23, 2)]
        for (i, (w, h, c)) in shapes.enumerated() {
            let name = "gen-\(w)x\(h)x\(c).png"
            try writeImage(TestImages.stripes(width: w, height: h, channels: c, seed: UInt64(40 + i)),
                           path: folder.appendingPathComponent(name).path)
            names.append(name)
        }
        try writeImage(EdgePatterns.serpentine(width: 301, height: 211), path: folder.appendingPathComponent("serpentine.png").path)
        try writeImage(EdgePatterns.spiral(width: 257, height: 199), path: folder.appendingPathComponent("spiral.png").path)
        try writeImage(EdgePatterns.comb(width: 263, height: 181), path: folder.appendingPathComponent("comb.png").path)
        return names + ["serpentine.png", "spiral.png", "comb.png"]
    }

    /// Compares each `input output low high l2` line's output with `cv2.Canny` of the input's
    /// gray (bandsaw's luma for colour, channel 0 for gray+alpha); prints one line per mismatch, then `checked N`.
    static let oracle = """
        import sys, numpy as np, cv2
        from PIL import Image
        checked = 0
        for line in sys.stdin:
            src, out, low, high, l2 = line.split()
            a = np.asarray(Image.open(src))
            if a.ndim == 3 and a.shape[2] >= 3:
                a = a.astype(np.uint32)
                a = ((77 * a[..., 0] + 150 * a[..., 1] + 29 * a[..., 2] + 128) >> 8).astype(np.uint8)
            elif a.ndim == 3:
                a = a[..., 0]
            want = cv2.Canny(np.ascontiguousarray(a, dtype=np.uint8), float(low), float(high), apertureSize=3, L2gradient=l2 == "true")
            got = np.asarray(Image.open(out))
            if got.shape != want.shape or (got != want).any():
                print("mismatch", src, low, high, l2, int((got != want).sum()) if got.shape == want.shape else got.shape)
            checked += 1
        print("checked", checked)
        """

    static var openCVAvailable: Bool {
        let probe = try? Harness.run([Harness.python3, "-c", "import PIL, cv2, numpy"], timeout: 60)
        if probe?.status == 0 { return true }
        // CI installs them (scripts/test.sh, into .venv); elsewhere say what is missing.
        return false
    }

    @Test("one rank equals cv2.Canny(gray, low, high, apertureSize=3, L2gradient) pixel for pixel")
    func equalsOpenCV() throws {
        guard Self.openCVAvailable else {
            try #require(ProcessInfo.processInfo.environment["CI"] != "true", "Pillow/OpenCV missing in CI")
            print("skipping OpenCV comparison: pip install pillow opencv-python-headless numpy")
            return
        }
        let root = try Harness.temporaryFolder("canny-cv")
        defer { Harness.cleanup(root) }
        let names = try Self.makeInputs(in: root)
        let settings: [(String, String, Bool)] = [("50", "150", false), ("10", "40", false), ("0", "0", false),
                                                  ("25.5", "70.9", false), ("100", "100", true), ("30", "90", true)]
        var lines: [String] = []
        for (index, (low, high, l2)) in settings.enumerated() {
            let out = root.appendingPathComponent("out\(index)")
            let op = "canny:low=\(low),high=\(high),l2=\(l2)"
            for name in names {
                let input = root.appendingPathComponent(name).path, output = out.appendingPathComponent(name).path
                lines.append("\(input) \(output) \(low) \(high) \(l2)")
            }
            let run = try Harness.bandsaw([root.path, "-o", out.path, "--quiet", "--op", op])
            #expect(run.status == 0, "\(op): \(run.stderr)")
        }
        let script = root.appendingPathComponent("oracle.py")
        try Self.oracle.write(to: script, atomically: true, encoding: .utf8)
        let list = root.appendingPathComponent("cases.txt")
        try (lines.joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
        let check = try Harness.run(["sh", "-c", "\"$0\" \"$1\" < \"$2\"", Harness.python3, script.path, list.path], timeout: 120)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout == "checked \(lines.count)\n", "\(check.stdout)")
    }

    @Test("mpirun -np 1...7 equals one rank on photos and border-crossing chains, in one exchange", .needsMPIRun)
    func distributedEqualsSingleRank() throws {
        let root = try Harness.temporaryFolder("canny-np")
        defer { Harness.cleanup(root) }
        let inputs = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let names = try Self.makeInputs(in: inputs).filter { !$0.hasPrefix("gen-") }
        let baseline = root.appendingPathComponent("base")
        let single = try Harness.bandsaw([inputs.path, "-o", baseline.path, "--quiet", "--op", "canny"])
        #expect(single.status == 0, "\(single.stderr)")
        var table: [String] = []
        for ranks in 1...7 {
            let out = root.appendingPathComponent("np\(ranks)")
            // Banded on every rank (a folder's images would otherwise be dealt whole, issue 25).
            let run = try Harness.mpirun(ranks, [inputs.path, "-o", out.path, "--json", "--schedule", "bands", "--op", "canny"],
                                         timeout: 180)
            #expect(run.status == 0 && !run.timedOut, "np \(ranks): \(run.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            let images = report?["images"] as? [[String: Any]] ?? []
            var rounds: [String: Int] = [:]
            for image in images {
                let name = URL(fileURLWithPath: image["input"] as? String ?? "").lastPathComponent
                rounds[name] = (image["hysteresis_rounds"] as? [Int])?.first
            }
            for name in names {
                #expect(try readImage(path: out.appendingPathComponent(name).path)
                        == readImage(path: baseline.appendingPathComponent(name).path), "\(name): \(ranks) ranks differ from one rank")
                let n = try #require(rounds[name], "\(name): no hysteresis_rounds in \(run.stdout)")
                // The serpentine's 50 stripes cross every border, the spiral's turns and the comb's
                // teeth twice each:
                // still one exchange.
                #expect(n == (ranks == 1 ? 0 : 1), "\(name) on \(ranks) ranks: \(n) exchanges")
            }
            table.append("np \(ranks): " + names.map { "\($0) \(rounds[$0] ?? -1)" }.joined(separator: ", "))
        }
        print("hysteresis exchanges\n" + table.joined(separator: "\n"))
    }

    @Test("gaussian then canny, and a filter after canny, in both halo modes, equal one rank", .needsMPIRun)
    func pipelines() throws {
        let root = try Harness.temporaryFolder("canny-pipe")
        defer { Harness.cleanup(root) }
        let input = root.appendingPathComponent("spiral.png").path
        try writeImage(EdgePatterns.spiral(width: 120, height: 90), path: input)
        for ops in [["--op", "gaussian:sigma=1.4", "--op", "canny:low=10,high=30"],
                    ["--op", "canny:low=40,high=120,sigma=1", "--op", "box:size=5", "--op", "canny:low=100,high=200,l2=true"]] {
            for mode in ["wide", "per-stage"] {
                let base = root.appendingPathComponent("base.png").path
                #expect(try Harness.bandsaw([input, "-o", base, "--quiet", "--halo-mode", mode] + ops).status == 0)
                let specs = try ops.filter { $0 != "--op" }.map { try FilterSpec(parsing: $0) }
                #expect(try readImage(path: base) == Pipeline(specs: specs).apply(readImage(path: input)), "\(ops)")
                for ranks in [2, 5] {
                    let out = root.appendingPathComponent("o\(ranks).png").path
                    let run = try Harness.mpirun(ranks, [input, "-o", out, "--quiet", "--halo-mode", mode] + ops)
                    #expect(run.status == 0, "\(run.stderr)")
                    #expect(try readImage(path: out) == readImage(path: base), "\(ops) \(mode) on \(ranks) ranks")
                }
            }
        }
    }

    @Test("ops says canny's halo is non-local")
    func opsListing() throws {
        let json = try Harness.bandsaw(["ops", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(list.filter { $0["non_local"] as? Bool == true }.compactMap { $0["name"] as? String } == ["canny"])
        let text = try Harness.bandsaw(["ops"])
        let line = text.stdout.split(separator: "\n").first { $0.hasPrefix("canny") }
        #expect(line != nil && text.stdout.contains("halo at defaults: 2 rows; non-local"), "\(text.stdout)")
    }
}
