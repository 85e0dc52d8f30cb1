import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// `--io mpiio`: every rank reads its own PGM/PPM rows and writes its own output rows. The
/// results equal rank 0's I/O bit for bit; bad files and ranks that cannot see a file end
/// with one message and no output.
@Suite(.serialized, .needsMPIRun)
struct MPIIOTests {
    static func makeInputs(_ folder: URL) throws -> [String] {
        var names: [String] = []
        for (w, h, c, ext) in [(97, 203, 3, "ppm"), (61, 77, 1, "pgm"), (5, 2, 3, "ppm"), (37, 23, 4, "png")] {
            let name = "gen-\(w)x\(h).\(ext)"
            try writeImage(TestImages.stripes(width: w, height: h, channels: c, seed: UInt64(w)), path: folder.appendingPathComponent(name).path)
            names.append(name)
        }
        // 16-bit samples (maxval 65535), scaled on read by every rank.
        let wide = Harness.fixtures.appendingPathComponent("variants/rgb16.ppm")
        if FileManager.default.fileExists(atPath: wide.path) {
            try FileManager.default.copyItem(at: wide, to: folder.appendingPathComponent("rgb16.ppm"))
            names.append("rgb16.ppm")
        }
        return names
    }

    @Test("reads and writes by every rank equal rank 0's I/O, for PGM, PPM, 16-bit PPM and PNG inputs, PNM and PNG outputs")
    func equalsRootIO() throws {
        let root = try Harness.temporaryFolder("mpiio")
        defer { Harness.cleanup(root) }
        let names = try Self.makeInputs(root)
        for ops in [["--op", "median:size=5", "--op", "sobel"], ["--halo-mode", "per-stage", "--op", "gaussian:sigma=3", "--op", "invert"]] {
            for name in names {
                let input = root.appendingPathComponent(name).path
                for ext in ["ppm", "png"] {
                    let base = root.appendingPathComponent("base.\(ext)").path
                    let single = try Harness.bandsaw([input, "-o", base, "--quiet"] + ops)
                    #expect(single.status == 0, "\(single.stderr)")
                    for ranks in [1, 2, 3, 7] {
                        let out = root.appendingPathComponent("io\(ranks).\(ext)").path
                        let r = try Harness.mpirun(ranks, [input, "-o", out, "--io", "mpiio", "--json"] + ops)
                        #expect(r.status == 0, "\(name) -> \(ext) on \(ranks): \(r.stderr)")
                        #expect(r.stdout.contains(name.hasSuffix(".png") ? "\"decode\":" : "\"decode\":\"mpiio\""), "\(r.stdout)")
                        if ext == "ppm" {
                            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: base)),
                                    "\(name) \(ops) -> \(ext) on \(ranks) ranks")
                        } else {
                            #expect(try readImage(path: out) == readImage(path: base), "\(name) \(ops) -> \(ext) on \(ranks) ranks")
                        }
                    }
                }
            }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test("truncated, over-maxval and bad-header PNM under --io mpiio: the words and code of rank 0's I/O, no output")
    func badFiles() throws {
        let root = try Harness.temporaryFolder("mpiio-bad")
        defer { Harness.cleanup(root) }
        let good = PNMCodec.headerBytes(width: 40, height: 30, channels: 3) + [UInt8](repeating: 90, count: 40 * 30 * 3)
        let files: [String: [UInt8]] = [
            "truncated.ppm": Array(good.prefix(good.count - 100)),
            "header-only.ppm": Array("P6\n40 30\n255\n".utf8),
            "over-maxval.ppm": Array("P6\n2 2\n100\n".utf8) + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 200],
            "bad-header.pgm": Array("P5\n40 x30\n255\n".utf8) + [UInt8](repeating: 0, count: 1200),
            "bomb.pgm": Array("P5\n100000 100000\n255\n".utf8),
        ]
        for (name, bytes) in files.sorted(by: { $0.key < $1.key }) {
            let input = root.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: input))
            let one = try Harness.bandsaw([input, "-o", root.appendingPathComponent("one.ppm").path, "--quiet"])
            let out = root.appendingPathComponent("three.ppm").path
            let three = try Harness.mpirun(3, [input, "-o", out, "--io", "mpiio", "--quiet"], timeout: 60)
            #expect(one.status == 3, "\(name): \(one.stderr)")
            #expect(three.status == 3 && !three.timedOut, "\(name): \(three.status) \(three.stderr)")
            #expect(three.stderr == one.stderr, "\(name): '\(three.stderr)' against '\(one.stderr)'")
            #expect(three.stderr.split(separator: "\n").count == 1 && three.stderr.hasPrefix("error:"), "\(name)")
            #expect(three.stdout.isEmpty && !FileManager.default.fileExists(atPath: out), "\(name)")
        }
    }

    @Test("a rank that cannot see the input or the output folder: one error line, exit 3, no file")
    func unsharedFilesystem() throws {
        let probe = try Harness.run(["unshare", "--mount", "true"], timeout: 20)
        if probe.status != 0 {
            try #require(ProcessInfo.processInfo.environment["CI"] != "true", "unshare --mount failed in CI: \(probe.stderr)")
            print("skipping: no mount namespaces here (\(probe.stderr))")
            return
        }
        let root = try Harness.temporaryFolder("mpiio-unshared")
        defer { Harness.cleanup(root) }
        let inputs = root.appendingPathComponent("in"), outputs = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        let input = inputs.appendingPathComponent("a.ppm").path
        try writeImage(TestImages.stripes(width: 50, height: 40, channels: 3, seed: 9), path: input)
        // Ranks other than 0 see an empty folder where rank 0 sees the files, as on hosts
        // without a shared filesystem: each enters its own mount namespace and covers the
        // folder with an empty tmpfs.
        for hidden in [inputs, outputs] {
            let script = """
            if [ "${OMPI_COMM_WORLD_RANK:-0}" = 0 ]; then exec "$@"; fi
            exec unshare --mount sh -c 'mount -t tmpfs none "$0" && exec "$@"' \(hidden.path) "$@"
            """
            let out = outputs.appendingPathComponent("b.ppm").path
            let run = try Harness.run(MPIRun(ranks: 3).arguments(["sh", "-c", script, "rank", Harness.executable, input,
                                                                  "-o", out, "--io", "mpiio", "--quiet"]),
                                      timeout: 60)
            #expect(run.status == 3 && !run.timedOut, "\(hidden.lastPathComponent): \(run.status) \(run.stderr)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("error:") && lines[0].contains("every rank"), "\(run.stderr)")
            let left = try FileManager.default.contentsOfDirectory(atPath: outputs.path)
            #expect(left.isEmpty, "\(hidden.lastPathComponent) hidden: left \(left)")
        }
    }
}
