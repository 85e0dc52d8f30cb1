import Foundation
import ImageCore
import ImageCodecs
import ImageFilters
import TestSupport
import Testing

/// The distributed output equals the single-rank output, bit for bit, for every filter and
/// for pipelines, under real `mpirun` with 1, 2, 3, 4 and 7 ranks (oversubscribed on 2 cores).
@Suite(.serialized, .needsMPIRun)
struct SPMDEquivalenceTests {
    /// Real photos (if the fixtures are present) plus generated odd shapes: RGBA, gray+alpha,
    /// 1x1, one row, one column, and a size that leaves remainder rows for every rank count.
    static func makeInputs(in folder: URL) throws {
        let shapes: [(Int, Int, Int)] = [(37, 23, 4), (1, 1, 3), (61, 1, 1), (1, 17, 2), (129, 97, 3), (5, 6, 1)]
        for (i, (w, h, c)) in shapes.enumerated() {
            let image = TestImages.stripes(width: w, height: h, channels: c, seed: UInt64(i + 1))
            try writeImage(image, path: folder.appendingPathComponent("gen-\(w)x\(h)x\(c).png").path)
        }
        // Inputs that are normalised on load: 16-bit RGB, 16-bit gray, palette with
        // transparency (becomes RGBA), interlaced RGB, and a 16-bit PPM, copied as they are.
        for name in ["rgb16.png", "gray16.png", "palette8-trns.png", "rgb8-adam7.png", "rgb16.ppm"] {
            let source = Harness.fixtures.appendingPathComponent("variants/\(name)")
            if FileManager.default.fileExists(atPath: source.path) {
                try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent("variant-\(name)"))
            }
        }
        // One real photo, and the same photo as PPM, so both codecs take part.
        let photo = Harness.fixtures.appendingPathComponent("photos/astronaut-256.png")
        if FileManager.default.fileExists(atPath: photo.path) {
            let image = try readImage(path: photo.path)
            try writeImage(image, path: folder.appendingPathComponent("astronaut.png").path)
            try writeImage(image, path: folder.appendingPathComponent("astronaut.ppm").path)
        }
    }

    /// Every registered filter at its defaults, plus multi-stage pipelines in both halo modes.
    static let pipelines: [[String]] =
        Filters.all.map { [$0.name] } + [
            ["gaussian:sigma=2", "sobel"],
            ["median:size=5", "sharpen:amount=2,sigma=1.5", "threshold:value=100"],
            ["box:size=7", "emboss", "invert"],
            ["--halo-mode", "per-stage", "gaussian:sigma=3", "laplacian", "box:size=3"],
            ["gaussian:sigma=1.4", "canny:low=20,high=60", "invert"],
            ["--halo-mode", "per-stage", "canny:low=10,high=30,l2=true", "box:size=3"],
        ]

    /// Turns a pipeline entry into command-line arguments.
    static func arguments(_ entry: [String]) -> [String] {
        var args: [String] = []
        var i = 0
        while i < entry.count {
            if entry[i].hasPrefix("--") { args += [entry[i], entry[i + 1]]; i += 2 } else { args += ["--op", entry[i]]; i += 1 }
        }
        return args
    }

    @Test("mpirun -np N output equals one rank", arguments: pipelines)
    func distributedEqualsSingleRank(_ pipeline: [String]) throws {
        let root = try Harness.temporaryFolder("equiv")
        defer { Harness.cleanup(root) }
        let inputs = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        try Self.makeInputs(in: inputs)
        let args = Self.arguments(pipeline)

        let baseline = root.appendingPathComponent("base")
        let single = try Harness.bandsaw([inputs.path, "-o", baseline.path, "--quiet"] + args)
        #expect(single.status == 0, "single rank failed: \(single.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: inputs.path).sorted()

        // The executable's single-rank output is the library's whole-image result.
        let specs = try args.enumerated().filter { $0.offset > 0 && args[$0.offset - 1] == "--op" }
            .map { try FilterSpec(parsing: $0.element) }
        for name in names {
            let expected = Pipeline(specs: specs).apply(try readImage(path: inputs.appendingPathComponent(name).path))
            let got = try readImage(path: baseline.appendingPathComponent(name).path)
            if name.hasSuffix(".ppm") {
                // PPM keeps no alpha and PGM/PPM are chosen by channel count; compare shape only.
                #expect(got.width == expected.width && got.height == expected.height, "\(name)")
            } else {
                #expect(got == expected, "\(name): bandsaw's one-rank output differs from Pipeline.apply")
            }
        }

        for ranks in [1, 2, 3, 4, 7] {
            let out = root.appendingPathComponent("np\(ranks)")
            let run = try Harness.mpirun(ranks, [inputs.path, "-o", out.path, "--quiet"] + args, timeout: 180)
            #expect(!run.timedOut, "mpirun -np \(ranks) hung")
            #expect(run.status == 0, "mpirun -np \(ranks) failed (\(run.status)): \(run.stderr)")
            for name in names {
                let a = try readImage(path: baseline.appendingPathComponent(name).path)
                let b = try readImage(path: out.appendingPathComponent(name).path)
                #expect(a == b, "\(pipeline) on \(name): \(ranks) ranks differ from one rank")
            }
        }
    }

    @Test("banded PNG encoding decodes to the serial encoder's pixels")
    func parallelEncodingMatchesSerial() throws {
        let root = try Harness.temporaryFolder("encode")
        defer { Harness.cleanup(root) }
        let inputs = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        try Self.makeInputs(in: inputs)
        let names = try FileManager.default.contentsOfDirectory(atPath: inputs.path).filter { $0.hasSuffix(".png") }
        for ops in [["--op", "invert"], ["--op", "sobel"]] {
            let serial = root.appendingPathComponent("serial")
            let base = try Harness.mpirun(2, [inputs.path, "-o", serial.path, "--quiet", "--encode", "serial"] + ops)
            #expect(base.status == 0, "\(base.stderr)")
            for ranks in [1, 3, 7] {
                let out = root.appendingPathComponent("parallel\(ranks)")
                let run = try Harness.mpirun(ranks, [inputs.path, "-o", out.path, "--quiet", "--encode", "parallel"] + ops)
                #expect(run.status == 0, "\(run.stderr)")
                for name in names {
                    #expect(try readImage(path: out.appendingPathComponent(name).path)
                            == readImage(path: serial.appendingPathComponent(name).path), "\(name) \(ops) on \(ranks) ranks")
                }
            }
        }
    }

    @Test("timing table and JSON name every phase")
    func timingReport() throws {
        let root = try Harness.temporaryFolder("timing")
        defer { Harness.cleanup(root) }
        let input = root.appendingPathComponent("in.png").path
        try writeImage(TestImages.stripes(width: 64, height: 48, channels: 3, seed: 7), path: input)
        let table = try Harness.mpirun(2, [input, "-o", root.appendingPathComponent("o.png").path])
        #expect(table.status == 0, "\(table.stderr)")
        for phase in ["read", "broadcast", "scatter", "decode", "halo", "compute", "encode", "gather", "write", "total"] {
            #expect(table.stdout.contains(phase), "table lacks \(phase): \(table.stdout)")
        }
        #expect(table.stdout.contains("2 ranks"))
        let json = try Harness.mpirun(3, [input, "-o", root.appendingPathComponent("j.png").path, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["ranks"] as? Int == 3)
        let images = object?["images"] as? [[String: Any]]
        let phases = images?.first?["phases"] as? [String: Any]
        #expect(phases?["compute"] != nil && phases?["total_ms"] != nil, "\(json.stdout)")
    }
}
