import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// `run.sh`, the client, run for real: it launches real mpirun jobs with the built executable
/// (`BANDSAW_BIN`, so the tests need no second, release build).
@Suite(.serialized)
struct RunScriptTests {
    static let script = Harness.packageRoot.appendingPathComponent("run.sh").path

    /// Runs `run.sh` headless (no DISPLAY), with the test build of bandsaw.
    static func runScript(_ args: [String], environment extra: [String: String] = [:]) throws -> Harness.Outcome {
        var env = Harness.environment
        env["BANDSAW_BIN"] = Harness.executable
        env.removeValue(forKey: "DISPLAY")
        env.removeValue(forKey: "WAYLAND_DISPLAY")
        env["COLUMNS"] = "60"
        env["LINES"] = "30"
        for (k, v) in extra { env[k] = v }
        return try Harness.run([script] + args, timeout: 120, environment: env)
    }

    static func photo(in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent("photo.png")
        let source = Harness.fixtures.appendingPathComponent("photos/coffee-256.png")
        if FileManager.default.fileExists(atPath: source.path) {
            try FileManager.default.copyItem(at: source, to: url)
        } else {
            try writeImage(TestImages.stripes(width: 96, height: 80, channels: 3, seed: 9), path: url.path)
        }
        return url
    }

    @Test("local runs with 1 and 3 ranks equal the one-rank output", .needsMPIRun)
    func localRunsMatchBaseline() throws {
        let folder = try Harness.temporaryFolder("runsh")
        defer { Harness.cleanup(folder) }
        let input = try Self.photo(in: folder)
        let expected = folder.appendingPathComponent("expected.png")
        let alone = try Harness.bandsaw([input.path, "-o", expected.path, "--op", "gaussian:sigma=2", "--op", "sobel"])
        #expect(alone.status == 0, "\(alone.stderr)")
        for ranks in [1, 3] {
            let out = folder.appendingPathComponent("out\(ranks).png")
            let run = try Self.runScript([input.path, "-n", String(ranks), "-o", out.path, "--op", "gaussian:sigma=2",
                                          "--op", "sobel", "--no-show"])
            #expect(run.status == 0, "run.sh -n \(ranks): \(run.stderr)")
            #expect(run.stdout.contains("compute"), "no timing table: \(run.stdout)")
            #expect(run.stdout.contains("output: \(out.path)"))
            #expect(try readImage(path: out.path) == readImage(path: expected.path), "run.sh -n \(ranks) differs from one rank")
        }
    }

    @Test("the default output name comes from the input and the pipeline", .needsMPIRun)
    func defaultOutputName() throws {
        let folder = try Harness.temporaryFolder("runsh-name")
        defer { Harness.cleanup(folder) }
        let input = try Self.photo(in: folder)
        let run = try Self.runScript([input.path, "-n", "2", "--op", "median:size=3", "--no-show"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = folder.appendingPathComponent("photo.median-size=3.png").path
        #expect(FileManager.default.fileExists(atPath: expected), "\(run.stdout)")
    }

    @Test("--baseline prints the speedup and efficiency", .needsMPIRun)
    func baselineSpeedup() throws {
        let folder = try Harness.temporaryFolder("runsh-base")
        defer { Harness.cleanup(folder) }
        let input = try Self.photo(in: folder)
        let run = try Self.runScript([input.path, "-n", "2", "--baseline", "--no-show", "-o", folder.appendingPathComponent("o.png").path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.range(of: #"speedup: [0-9]+\.[0-9]+x"#, options: .regularExpression) != nil, "\(run.stdout)")
        #expect(run.stdout.contains("efficiency:"))
        #expect(run.stdout.contains("on 1 rank") && run.stdout.contains("on 2 ranks"), "both tables: \(run.stdout)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "baseline output left behind: \(leftovers)")
    }

    @Test("headless --show prints a true-colour preview and the path", .needsMPIRun)
    func headlessPreview() throws {
        let folder = try Harness.temporaryFolder("runsh-show")
        defer { Harness.cleanup(folder) }
        let input = try Self.photo(in: folder)
        let out = folder.appendingPathComponent("shown.png")
        let run = try Self.runScript([input.path, "-n", "2", "-o", out.path, "--show"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\u{1B}[38;2;"), "no true-colour escape codes in: \(run.stdout.prefix(300))")
        #expect(run.stdout.contains("▀"))
        let previewLines = run.stdout.split(separator: "\n").filter { $0.contains("▀") }
        #expect(!previewLines.isEmpty && previewLines.count <= 28, "preview not sized to the terminal: \(previewLines.count) lines")
        #expect(run.stdout.contains("output: \(out.path)"))
    }

    @Test("a folder is processed in one launch", .needsMPIRun)
    func folderInput() throws {
        let folder = try Harness.temporaryFolder("runsh-folder")
        defer { Harness.cleanup(folder) }
        let inputs = folder.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        for i in 0..<3 {
            try writeImage(TestImages.stripes(width: 30 + i, height: 20 + i, channels: 3, seed: UInt64(i)),
                           path: inputs.appendingPathComponent("img\(i).png").path)
        }
        let out = folder.appendingPathComponent("out")
        let run = try Self.runScript([inputs.path, "-n", "2", "-o", out.path, "--no-show"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["img0.png", "img1.png", "img2.png"])
    }

    @Test("errors a user meets get one clear line and a non-zero exit", .needsMPIRun)
    func userErrors() throws {
        let folder = try Harness.temporaryFolder("runsh-err")
        defer { Harness.cleanup(folder) }
        let input = try Self.photo(in: folder)

        let missing = try Self.runScript([folder.appendingPathComponent("nope.png").path])
        #expect(missing.status != 0)
        #expect(missing.stderr.hasPrefix("error: ") && missing.stderr.contains("no such file"), "\(missing.stderr)")

        let noMPI = try Self.runScript([input.path, "--no-show"], environment: ["MPIRUN": "/nonexistent/mpirun"])
        #expect(noMPI.status != 0)
        #expect(noMPI.stderr.contains("mpirun not found") && noMPI.stderr.contains("openmpi-bin"), "\(noMPI.stderr)")

        let badRanks = try Self.runScript([input.path, "-n", "zero"])
        #expect(badRanks.status == 2, "\(badRanks.stderr)")

        let badOption = try Self.runScript([input.path, "--frobnicate"])
        #expect(badOption.status == 2 && badOption.stderr.hasPrefix("error: "), "\(badOption.stderr)")

        let notImage = folder.appendingPathComponent("notes.png")
        try Data("hello".utf8).write(to: notImage)
        let failed = try Self.runScript([notImage.path, "-n", "2", "--no-show"])
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.split(separator: "\n").count == 1 && failed.stderr.hasPrefix("error: "), "\(failed.stderr)")

        let badFilter = try Self.runScript([input.path, "-n", "2", "--op", "blur", "--no-show"])
        #expect(badFilter.status == 2, "\(badFilter.stderr)")
        #expect(badFilter.stderr.hasPrefix("error: unknown filter"), "\(badFilter.stderr)")
    }

    @Test("--help documents every option")
    func help() throws {
        let run = try Self.runScript(["--help"])
        #expect(run.status == 0)
        for option in ["--ranks", "--output", "--op", "--hostfile", "--compose", "--baseline", "--show", "--no-show", "--json"] {
            #expect(run.stdout.contains(option), "--help lacks \(option)")
        }
    }
}
