#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BandsawService
import Foundation
import ImageCore
import MPIKit
import SPMDEngine

/// What rank 0 tells every rank before each job: one word (a job follows, or stop), waited for
/// without spinning, then the job's options.
enum ServeWord: Int64 {
    case stop = 0
    case job = 1
}

/// A job as every rank receives it: the command line's options and the output format.
struct JobDescriptor: Codable {
    var options: [String]
    var format: String

    /// The settings `bandsaw process` would run with: the same parser, so the same bytes.
    func command(input: String = "upload", output: String? = nil) throws -> ProcessCommand {
        try ProcessCommand.parse([input, "-o", output ?? "output.\(format)"] + options)
    }

    /// nil when the options parse, else the line the command line prints after `error: `.
    static func check(options: [String], format: String) -> String? {
        guard ImageFormat.allExtensions.contains(format) else {
            return ImageError.unknownOutputFormat(path: "output.\(format)").description
        }
        do {
            _ = try JobDescriptor(options: options, format: format).command()
            return nil
        } catch {
            // As main.swift words a usage error.
            let message = Bandsaw.message(for: error)
            return message.contains("(see '") ? message : "\(message) (see 'bandsaw --help')"
        }
    }
}

/// A worker rank of the service: waits (asleep, see `WaitPolicy`) for rank 0's word, runs
/// each job's share, keeps its process between jobs.
struct ServiceWorker {
    let world: Communicator

    func run() throws -> ExitStatus {
        // Only rank 0 decides when the service ends; the launcher kills a worker it wants gone.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        while true {
            var word: [Int64] = [ServeWord.stop.rawValue]
            try world.broadcastWaiting(&word)
            guard ServeWord(rawValue: word[0]) == .job else { return .success }
            var bytes: [UInt8] = []
            try world.broadcast(bytes: &bytes)
            let descriptor = try JSONDecoder().decode(JobDescriptor.self, from: Data(bytes))
            var settings = try descriptor.command().settings()
            settings.quiet = true
            settings.json = false
            _ = try SPMDRunner(world: world, settings: settings).run(jobs: .success([]))
        }
    }
}

/// Runs one job on rank 0: the upload into a private folder, the engine over it as the command
/// line would run it, the output read back, the folder removed whatever happens.
enum JobRunner {
    static func run(_ request: JobRequest, maxPixels: Int, scratch: String, world: Communicator) throws -> JobResult {
        guard let folder = makePrivateFolder(in: scratch) else {
            return .failure(500, "cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/upload", output = folder + "/output.\(request.format)"
        let report = folder + "/report.json"
        // A scratch file, read once and removed: no fsync (the engine syncs its output).
        guard let handle = FileHandle(forWritingAtPath: input) ?? {
            FileManager.default.createFile(atPath: input, contents: nil, attributes: [.posixPermissions: 0o600])
            return FileHandle(forWritingAtPath: input)
        }(), (try? handle.write(contentsOf: request.upload)) != nil, (try? handle.close()) != nil else {
            return .failure(500, "cannot store the upload in \(scratch)")
        }
        var settings = try JobDescriptor(options: request.options, format: request.format)
            .command(input: input, output: output).settings()
        settings.quiet = true
        settings.json = false
        settings.reportPath = report
        settings.maxPixels = maxPixels

        let (status, errors) = try ErrorCapture.during(folder: folder) {
            try SPMDRunner(world: world, settings: settings).run(jobs: .success([ImageJob(input: input, output: output)]))
        }
        // The paths are the service's business: the client sees its file as "upload".
        let line = errors.last.map { $0.replacingOccurrences(of: folder + "/", with: "") }
        guard status == .success else {
            return .failure(httpStatus(status, line ?? ""), line ?? "the job failed (exit \(status.rawValue))")
        }
        guard let bytes = try? readFileBytes(path: output) else { return .failure(500, "the output was not written") }
        let document = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        return JobResult(status: 200, body: bytes, phases: phases(document), report: document)
    }

    /// The HTTP status for a failed job, from the exit status and the line the engine printed.
    static func httpStatus(_ status: ExitStatus, _ line: String) -> Int {
        switch status {
        case .usage: return 400
        case .badImage:
            // The message after any "PHASE failed on rank N: ", as ImageError words it.
            let message = line.range(of: #"^[a-z]+ failed on rank [0-9]+: "#, options: .regularExpression)
                .map { String(line[$0.upperBound...]) } ?? line
            if message.contains(", over the limit of ") { return 413 }
            if message.hasSuffix(": file is truncated") || message.contains(": corrupt image (") { return 422 }
            return 415
        case .success: return 200
        case .failure: return 500
        }
    }

    /// Each phase's slowest-rank time from the JSON report, in the engine's order, then total.
    static func phases(_ document: String) -> [(name: String, milliseconds: Double)] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
              let image = (object["images"] as? [[String: Any]])?.first,
              let phases = image["phases"] as? [String: Any] else { return [] }
        let order = ["read", "broadcast", "scatter", "decode", "halo", "compute", "encode", "gather", "write"]
        var list: [(name: String, milliseconds: Double)] = order.compactMap { name in
            ((phases[name] as? [String: Any])?["max_ms"] as? Double).map { (name, $0) }
        }
        if let total = phases["total_ms"] as? Double { list.append(("total", total)) }
        return list
    }

    /// A new folder only this user can enter (mkdtemp: mode 0700, a name nobody can guess),
    /// in `base`.
    static func makePrivateFolder(in base: String) -> String? {
        var template = Array((base + "/bandsaw-serve.XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
    }
}

/// The engine prints its one `error:` line to stderr (until it returns its outcome): rank 0
/// sends its stderr to a file in the job's folder for the job, then passes the text on to the
/// service's own stderr and returns the error lines.
enum ErrorCapture {
    /// The service's own stderr while a job's is captured (else stderr itself).
    nonisolated(unsafe) private static var serviceStderr = STDERR_FILENO

    /// Prints `error: line` on the service's stderr, even while a job's is captured.
    static func report(_ line: String) {
        let text = "error: " + line.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n"
        _ = text.withCString { write(serviceStderr, $0, strlen($0)) }
    }

    static func during<T>(folder: String, _ body: () throws -> T) throws -> (T, [String]) {
        let path = folder + "/stderr"
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let saved = dup(STDERR_FILENO)
        if file >= 0 && saved >= 0 {
            serviceStderr = saved
            dup2(file, STDERR_FILENO)
        }
        if file >= 0 { close(file) }
        func restore() {
            if saved >= 0 {
                dup2(saved, STDERR_FILENO)
                serviceStderr = STDERR_FILENO
                close(saved)
            }
        }
        let value: T
        do { value = try body() } catch { restore(); throw error }
        restore()
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if !text.isEmpty { FileHandle.standardError.write(Data(text.utf8)) }
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("error: ") }.map { String($0.dropFirst(7)) }
        return (value, lines)
    }
}
