import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// A real Slurm on this machine for one test: munged, slurmctld and slurmd started by
/// `scripts/slurm-cluster.sh` with everything (config, a fresh munge key, state, logs) in a
/// temporary folder, and stopped by `tearDown` (also on failure: callers `defer` it). With
/// `hosts` above 1, each node is a namespace host of its own (network, hostname, /tmp).
final class SlurmCluster: @unchecked Sendable {
    let folder: URL
    let port: Int
    /// The namespace hosts' name prefix, or nil for a single-host cluster.
    let netnsPrefix: String?
    /// The namespace hosts' subnet (10.98.0.0/24, apart from the multi-host tests' 10.97.0).
    static let subnet = "10.98.0"
    static let script = Harness.packageRoot.appendingPathComponent("scripts/slurm-cluster.sh").path

    /// In CI the Slurm tests must run and fail when Slurm cannot start, never skip quietly.
    static let required: Bool = {
        let ci = ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? ""
        return !ci.isEmpty && ci != "false" && ci != "0"
    }()

    /// Root and the Slurm and munge daemons installed (apt-get install slurm-wlm munge).
    static let installed: Bool = getuid() == 0
        && ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd"].allSatisfy(FileManager.default.isExecutableFile)

    static let shouldRun = required || installed

    /// Ports unique to this test process and cluster, so a leftover daemon of an earlier run
    /// cannot answer in place of this one; below 32768, where Linux picks ephemeral ports.
    nonisolated(unsafe) private static var started = 0

    init(hosts: Int = 1) throws {
        Self.started += 1
        port = 20_000 + (Int(getpid()) % 600) * 20 + (Self.started % 10) * 2
        let clusterPath: String
        let up: Harness.Outcome
        if hosts > 1 {
            // Outside /tmp: every namespace host mounts a /tmp of its own over it.
            folder = URL(fileURLWithPath: "/var/tmp/bandsaw-slurm-netns-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let prefix = "bsl\(getpid() % 100_000)"
            netnsPrefix = prefix
            clusterPath = folder.appendingPathComponent("cluster").path
            let hostsUp = try Harness.run([NamespaceCluster.scripts.appendingPathComponent("netns-cluster.sh").path, "up", prefix,
                                           String(hosts), Self.subnet], timeout: 60)
            guard hostsUp.status == 0 else {
                tearDown()
                throw ClusterError(message: "could not create namespace hosts: \(hostsUp.stderr)")
            }
            up = try Harness.run([Self.script, "up-netns", clusterPath, prefix, String(hosts), Self.subnet, String(port), "2"], timeout: 90)
        } else {
            folder = try Harness.temporaryFolder("slurm")
            netnsPrefix = nil
            clusterPath = folder.appendingPathComponent("cluster").path
            up = try Harness.run([Self.script, "up", clusterPath, String(port), "4"], timeout: 90)
        }
        guard up.status == 0 else {
            tearDown()
            throw ClusterError(message: "Slurm did not start (slurm-cluster.sh up exit \(up.status)):\n\(up.stderr)")
        }
    }

    struct ClusterError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// Cancels every job, stops the daemons, removes the namespace hosts and the folder; safe
    /// to call twice.
    func tearDown() {
        _ = try? Harness.run([Self.script, "down", folder.appendingPathComponent("cluster").path], timeout: 60)
        if let prefix = netnsPrefix {
            _ = try? Harness.run([NamespaceCluster.scripts.appendingPathComponent("netns-cluster.sh").path, "down", prefix], timeout: 60)
        }
        Harness.cleanup(folder)
    }

    deinit { tearDown() }

    /// The test environment pointed at this cluster, with no Slurm job of the caller's leaking
    /// in (a test run inside an allocation would otherwise start steps of that job).
    var environment: [String: String] {
        var env = Harness.environment.filter { !$0.key.hasPrefix("SLURM_") && !$0.key.hasPrefix("SBATCH_") }
        env["SLURM_CONF"] = folder.appendingPathComponent("cluster/slurm.conf").path
        env.removeValue(forKey: "DISPLAY")
        env.removeValue(forKey: "WAYLAND_DISPLAY")
        return env
    }

    /// Runs a Slurm client (srun, sbatch, squeue, ...) or anything else against this cluster,
    /// on the controller's host where the nodes are namespace hosts.
    func run(_ arguments: [String], timeout: Double = 120, environment extra: [String: String] = [:]) throws -> Harness.Outcome {
        let command = netnsPrefix == nil ? arguments : [Self.script, "client", folder.appendingPathComponent("cluster").path] + arguments
        return try Harness.run(command, timeout: timeout, environment: environment.merging(extra) { $1 })
    }

    /// `srun -n RANKS bandsaw ARGS` (PMIx through the cluster's MpiDefault).
    func srun(_ ranks: Int, _ args: [String], options: [String] = []) throws -> Harness.Outcome {
        try run(["srun", "-n", String(ranks)] + options + [Harness.executable] + args)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// PIDs of bandsaw processes started for Slurm job `job` (their environment names it).
    func bandsawPIDs(job: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("bandsaw") == true,
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environ.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "SLURM_JOB_ID=\(job)" }
        }
    }

