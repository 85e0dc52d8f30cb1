import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
import TestSupport
import Testing

/// Folders as datasets, end to end under real mpirun: images dealt or banded give every output
/// of one process, file by file; bad files fail alone; a killed batch resumes; the progress
/// line is drawn on a terminal only; a rank that cannot see the files gets their bytes.
@Suite("Datasets: folders over the ranks", .serialized)
struct DatasetTests {
    /// A folder `in/` of `count` generated images in PNG, JPEG and PNM, of varied sizes.
    static func makeFolder(_ root: URL, count: Int, seed: UInt64, side: Int = 90) throws -> URL {
        let folder = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for i in 0..<count {
            let image = TestImages.stripes(width: side / 2 + (i * 37) % side, height: side / 2 + (i * 23) % side,
                                             channels: i % 3 == 0 ? 1 : 3, seed: seed &+ UInt64(i))
            let ext = ["png", "jpg", "ppm"][i % 3]
            try writeImage(image, path: folder.appendingPathComponent(String(format: "img%03d.%@", i, ext == "ppm" && image.channels == 1 ? "pgm" : ext)).path)
        }
        return folder
    }

    static func contents(_ folder: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            files[name] = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
        }
        return files
    }

    /// `folder`'s files against `reference`'s: the same bytes, or with `pixels` (images banded
    /// across ranks: PNG pieces deflated on several ranks are other bytes) the same decoded pixels.
    static func same(_ folder: URL, as reference: URL, pixels: Bool = false) -> Bool {
        let mine = contents(folder), theirs = contents(reference)
        guard mine.keys.sorted() == theirs.keys.sorted() else { return false }
        return mine.allSatisfy { name, data in
            data == theirs[name] || (pixels && (try? readImage(path: folder.appendingPathComponent(name).path))
                                     == (try? readImage(path: reference.appendingPathComponent(name).path)))
        }
    }

    static func report(_ path: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any] ?? [:]
    }

    @Test("mpirun -np 1..4, every schedule: dealt outputs byte-identical to one process, banded ones pixel-identical; the report says where each ran", .needsMPIRun)
    func identicalToOneProcess() throws {
        let root = try Harness.temporaryFolder("dataset")
        defer { Harness.cleanup(root) }
        let input = try Self.makeFolder(root, count: 11, seed: 3)
        let one = root.appendingPathComponent("one")
        let base = try Harness.bandsaw([input.path, "-o", one.path, "-q"])
        #expect(base.status == 0, "\(base.stderr)")
        let reference = Self.contents(one)
        #expect(reference.count == 11)
        for ranks in 1...4 {
            for schedule in ["auto", "images", "bands"] {
                let out = root.appendingPathComponent("out-\(ranks)-\(schedule)")
                let reportFile = root.appendingPathComponent("r-\(ranks)-\(schedule).json")
                let r = try Harness.mpirun(ranks, [input.path, "-o", out.path, "-q", "--schedule", schedule,
                                                   "--report", reportFile.path])
                let context = "-np \(ranks) --schedule \(schedule)"
                #expect(r.status == 0, "\(context): \(r.stderr)")
                #expect(Self.same(out, as: one, pixels: schedule == "bands"), "\(context): outputs differ from one process")
                #expect(r.stderr.contains("11 of 11 images written"), "\(context): \(r.stderr)")
                let report = try Self.report(reportFile)
                let batch = report["batch"] as? [[String: Any]] ?? []
                #expect(batch.count == 11, "\(context)")
                let load = report["rank_load"] as? [[String: Any]] ?? []
                #expect(load.count == ranks, "\(context)")
                if ranks > 1 && schedule != "bands" {
                    #expect(batch.allSatisfy { $0["schedule"] as? String == "dealt" && $0["input_access"] as? String == "read"
                        && $0["output_access"] as? String == "wrote" }, "\(context)")
                    #expect(load.allSatisfy { ($0["images"] as? Int ?? 0) > 0 }, "\(context): \(load)")
                } else {
                    #expect(batch.allSatisfy { $0["schedule"] as? String == "banded" }, "\(context)")
                }
            }
        }
    }

    @Test("good and bad files mixed: one error line per bad file, the rest written, exit 3, a closing summary", .needsMPIRun)
    func mixedGoodAndBad() throws {
        let root = try Harness.temporaryFolder("dataset-bad")
        defer { Harness.cleanup(root) }
        let input = try Self.makeFolder(root, count: 7, seed: 9)
        try Data("definitely not a PNG".utf8).write(to: input.appendingPathComponent("broken.png"))
        try Data().write(to: input.appendingPathComponent("empty.jpg"))
        let truncated = try Data(contentsOf: input.appendingPathComponent("img001.jpg")).prefix(200)
        try truncated.write(to: input.appendingPathComponent("truncated.jpg"))
        let one = root.appendingPathComponent("one")
        let base = try Harness.bandsaw([input.path, "-o", one.path, "-q"])
        #expect(base.status == 3)
        for ranks in [1, 2, 3] {
            for schedule in ["images", "bands"] {
                let out = root.appendingPathComponent("out-\(ranks)-\(schedule)")
                let r = try Harness.mpirun(ranks, [input.path, "-o", out.path, "-q", "--schedule", schedule])
                let context = "-np \(ranks) \(schedule)"
                #expect(r.status == 3, "\(context): exit \(r.status) \(r.stderr)")
                let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
                #expect(errors.count == 3, "\(context): \(r.stderr)")
                for name in ["broken.png", "empty.jpg", "truncated.jpg"] {
                    #expect(errors.filter { $0.contains(name) }.count == 1, "\(context): \(name) in \(errors)")
                }
                #expect(Set(errors) == Set(base.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }),
                        "\(context): lines differ from one process")
                let summary = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
                #expect(summary.contains("7 of 10 images written") && summary.contains("3 failed:")
                        && summary.contains("broken.png"), "\(context): \(summary)")
                #expect(Self.same(out, as: one, pixels: schedule == "bands"), "\(context): outputs differ")
                #expect(!(try FileManager.default.contentsOfDirectory(atPath: out.path)).contains { $0.contains(".tmp-") })
            }
        }
    }

    @Test("an output that cannot be renamed into place fails that image alone (its sync and rename run on the committer thread): one line, the rest written, no temporary file", .needsMPIRun)
    func renameRefused() throws {
        let root = try Harness.temporaryFolder("dataset-rename")
        defer { Harness.cleanup(root) }
        let input = try Self.makeFolder(root, count: 9, seed: 12)
        let one = root.appendingPathComponent("one")
        #expect(try Harness.bandsaw([input.path, "-o", one.path, "-q"]).status == 0)
        for ranks in [1, 2, 3] {
            for schedule in ["images", "auto", "bands"] {
                let context = "-np \(ranks) \(schedule)"
                let out = root.appendingPathComponent("out-\(ranks)-\(schedule)")
                // A folder where img005's output should go: rename(2) cannot put a file there.
                let blocked = out.appendingPathComponent("img005.ppm")
                try FileManager.default.createDirectory(at: blocked.appendingPathComponent("inside"),
                                                        withIntermediateDirectories: true)
                let report = root.appendingPathComponent("report-\(ranks)-\(schedule).json")
                let r = try Harness.mpirun(ranks, [input.path, "-o", out.path, "-q", "--schedule", schedule,
                                                   "--report", report.path])
                #expect(r.status == 3, "\(context): exit \(r.status) \(r.stderr)")
                let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
                #expect(errors == ["error: \(blocked.path): cannot write: is a directory"], "\(context): \(r.stderr)")
                let summary = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
                #expect(summary.contains("8 of 9 images written") && summary.contains("img005.ppm"), "\(context): \(summary)")
                try FileManager.default.removeItem(at: blocked)
                var expected = Self.contents(one)
                expected["img005.ppm"] = nil
                let written = Self.contents(out)
                #expect(written.keys.sorted() == expected.keys.sorted(), "\(context): \(written.keys.sorted())")
                if schedule != "bands" || ranks == 1 {
                    #expect(written == expected, "\(context): outputs differ from one process")
                }
                let entries = try Self.report(report)["batch"] as? [[String: Any]] ?? []
                #expect(entries.count == 9, "\(context)")
                #expect(entries.filter { ($0["status"] as? String) == "failed" }.map { $0["output"] as? String }
                        == [blocked.path], "\(context): \(entries)")
            }
        }
    }

    @Test("a batch killed part-way keeps every finished output; --skip-existing completes it byte-identically", .needsMPIRun)
    func killAndResume() throws {
        let root = try Harness.temporaryFolder("dataset-resume")
        defer { Harness.cleanup(root) }
        let input = try Self.makeFolder(root, count: 40, seed: 21, side: 400)
        // Work enough per image that the batch is still running when mpirun's SIGTERM reaches
        // the ranks (about a second after it is sent): with sobel alone the 40 images of this
        // debug build were all renamed by then.
        let ops = ["--op", "median:size=7", "--op", "sobel"]
        let one = root.appendingPathComponent("one")
        #expect(try Harness.bandsaw([input.path, "-o", one.path, "-q"] + ops).status == 0)
        let out = root.appendingPathComponent("out")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", FaultInjectionTests.unblockAndExec, "mpirun", "-q", "--oversubscribe",
                             "--bind-to", "none", "-np", "3", Harness.executable, input.path, "-o", out.path, "-q"] + ops
        process.environment = Harness.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func written() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { !$0.hasPrefix(".") }.count
        }
        let start = Date()
        while written() < 6 && process.isRunning && Date().timeIntervalSince(start) < 60 { usleep(20_000) }
        kill(process.processIdentifier, SIGTERM)
        let sent = Date()
        while process.isRunning && Date().timeIntervalSince(sent) < 15 { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let partial = Self.contents(out)
        let reference = Self.contents(one)
        #expect(partial.count >= 6 && partial.count < 40, "killed with \(partial.count) outputs")
        #expect(!partial.keys.contains { $0.hasPrefix(".") }, "left \(partial.keys.filter { $0.hasPrefix(".") })")
        for (name, data) in partial { #expect(reference[name] == data, "\(name) is not complete") }
        // What a rank killed outright (SIGKILL, a lost node) would leave: the rerun clears it,
        // and leaves alone a hidden file that is not one of its temporaries.
        let stale = out.appendingPathComponent(".img008.ppm.tmp-99999")
        let unrelated = out.appendingPathComponent(".img008.ppm.tmp-notes")
        try Data([1, 2, 3]).write(to: stale)
        try Data([4]).write(to: unrelated)
        let resumed = try Harness.mpirun(3, [input.path, "-o", out.path, "-q", "--skip-existing"] + ops)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("skipped"), "\(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale.path), "a killed rank's temporary file survived the rerun")
        try FileManager.default.removeItem(at: unrelated)
        #expect(Self.contents(out) == reference, "the resumed batch differs from one uninterrupted process")
        let alive = try Harness.run(["pgrep", "-f", input.path], timeout: 10)
        #expect(alive.stdout.isEmpty, "ranks still running: \(alive.stdout)")
    }

    @Test("--skip-existing with fewer images left than ranks: each runs as in the uninterrupted batch (dealt, one-process bytes), not banded", .needsMPIRun)
    func resumeWithFewLeft() throws {
        let root = try Harness.temporaryFolder("dataset-few-left")
        defer { Harness.cleanup(root) }
        let input = try Self.makeFolder(root, count: 9, seed: 31, side: 160)
        let one = root.appendingPathComponent("one")
        #expect(try Harness.bandsaw([input.path, "-o", one.path, "-q"]).status == 0)
        let reference = Self.contents(one)
        for left in [["img000.png"], ["img003.png", "img006.png"]] {
            let out = root.appendingPathComponent("out-\(left.count)")
            try FileManager.default.copyItem(at: one, to: out)
            for name in left { try FileManager.default.removeItem(at: out.appendingPathComponent(name)) }
            let report = root.appendingPathComponent("report-\(left.count).json")
            let r = try Harness.mpirun(3, [input.path, "-o", out.path, "-q", "--skip-existing", "--report", report.path])
            #expect(r.status == 0, "\(r.stderr)")
            // PNG pieces deflated on several ranks would be other bytes than one process's.
            #expect(Self.contents(out) == reference, "\(left): the resumed folder differs from one uninterrupted process")
            let entries = try Self.report(report)["batch"] as? [[String: Any]] ?? []
            #expect(entries.count == left.count && entries.allSatisfy { $0["schedule"] as? String == "dealt" }, "\(entries)")
        }
    }

    @Test("the progress line is drawn on a terminal, and not on a pipe or with --quiet", .needsMPIRun)
    func progressLine() throws {
        let root = try Harness.temporaryFolder("dataset-progress")
        defer { Harness.cleanup(root) }
        let input = try Self.makeFolder(root, count: 6, seed: 5)
        let command = ["mpirun", "-q", "--oversubscribe", "-np", "2", Harness.executable, input.path]
        func onTerminal(_ extra: [String], _ out: String) throws -> Harness.Outcome {
            // script(1) gives the command a pseudo-terminal for stdin, stdout and stderr.
            let line = (command + ["-o", root.appendingPathComponent(out).path] + extra).map { "'\($0)'" }.joined(separator: " ")
            return try Harness.run(["script", "-qec", line, "/dev/null"], environment: Harness.environment)
        }
        let drawn = try onTerminal(["--json"], "tty")
        #expect(drawn.status == 0, "\(drawn.stderr)")
        #expect(drawn.stdout.contains("6/6 images") && drawn.stdout.contains("img/s") && drawn.stdout.contains("ETA"),
                "\(drawn.stdout)")
        #expect(drawn.stdout.contains("\r\u{1B}[K"), "the line is not redrawn in place")
        let quiet = try onTerminal(["--quiet"], "tty-quiet")
        #expect(quiet.status == 0 && !quiet.stdout.contains("img/s"), "\(quiet.stdout)")
        let piped = try Harness.mpirun(2, [input.path, "-o", root.appendingPathComponent("pipe").path, "--json"])
        #expect(piped.status == 0 && !piped.stderr.contains("img/s") && !piped.stdout.contains("img/s"), "\(piped.stderr)")
    }

    @Test("a rank that cannot see the files (its own mount namespace): rank 0 sends the stored bytes and writes the encoded output", .needsMPIRun)
    func noSharedFilesystem() throws {
        let root = try Harness.temporaryFolder("dataset-noshare")
        defer { Harness.cleanup(root) }
        let input = try Self.makeFolder(root, count: 9, seed: 13)
        let one = root.appendingPathComponent("one")
        #expect(try Harness.bandsaw([input.path, "-o", one.path, "-q"]).status == 0)
        let out = root.appendingPathComponent("out")
        let reportFile = root.appendingPathComponent("r.json")
        let args = [input.path, "-o", out.path, "-q", "--schedule", "images", "--report", reportFile.path]
        // Rank 1 runs in a mount namespace where the test's folder is an empty tmpfs: the same
        // paths, other (no) files, as on a host without the shared filesystem.
        let hidden = "mount -t tmpfs tmpfs '\(root.path)' && exec '\(Harness.executable)' " + args.map { "'\($0)'" }.joined(separator: " ")
        let r = try Harness.run(["mpirun", "-q", "--oversubscribe", "--bind-to", "none", "-np", "1", Harness.executable] + args
                                + [":", "-np", "1", "unshare", "-m", "sh", "-c", hidden], environment: Harness.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.contents(out) == Self.contents(one), "outputs differ from one process")
        let batch = try Self.report(reportFile)["batch"] as? [[String: Any]] ?? []
        let remote = batch.filter { $0["rank"] as? Int == 1 }
        #expect(!remote.isEmpty, "rank 1 processed nothing")
        #expect(remote.allSatisfy { $0["input_access"] as? String == "sent" && $0["output_access"] as? String == "sent" },
                "\(remote)")
        #expect(batch.filter { $0["rank"] as? Int == 0 }.allSatisfy { $0["input_access"] as? String == "read" })
    }
}

