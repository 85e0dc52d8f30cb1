#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BandsawService
import Foundation
import ImageCodecs
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
            let settings = try descriptor.command().settings()
            _ = try SPMDRunner(world: world, settings: settings, fault: FaultInjection.fromEnvironment).run(.worker)
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
        settings.maxPixels = maxPixels

        let failure = LockedLine()
        let events = RunEvents(failed: { failure.set($0) })
        let outcome = try SPMDRunner(world: world, settings: settings, events: events, fault: FaultInjection.fromEnvironment)
            .run(.jobs([ImageJob(input: input, output: output)]))
        // The paths are the service's business: the client sees its file as "upload".
        let line = failure.get().map { $0.replacingOccurrences(of: folder + "/", with: "") }
        if let line { Console.error(line) }
        guard outcome.status == .success, let image = outcome.report.images.first else {
            return .failure(httpStatus(outcome.status, line ?? ""), line ?? "the job failed (status \(outcome.status))")
        }
        guard let bytes = try? readFileBytes(path: output) else { return .failure(500, "the output was not written") }
        var phases = Phase.allCases.map { (name: $0.name, milliseconds: image.phases.max[$0.rawValue] * 1000) }
        phases.append((name: "total", milliseconds: image.phases.total * 1000))
        return JobResult(status: 200, body: bytes, phases: phases, report: outcome.report.json)
    }

    /// The HTTP status for a failed job, from the exit status and the line the engine printed.
    static func httpStatus(_ status: RunStatus, _ line: String) -> Int {
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

    /// A new folder only this user can enter (mkdtemp: mode 0700, a name nobody can guess),
    /// in `base`.
    static func makePrivateFolder(in base: String) -> String? {
        var template = Array((base + "/bandsaw-serve.XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
    }
}

/// The one line an image failed with, handed over from the engine's event.
final class LockedLine: @unchecked Sendable {
    private let lock = NSLock()
    private var line: String?

    func set(_ text: String) { lock.lock(); line = text; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return line }
}