    /// Waits up to `seconds` for job `job` to leave the queue (or to show as cancelled) and for
    /// all of its bandsaw processes to end; returns what is left of it.
    func waitUntilGone(job: String, seconds: Double = 30) throws -> (state: String, ranks: [Int32]) {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let state = try run(["squeue", "-h", "-j", job, "-o", "%T"], timeout: 20).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let ranks = bandsawPIDs(job: job)
            if (state.isEmpty || state == "CANCELLED") && ranks.isEmpty || Date() > deadline { return (state, ranks) }
            usleep(200_000)
        }
    }

    /// The lines of `text` that start with `error:` (bandsaw's one-line messages).
    static func errorLines(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.hasPrefix("error:") }
    }
}

@Suite("Slurm", .serialized,
       .enabled(if: SlurmCluster.shouldRun, "needs root and slurm-wlm + munge (apt-get install slurm-wlm munge); Slurm tests skipped"))
struct SlurmTests {
    static let sbatchScript = Harness.packageRoot.appendingPathComponent("slurm/bandsaw.sbatch").path
    static let pipeline = ["--op", "gaussian:sigma=2", "--op", "median:size=5", "--op", "sobel"]

    /// A generated input with remainder rows for every rank count, and its one-rank output.
    static func inputAndExpected(in cluster: SlurmCluster) throws -> (input: String, expected: Image) {
        let input = cluster.path("in.png")
        try writeImage(TestImages.stripes(width: 203, height: 151, channels: 3, seed: 13), path: input)
        let single = cluster.path("single.png")
        let one = try Harness.bandsaw([input, "-o", single, "--quiet"] + pipeline)
        try #require(one.status == 0, "one-rank run failed: \(one.stderr)")
        return (input, try readImage(path: single))
    }

