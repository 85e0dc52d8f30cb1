import Foundation
import ImageCore
import Testing

/// Runs the real `bandsaw` executable, alone or under real `mpirun`, with a timeout.
enum Harness {
    /// The package root, found from this file's path.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// The Python of the tests that use its libraries (Pillow, numpy, OpenCV): the project's
    /// virtual environment, which scripts/test.sh fills, else `python3` on PATH.
    static let python3: String = {
        let venv = packageRoot.appendingPathComponent(".venv/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }()

    /// The built executable: `BANDSAW_BIN`, or the one beside the test bundle (same build).
    static let executable: String = {
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
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        // Keep Open MPI from probing for InfiniBand and the like on a plain machine.
        env["OMPI_MCA_btl"] = env["OMPI_MCA_btl"] ?? "self,vader,tcp"
        return env
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        var timedOut: Bool
    }

    /// Runs `arguments[0]` with the rest, killing it (and failing the caller's checks) after `timeout`.
    static func run(_ arguments: [String], timeout: Double = 120, environment env: [String: String]? = nil) throws -> Outcome {
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
    static func bandsaw(_ args: [String], timeout: Double = 120) throws -> Outcome {
        try run([executable] + args, timeout: timeout)
    }

    /// `mpirun -q -np RANKS bandsaw ARGS` (quiet: no launcher banners on failure).
    static func mpirun(_ ranks: Int, _ args: [String], timeout: Double = 120, extra: [String] = []) throws -> Outcome {
        try run(["mpirun", "-q", "--oversubscribe", "--bind-to", "none", "-np", String(ranks)] + extra
                + [executable] + args, timeout: timeout)
    }

    /// A fresh temporary folder, removed by the caller with `cleanup`.
    static func temporaryFolder(_ tag: String = "e2e") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bandsaw-\(tag)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func cleanup(_ url: URL) { try? FileManager.default.removeItem(at: url) }

    static var mpirunAvailable: Bool {
        (try? run(["mpirun", "--version"], timeout: 20).status) == 0
    }
}

/// Deterministic generated images for odd sizes and channel layouts.
enum GeneratedImages {
    /// A pattern with edges, gradients and noise, so every filter has something to do.
    static func make(width: Int, height: Int, channels: Int, seed: UInt64) -> Image {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var image = Image(width: width, height: height, channels: channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    let stripe = ((x / 3 + y / 5 + c) % 4 == 0) ? 200 : 40
                    let gradient = (x * 255) / max(1, width) / 2
                    let noise = Int(state % 32)
                    image.pixels[(y * width + x) * channels + c] = UInt8(clamping: stripe / 2 + gradient + noise)
                }
            }
        }
        return image
    }
}
