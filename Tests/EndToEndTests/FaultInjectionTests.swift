import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// Failures on one rank, injected with the `BANDSAW_FAULT` testing aid, and signals mid-job:
/// every rank ends with the same code, rank 0 prints one line naming the phase and the rank,
/// nothing hangs, and neither the output nor a temporary file is left.
@Suite(.serialized, .needsMPIRun)
struct FaultInjectionTests {
    static let phases = ["read", "decode", "scatter", "compute", "encode", "gather", "write"]

    /// `mpirun -np 3` with `BANDSAW_FAULT=fault` in every rank's environment.
    static func run(fault: String, _ args: [String], timeout: Double = 60) throws -> Harness.Outcome {
        try Harness.mpirun(3, args, timeout: timeout, exporting: ["BANDSAW_FAULT": fault])
    }

    /// Unblocks SIGINT, SIGTERM and SIGHUP, then runs argv[1:].
    static let unblockAndExec = """
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        os.execvp(sys.argv[1], sys.argv[1:])
        """

    static func leftovers(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("out") || $0.contains(".tmp-") }
    }

    @Test("each phase failing on rank 0, a middle rank or the last rank ends every rank alike", arguments: phases)
    func phaseFails(_ phase: String) throws {
        let root = try Harness.temporaryFolder("fault")
        defer { Harness.cleanup(root) }
        let png = root.appendingPathComponent("in.png").path, ppm = root.appendingPathComponent("in.ppm").path
        let image = TestImages.stripes(width: 70, height: 300, channels: 3, seed: 4)
        try writeImage(image, path: png)
        try writeImage(image, path: ppm)
        // The default path (PNG in and out, parallel encoding), rank 0's serial encoder, and
        // MPI-IO (every rank reads and writes its own rows).
        let variants: [[String]] = [[png, "-o", root.appendingPathComponent("out.png").path],
                                    [png, "-o", root.appendingPathComponent("out.png").path, "--encode", "serial"],
                                    [ppm, "-o", root.appendingPathComponent("out.ppm").path, "--io", "mpiio"]]
        for args in variants {
            // With MPI-IO output nothing is gathered: every rank writes its own rows.
            if phase == "gather" && args.contains("mpiio") { continue }
            for rank in [0, 1, 2] {
                let r = try Self.run(fault: "\(phase):\(rank)", args + ["--quiet"])
                let context = "\(phase) on rank \(rank), \(args.dropFirst(2).joined(separator: " "))"
                #expect(!r.timedOut && r.seconds < 10, "\(context): took \(r.seconds) s")
                #expect(r.status == 1, "\(context): exit \(r.status), \(r.stderr)")
                let lines = r.stderr.split(separator: "\n")
                #expect(lines == ["error: \(phase) failed on rank \(rank): injected fault (BANDSAW_FAULT=\(phase):\(rank))"],
                        "\(context): \(r.stderr)")
                #expect(r.stdout.isEmpty, "\(context): \(r.stdout)")
                let left = try Self.leftovers(root)
                #expect(left.isEmpty, "\(context): left \(left)")
            }
        }
    }

    @Test("SIGTERM or SIGINT to mpirun, or SIGTERM to rank 0, while the output is being written: every rank ends, no file")
    func signals() throws {
        let root = try Harness.temporaryFolder("signals")
        defer { Harness.cleanup(root) }
        let input = root.appendingPathComponent("in.png").path
        try writeImage(TestImages.stripes(width: 90, height: 260, channels: 3, seed: 8), path: input)
        for (target, signal) in [("mpirun", SIGTERM), ("mpirun", SIGINT), ("rank 0", SIGTERM)] {
            // Rank 0 holds the write phase open with its temporary file on disk.
            var env = Harness.environment
            env["BANDSAW_FAULT"] = "write:0:stall"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            // Launched through Python to unblock the signals: this test process blocks some,
            // and a child inherits the mask, which a shell or mpirun would start with empty.
            process.arguments = ["python3", "-c", Self.unblockAndExec]
                + MPIRun(ranks: 3, exports: ["BANDSAW_FAULT"])
                    .arguments([Harness.executable, input, "-o", root.appendingPathComponent("out.png").path, "--quiet"])
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            var temporary: String? = nil
            for _ in 0..<300 where temporary == nil {
                temporary = try FileManager.default.contentsOfDirectory(atPath: root.path).first { $0.contains(".tmp-") }
                if temporary == nil { usleep(100_000) }
            }
            guard let temporary, let rank0 = Int32(temporary.split(separator: "-").last ?? "") else {
                process.terminate(); process.waitUntilExit()
                Issue.record("\(target): the temporary file never appeared")
                continue
            }
            let sent = Date()
            kill(target == "mpirun" ? process.processIdentifier : rank0, signal)
            while process.isRunning && Date().timeIntervalSince(sent) < 15 { usleep(50_000) }
            let seconds = Date().timeIntervalSince(sent)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            #expect(seconds < 10, "\(target) signal \(signal): mpirun took \(seconds) s to end")
            #expect(process.terminationStatus != 0, "\(target) signal \(signal): exit 0")
            let left = try Self.leftovers(root)
            #expect(left.isEmpty, "\(target) signal \(signal): left \(left)")
            let alive = try Harness.run(["pgrep", "-f", input], timeout: 10)
            #expect(alive.stdout.isEmpty, "\(target) signal \(signal): ranks still running: \(alive.stdout)")
        }
    }
}