    @Test("srun -n 1...4 output equals one rank")
    func srunEqualsOneRank() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        let (input, expected) = try Self.inputAndExpected(in: cluster)
        for ranks in 1...4 {
            let out = cluster.path("srun-\(ranks).png")
            let run = try cluster.srun(ranks, [input, "-o", out] + Self.pipeline)
            #expect(!run.timedOut, "srun -n \(ranks) hung")
            #expect(run.status == 0, "srun -n \(ranks) failed (\(run.status)): \(run.stderr)")
            #expect(run.stdout.contains("on \(ranks) rank"), "srun -n \(ranks) did not run \(ranks) ranks: \(run.stdout)")
            #expect(try readImage(path: out) == expected, "srun -n \(ranks) differs from one rank")
        }
    }

    @Test("sbatch of slurm/bandsaw.sbatch completes, its output equals one rank, the timing JSON lies beside it")
    func sbatchOfShippedScript() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        let (input, expected) = try Self.inputAndExpected(in: cluster)
        let output = cluster.path("batch.png"), log = cluster.path("job.out")
        let run = try cluster.run(["sbatch", "--wait", "--ntasks", "3", "--chdir", cluster.folder.path, "--output", log, Self.sbatchScript],
                                  environment: ["INPUT": input, "OUTPUT": output, "BANDSAW": Harness.executable,
                                                "OPS": "gaussian:sigma=2 median:size=5 sobel"])
        let jobLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(no job log)"
        #expect(!run.timedOut, "sbatch --wait hung")
        #expect(run.status == 0, "the batch job failed (\(run.status)): \(run.stderr)\n\(jobLog)")
        #expect(jobLog.contains("on 3 ranks") && jobLog.contains("total"), "no timing table in the job log: \(jobLog)")
        #expect(try readImage(path: output) == expected, "the batch job's output differs from one rank")
        let report = try String(contentsOfFile: cluster.path("batch.timing.json"), encoding: .utf8)
        #expect(report.contains("\"ranks\":3") && report.contains("\"total_ms\""), "timing JSON: \(report)")
    }

    @Test("a bad image under srun -n 3: exit 3, one error line, no output")
    func badImageUnderSrun() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        let bad = cluster.path("bad.png")
        try Data("this is not an image\n".utf8).write(to: URL(fileURLWithPath: bad))
        let out = cluster.path("bad-out.png")
        let run = try cluster.srun(3, [bad, "-o", out])
        #expect(run.status == 3, "expected exit 3, got \(run.status): \(run.stderr)")
        let errors = SlurmCluster.errorLines(run.stderr + run.stdout)
        #expect(errors.count == 1, "expected one error line, got \(errors.count): \(run.stderr)")
        #expect(errors.first?.contains("not an image") == true, "\(errors)")
        #expect(!FileManager.default.fileExists(atPath: out), "an output file was written for a bad input")
    }

    @Test("srun --mpi=none (Open MPI cannot join): exit 2, one error line naming --mpi=pmix, no Open MPI abort text")
    func srunWithoutPMIx() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        let (input, _) = try Self.inputAndExpected(in: cluster)
        let out = cluster.path("none.png")
        let run = try cluster.srun(3, [input, "-o", out], options: ["--mpi=none"])
        #expect(run.status == 2, "expected exit 2, got \(run.status): \(run.stderr)")
        let errors = SlurmCluster.errorLines(run.stderr + run.stdout)
        #expect(errors.count == 1, "expected exactly one error line, got \(errors.count): \(run.stderr)")
        #expect(errors.first?.contains("srun --mpi=pmix") == true && errors.first?.contains("MpiDefault=pmix") == true, "\(errors)")
        for wall in ["OPAL ERROR", "MPI_Init", "PMI support", "-----"] {
            #expect(!run.stderr.contains(wall), "Open MPI's abort text got through (\(wall)): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("scancel of a running job, mid-filter or while the output is written, ends every rank and leaves no output and no temporary file")
    func scancelEndsEveryRank() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        // Rank 1 held in the filter phase (BANDSAW_FAULT's stall, at the ranks' agreement on
        // it), so the job is certainly mid-filter when the cancel lands: a heavy filter and a
        // sleep no longer guarantee that since the AVX2 kernels (median 15 + gaussian 8 on this
        // image finished in under 2 s and the cancel found a completed job).
        let input = cluster.path("big.png")
        try writeImage(TestImages.stripes(width: 1600, height: 1200, channels: 3, seed: 5), path: input, options: EncodeOptions(compressionLevel: 1))
        try Self.cancel(in: cluster, input: input, name: "computing", ops: "median:size=15 gaussian:sigma=8",
                        fault: "compute:1:stall") { _ in
            sleep(2)  // past the read, into the filters (rank 1 then sleeps 60 s in them)
            return true
        }
        // Rank 0 held at the write (the BANDSAW_FAULT testing aid): its temporary file exists
        // when the cancel lands, and its signal clean-up must remove it.
        try Self.cancel(in: cluster, input: input, name: "writing", ops: "sobel", fault: "write:0:stall") { folder in
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                if names.contains(where: { $0.hasPrefix(".writing.png.tmp") }) { return true }
                usleep(100_000)
            }
            return false
        }
    }

    /// Submits the shipped batch script with 3 ranks, waits for them, then for `ready` (given
    /// the folder), cancels the job, and checks that every rank ends, the job leaves the queue,
    /// and neither the output nor a temporary file is left.
    static func cancel(in cluster: SlurmCluster, input: String, name: String, ops: String, fault: String?,
                       ready: (String) -> Bool) throws {
        let output = cluster.path("\(name).png"), log = cluster.path("\(name).out")
        var env = ["INPUT": input, "OUTPUT": output, "BANDSAW": Harness.executable, "OPS": ops]
        env["BANDSAW_FAULT"] = fault
        let submit = try cluster.run(["sbatch", "--parsable", "--ntasks", "3", "--chdir", cluster.folder.path, "--output", log, sbatchScript],
                                     environment: env)
        try #require(submit.status == 0, "\(name): sbatch failed: \(submit.stderr)")
        let job = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        var ranks: [Int32] = []
        let deadline = Date().addingTimeInterval(60)
        while ranks.count < 3, Date() < deadline {
            usleep(100_000)
            ranks = cluster.bandsawPIDs(job: job)
        }
        try #require(ranks.count == 3, "\(name): the job's 3 ranks never ran (found \(ranks))")
        try #require(ready(cluster.folder.path), "\(name): the job never reached the moment to cancel")
        let cancel = try cluster.run(["scancel", job], timeout: 30)
        #expect(cancel.status == 0, "\(name): scancel failed: \(cancel.stderr)")

        // Every rank gone soon (KillWait is 2 s in the test cluster), and the job out of the queue.
        let left = try cluster.waitUntilGone(job: job)
        #expect(left.ranks.isEmpty, "\(name): ranks still running 30 s after scancel: \(left.ranks)")
        #expect(left.state.isEmpty || left.state == "CANCELLED", "\(name): job \(job) still \(left.state)")

        let jobLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!jobLog.contains("total"), "\(name): the job finished before the cancel landed: \(jobLog)")
        #expect(!FileManager.default.fileExists(atPath: output), "\(name): a cancelled job left an output file")
        let strays = try FileManager.default.contentsOfDirectory(atPath: cluster.folder.path).filter { $0.contains(".tmp") }
        #expect(strays.isEmpty, "\(name): temporary files left: \(strays)")
    }

    @Test("Ctrl-C on run.sh --slurm cancels the job: it leaves the queue, no rank, output, temporary file or log stays")
    func interruptedRunScriptCancelsJob() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        let (input, _) = try Self.inputAndExpected(in: cluster)
        let output = cluster.path("interrupted.png")
        let stderrURL = cluster.folder.appendingPathComponent("runsh.err")
        try #require(FileManager.default.createFile(atPath: stderrURL.path, contents: nil))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // env --default-signal: this test process blocks SIGINT, and run.sh would inherit that.
        process.arguments = ["--default-signal", Harness.packageRoot.appendingPathComponent("run.sh").path,
                             input, "--slurm", "-n", "3", "-o", output, "--no-show"]
        // Rank 0 holds the write open, so the job is surely running when the interrupt comes.
        process.environment = cluster.environment.merging(["BANDSAW_BIN": Harness.executable, "BANDSAW_FAULT": "write:0:stall"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        var running = false
        for _ in 0..<300 where !running {
            running = (try? FileManager.default.contentsOfDirectory(atPath: cluster.folder.path))?.contains { $0.hasPrefix(".interrupted.png.tmp") } ?? false
            if !running { usleep(100_000) }
        }
        let job = try cluster.run(["squeue", "-h", "-o", "%i"], timeout: 20).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        kill(process.processIdentifier, SIGINT)
        let sent = Date()
        while process.isRunning && Date().timeIntervalSince(sent) < 15 { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try #require(running, "the job never reached its write")
        #expect(process.terminationStatus == 130, "run.sh exit \(process.terminationStatus)")
        let stderr = try String(contentsOf: stderrURL, encoding: .utf8)
        #expect(stderr.contains("error: interrupted: Slurm job \(job) cancelled"), "\(stderr)")

        #expect(!job.isEmpty, "no job was queued")
        let gone = try cluster.waitUntilGone(job: job)
        #expect(gone.state.isEmpty || gone.state == "CANCELLED", "job still \(gone.state) after the interrupt")
        #expect(gone.ranks.isEmpty, "ranks still running after the interrupt: \(gone.ranks)")
        let left = try FileManager.default.contentsOfDirectory(atPath: cluster.folder.path)
            .filter { $0.hasPrefix(".bandsaw-slurm") || $0.contains(".tmp") || $0.hasPrefix("interrupted") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("run.sh --slurm submits the batch script and shows the result; inside an allocation it runs srun")
    func runScriptUnderSlurm() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        let (input, expected) = try Self.inputAndExpected(in: cluster)
        let script = Harness.packageRoot.appendingPathComponent("run.sh").path
        let ops = Self.pipeline
        let submitted = cluster.path("submitted.png")
        let run = try cluster.run([script, input, "--slurm", "-n", "3", "-o", submitted, "--no-show"] + ops,
                                  environment: ["BANDSAW_BIN": Harness.executable])
        #expect(run.status == 0, "run.sh --slurm failed (\(run.status)): \(run.stderr)")
        #expect(run.stdout.contains("on 3 ranks") && run.stdout.contains("output: \(submitted)"), "\(run.stdout)")
        #expect(try readImage(path: submitted) == expected, "run.sh --slurm output differs from one rank")
        #expect(FileManager.default.fileExists(atPath: cluster.path("submitted.timing.json")), "no timing JSON beside the output")
        let logs = try FileManager.default.contentsOfDirectory(atPath: cluster.folder.path).filter { $0.hasPrefix(".bandsaw-slurm") }
        #expect(logs.isEmpty, "run.sh left its job log: \(logs)")

        // salloc runs run.sh with SLURM_JOB_ID set: the job becomes a step of that allocation.
        let inside = cluster.path("inside.png")
        let step = try cluster.run(["salloc", "-n", "2", script, input, "--slurm", "-o", inside, "--no-show"] + ops,
                                   environment: ["BANDSAW_BIN": Harness.executable])
        #expect(step.status == 0, "run.sh --slurm inside salloc failed (\(step.status)): \(step.stderr)")
        #expect(step.stdout.contains("on 2 ranks"), "the step should use the allocation's 2 tasks: \(step.stdout)")
        #expect(try readImage(path: inside) == expected, "run.sh --slurm inside an allocation differs from one rank")

        // A bad image through the batch path: bandsaw's exit code and its one error line.
        let bad = cluster.path("bad.png")
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: URL(fileURLWithPath: bad))
        let refused = try cluster.run([script, bad, "--slurm", "-n", "3", "-o", cluster.path("bad-out.png"), "--no-show"],
                                      environment: ["BANDSAW_BIN": Harness.executable])
        #expect(refused.status == 3, "expected exit 3, got \(refused.status): \(refused.stderr)")
        #expect(SlurmCluster.errorLines(refused.stderr).count == 1, "\(refused.stderr)")
    }
}

/// Two slurmd nodes, each a namespace host with its own address, hostname and /tmp, and jobs
/// spread over both: Open MPI's ranks meet over TCP on the hosts' subnet.
@Suite("Slurm across namespace hosts", .serialized,
       .enabled(if: SlurmCluster.shouldRun && NamespaceCluster.available,
                "needs root, slurm-wlm + munge and the rights to create network namespaces"))
struct SlurmMultiNodeTests {
    @Test("srun -N 2 runs on both hosts, and its output equals one rank")
    func twoNodesEqualOneRank() throws {
        let cluster = try SlurmCluster(hosts: 2)
        defer { cluster.tearDown() }
        let names = try cluster.run(["srun", "-N", "2", "-n", "2", "hostname"])
        #expect(names.status == 0, "srun -N 2 hostname failed: \(names.stderr)")
        let prefix = try #require(cluster.netnsPrefix)
        #expect(Set(names.stdout.split(separator: "\n").map(String.init)) == ["\(prefix)-h1", "\(prefix)-h2"],
                "the tasks did not run one on each host: \(names.stdout)")

        let input = cluster.path("in.png"), single = cluster.path("single.png")
        try writeImage(TestImages.stripes(width: 203, height: 151, channels: 3, seed: 17), path: input)
        let one = try Harness.bandsaw([input, "-o", single, "--quiet"] + SlurmTests.pipeline)
        try #require(one.status == 0, "one-rank run failed: \(one.stderr)")
        let expected = try readImage(path: single)
        // Between hosts only TCP on their subnet: no shared memory, no other interface.
        let tcp = ["OMPI_MCA_btl": "tcp,self", "OMPI_MCA_btl_tcp_if_include": "\(SlurmCluster.subnet).0/24"]
        for ranks in [2, 3, 4] {
            let out = cluster.path("nodes-\(ranks).png")
            let run = try cluster.run(["srun", "-N", "2", "-n", String(ranks), Harness.executable, input, "-o", out] + SlurmTests.pipeline,
                                      environment: tcp)
            #expect(!run.timedOut, "srun -N 2 -n \(ranks) hung")
            #expect(run.status == 0, "srun -N 2 -n \(ranks) failed (\(run.status)): \(run.stderr)")
            #expect(run.stdout.contains("on \(ranks) ranks"), "\(run.stdout)")
            #expect(try readImage(path: out) == expected, "srun -N 2 -n \(ranks) differs from one rank")
        }
    }
}

