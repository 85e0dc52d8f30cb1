// The harness every end-to-end test runs the real executable through.
import Foundation

/// Runs the real `bandsaw` executable, alone or under real `mpirun` (``MPIRun``), with a timeout.
public enum Harness {
    /// The package root, found from this file's path.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures`, the committed test images.
    public static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// The Python of the tests that use its libraries (Pillow, numpy, OpenCV): the project's
    /// virtual environment, which scripts/test.sh fills, else `python3` on PATH.
    public static let python3: String = {
        let venv = packageRoot.appendingPathComponent(".venv/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }()

    /// The built executable: `BANDSAW_BIN`, or the one beside the test bundle (same build).
    public static let executable: String = {
        if let path = ProcessInfo.processInfo.environment["BANDSAW_BIN"] { return path }
        let me = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                     ?? CommandLine.arguments[0])
        var dir = me.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("bandsaw").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/bandsaw").path
    }()

    /// The environment mpirun needs when tests run as root (as in CI).
    public static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        // Keep Open MPI from probing for InfiniBand and the like on a plain machine.
        env["OMPI_MCA_btl"] = env["OMPI_MCA_btl"] ?? "self,vader,tcp"
        return env
    }

    /// How a run ended and what it printed.
    public struct Outcome: Sendable {
        /// The exit status (or the terminating signal's, as `Process` reports it).
        public var status: Int32
        /// Everything printed on standard output and on standard error.
        public var stdout: String
        public var stderr: String
        /// Wall time from start to exit.
        public var seconds: Double
        /// Killed at the timeout.
        public var timedOut: Bool
    }

    /// Runs `arguments[0]` with the rest, killing it (and failing the caller's checks) after `timeout`.
    public static func run(_ arguments: [String], timeout: Double = 120, environment env: [String: String]? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = env ?? environment
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        let start = Date()
        try process.run()
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var outData = Data(), errData = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { outData = outPipe.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = errPipe.fileHandleForReading.readDataToEndOfFile() }
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                process.terminate()
                usleep(500_000)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        // A daemon the child left behind (an orphaned mpirun, say) can hold the pipes open
        // forever: give up on them at the deadline instead of hanging the whole test run.
        let remaining = max(1, timeout - Date().timeIntervalSince(start))
        guard group.wait(timeout: .now() + remaining) == .success else {
            return Outcome(status: process.terminationStatus, stdout: "",
                           stderr: "(output unavailable: a background process kept the pipes open past the timeout)",
                           seconds: Date().timeIntervalSince(start), timedOut: true)
        }
        return Outcome(status: process.terminationStatus,
                       stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self),
                       seconds: Date().timeIntervalSince(start), timedOut: timedOut)
    }

    /// `bandsaw ARGS` in one process: the single-rank baseline.
    public static func bandsaw(_ args: [String], timeout: Double = 120) throws -> Outcome {
        try run([executable] + args, timeout: timeout)
    }

    /// `mpirun -q -np RANKS bandsaw ARGS` (quiet: no launcher banners on failure), the line
    /// ``MPIRun`` builds; `variables` are set and exported to every rank (`-x`).
    public static func mpirun(_ ranks: Int, _ args: [String], timeout: Double = 120,
                              exporting variables: [String: String] = [:]) throws -> Outcome {
        var env = environment
        env.merge(variables) { $1 }
        let launch = MPIRun(ranks: ranks, exports: variables.keys.sorted())
        return try run(launch.arguments([executable] + args), timeout: timeout, environment: env)
    }

    /// A fresh temporary folder, removed by the caller with `cleanup`.
    public static func temporaryFolder(_ tag: String = "e2e") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bandsaw-\(tag)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes a folder from ``temporaryFolder(_:)`` and everything in it.
    public static func cleanup(_ url: URL) { try? FileManager.default.removeItem(at: url) }
}