/// A folder across three namespace hosts over TCP, the workers without the shared filesystem
/// (each in a mount namespace where the test's folder is an empty tmpfs): rank 0 sends every
/// worker its files' stored bytes and writes the encoded outputs they send back.
@Suite("Datasets across namespace hosts", .serialized,
       .enabled(if: NamespaceCluster.available, "needs root and iproute2 to create network namespaces"))
struct DatasetHostTests {
    @Test("three hosts, no shared filesystem: bytes sent, never pixels; every output equals one process", .needsMPIRun)
    func bytesAcrossHosts() throws {
        let cluster = try NamespaceCluster(hosts: 3)
        defer { cluster.tearDown() }
        // The data lives in a folder of its own: the cluster folder also holds every host's Open
        // MPI session folder, which the workers must keep seeing (PMIx attaches to it in MPI_Init).
        let data = cluster.folder.appendingPathComponent("data")
        let input = try DatasetTests.makeFolder(data, count: 12, seed: 17)
        let one = data.appendingPathComponent("one")
        #expect(try Harness.bandsaw([input.path, "-o", one.path, "-q"]).status == 0)
        let out = data.appendingPathComponent("out")
        let reportFile = data.appendingPathComponent("r.json")
        let args = [input.path, "-o", out.path, "-q", "--schedule", "images", "--report", reportFile.path]
        let hidden = "mount -t tmpfs tmpfs '\(data.path)' && exec '\(Harness.executable)' "
            + args.map { "'\($0)'" }.joined(separator: " ")
        let run = try Harness.run(cluster.mpirunArguments(ranks: 1) + args + [":", "-np", "2", "unshare", "-m", "sh", "-c", hidden],
                                  timeout: 180, environment: cluster.environment)
        #expect(!run.timedOut, "the batch hung")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(DatasetTests.same(out, as: one), "outputs differ from one process")
        let report = try DatasetTests.report(reportFile)
        let batch = report["batch"] as? [[String: Any]] ?? []
        #expect(batch.count == 12)
        for rank in [1, 2] {
            let theirs = batch.filter { $0["rank"] as? Int == rank }
            #expect(!theirs.isEmpty, "rank \(rank) processed nothing")
            #expect(theirs.allSatisfy { $0["input_access"] as? String == "sent" && $0["output_access"] as? String == "sent" },
                    "rank \(rank): \(theirs)")
        }
        #expect((report["ranks"] as? Int) == 3)
    }
}