/// The launch check itself, without Slurm: the variables `srun --mpi=none` sets, and those of a
/// batch script's own step, which must still run a single rank.
@Suite("Launch check")
struct LaunchCheckTests {
    @Test("a Slurm task without PMIx is refused before MPI_Init; task 0 alone reports it")
    func slurmTaskWithoutPMIx() throws {
        let folder = try Harness.temporaryFolder("launch")
        defer { Harness.cleanup(folder) }
        let input = folder.appendingPathComponent("in.png").path
        try writeImage(TestImages.stripes(width: 31, height: 17, channels: 3, seed: 2), path: input)
        var env = Harness.environment.filter { !$0.key.hasPrefix("SLURM_") && !$0.key.hasPrefix("PMIX_") && !$0.key.hasPrefix("OMPI_COMM_WORLD") }
        env["SLURM_JOB_ID"] = "7"
        env["SLURM_STEP_ID"] = "0"

        for task in ["0", "1"] {
            env["SLURM_PROCID"] = task
            let run = try Harness.run([Harness.executable, input, "-o", folder.appendingPathComponent("t\(task).png").path], timeout: 30, environment: env)
            #expect(run.status == 2, "task \(task): expected exit 2, got \(run.status): \(run.stderr)")
            #expect(SlurmCluster.errorLines(run.stderr).count == (task == "0" ? 1 : 0), "task \(task): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }

        // The batch script's own step has no step id: a plain single-rank run there works.
        env.removeValue(forKey: "SLURM_STEP_ID")
        env["SLURM_PROCID"] = "0"
        let batch = try Harness.run([Harness.executable, input, "-o", folder.appendingPathComponent("b.png").path, "--quiet"],
                                    timeout: 60, environment: env)
        #expect(batch.status == 0, "a one-rank run in a batch script was refused: \(batch.stderr)")
    }
}

/// The batch script users copy is not under scripts/, which the container suite lints.
@Suite("Slurm files")
struct SlurmFilesTests {
    @Test("shellcheck passes on slurm/bandsaw.sbatch",
          .enabled(if: ContainerFiles.shellcheck != nil, "shellcheck is not installed (apt-get install shellcheck): batch script not linted"))
    func batchScriptLints() throws {
        let lint = try ContainerFiles.inRoot("shellcheck -x slurm/bandsaw.sbatch")
        #expect(lint.status == 0, "shellcheck:\n\(lint.stdout)\(lint.stderr)")
    }
}
