import Foundation
import TestSupport
import Testing

/// A real `mpirun -np 2 bandsaw serve` on a free 127.0.0.1 port, and a real HTTP client (curl).
/// Shared with the client threads of a test: only `stop` changes it, after they are done.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let errors: Pipe
    private let folder: URL

    /// Starts the service and waits until it listens (it prints its port: `--port 0`).
    init(ranks: Int = 2, _ args: [String] = [], environment extra: [String: String] = [:]) throws {
        folder = try Harness.temporaryFolder("serve")
        var env = Harness.environment
        // The service's temporary folders go here, where the tests look for leftovers.
        env["TMPDIR"] = folder.path
        var forward: [String] = []
        for (key, value) in extra {
            env[key] = value
            forward += ["-x", key]
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Through Python to unblock SIGTERM and SIGINT: this test process blocks some, and a
        // child inherits the mask, which a shell or a supervisor would start with empty.
        process.arguments = ["python3", "-c", FaultInjectionTests.unblockAndExec, "mpirun", "-q", "--oversubscribe",
                             "--bind-to", "none", "-np", String(ranks)] + forward
            + [Harness.executable, "serve", "--port", "0"] + args
        process.environment = env
        let out = Pipe()
        errors = Pipe()
        process.standardOutput = out
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line on stdout names the port.
        var line = Data()
        let reader = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        while !line.contains(UInt8(ascii: "\n")) && Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":")[1]) else {
            process.terminate()
            throw ServeError.didNotStart(text)
        }
        self.port = port
        // Keep draining stdout so that the service never blocks on a full pipe.
        DispatchQueue.global().async { _ = reader.readDataToEndOfFile() }
    }

    enum ServeError: Error { case didNotStart(String) }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The pids of the ranks (children of mpirun).
    var ranks: [Int32] {
        let children = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children",
                                    encoding: .utf8)) ?? ""
        return children.split(separator: " ").compactMap { Int32($0) }
    }

    /// Rank 0's pid: the rank that listens.
    var rank0: Int32? {
        let listening = (try? Harness.run(["ss", "-Hltnp", "sport = :\(port)"], timeout: 10).stdout) ?? ""
        guard let range = listening.range(of: #"pid=[0-9]+"#, options: .regularExpression) else { return nil }
        return Int32(listening[range].dropFirst(4))
    }

    /// Waits for mpirun to end, at most `seconds`; its exit status, or nil if it still runs.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// What the service wrote to stderr (read once it has ended).
    var stderr: String { String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }

    /// Ends the service and its ranks, whatever state they are in.
    func stop() {
        let ranks = self.ranks
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            for rank in ranks { kill(rank, SIGKILL) }
            process.waitUntilExit()
        }
        Harness.cleanup(folder)
    }

    deinit { stop() }

    /// A file in the service's test folder.
    func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// The service's temporary folders still on disk.
    var leftovers: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("bandsaw-serve.") }
    }

    /// The answer to one request.
    struct Reply {
        var status: Int
        var body: Data
        var headers: [String: String]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The `error` of a JSON error body.
        var error: String? {
            (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? String
        }
    }

    /// One request with curl: `body` (a file) POSTed, else a GET.
    func request(_ path: String, body: URL? = nil, headers: [String] = [], timeout: Double = 120) throws -> Reply {
        let tag = UUID().uuidString.prefix(8)
        let out = file("reply-\(tag)"), head = file("head-\(tag)")
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: head) }
        var args = ["curl", "-sS", "--max-time", String(Int(timeout)), "-o", out.path, "-D", head.path, "-w", "%{http_code}"]
        for header in headers { args += ["-H", header] }
        if let body { args += ["--data-binary", "@" + body.path, "-H", "Content-Type: application/octet-stream"] }
        let r = try Harness.run(args + [url + path], timeout: timeout + 10)
        var fields: [String: String] = [:]
        for line in ((try? String(contentsOf: head, encoding: .utf8)) ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: Int(r.stdout) ?? 0, body: (try? Data(contentsOf: out)) ?? Data(), headers: fields)
    }

    /// POST /v1/process with `query`.
    func process(_ input: URL, _ query: String, headers: [String] = []) throws -> Reply {
        try request("/v1/process?" + query, body: input, headers: headers)
    }

    /// Waits until /v1/health says a job is running.
    func waitUntilBusy(seconds: Double = 30) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let health = try request("/v1/health", timeout: 5)
            if (try? JSONSerialization.jsonObject(with: health.body) as? [String: Any])?["busy"] as? Bool == true { return true }
            usleep(20_000)
        }
        return false
    }

    /// Whether any process still runs `bandsaw serve` with this service's port... or any rank pid.
    static func alive(_ pids: [Int32]) -> [Int32] { pids.filter { kill($0, 0) == 0 && !isZombie($0) } }

    static func isZombie(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].dropFirst().first == "Z"
    }
}

/// The command line's view of the same job, for comparison.
enum CommandLine1 {
    /// `mpirun -np RANKS bandsaw INPUT -o OUT.FORMAT ARGS`, as many ranks as the service has (a
    /// PNG's deflate streams are cut at the bands, so its bytes depend on the rank count; its
    /// pixels do not): the output bytes, or the error line.
    static func run(_ input: URL, format: String, _ args: [String], in folder: URL, ranks: Int = 2) throws -> (bytes: Data?, error: String?) {
        let output = folder.appendingPathComponent("cli-\(UUID().uuidString.prefix(8)).\(format)")
        defer { try? FileManager.default.removeItem(at: output) }
        let r = try Harness.mpirun(ranks, [input.path, "-o", output.path, "--quiet"] + args)
        if r.status == 0 { return (try Data(contentsOf: output), nil) }
        let line = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        return (nil, line.hasPrefix("error: ") ? String(line.dropFirst(7)) : line)
    }
}
