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
    /// Several jobs with one descriptor follow, run as a batch (``ServeBatch``): the
    /// descriptor, then their count.
    case batch = 2
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
    /// `--max-pixels`, which a worker checks itself for the images dealt to it.
    let maxPixels: Int

    func run() throws -> ExitStatus {
        // Only rank 0 decides when the service ends; the launcher kills a worker it wants gone.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        while true {
            var word: [Int64] = [ServeWord.stop.rawValue]
            try world.broadcastWaiting(&word)
            guard let next = ServeWord(rawValue: word[0]), next != .stop else { return .success }
            var bytes: [UInt8] = []
            try world.broadcast(bytes: &bytes)
            let descriptor = try JSONDecoder().decode(JobDescriptor.self, from: Data(bytes))
            var settings = try descriptor.command().settings()
            settings.maxPixels = maxPixels
            if next == .batch {
                var count: [Int64] = [0]
                try world.broadcast(&count)
                _ = try BatchRunner(world: world, settings: settings, schedule: ServeBatch.schedule,
                                    fault: FaultInjection.fromEnvironment).run(.worker)
            } else {
                _ = try SPMDRunner(world: world, settings: settings, fault: FaultInjection.fromEnvironment).run(.worker)
            }
        }
    }
}

/// Runs one job on rank 0: the upload into a private folder, the engine over it as the command
/// line would run it, the output read back, the folder removed whatever happens.
enum JobRunner {
    static func run(_ request: JobRequest, maxPixels: Int, scratch: String, world: Communicator) throws -> JobResult {
        let stored = JobFolder.make(for: request, in: scratch)
        guard case .success(let job) = stored else {
            if case .failure(let failure) = stored { return failure.result }
            return .failure(500, "cannot store the upload")
        }
        defer { job.remove() }
        let folder = job.path, input = job.input, output = job.output
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
        var result = JobResult(status: 200, body: bytes, phases: phases(of: image), report: outcome.report.json)
        result.rank = "all"
        return result
    }

    /// The `Server-Timing` phases of `image`: each phase's slowest-rank time in ms, then the total.
    static func phases(of image: ImageReport) -> [(name: String, milliseconds: Double)] {
        var phases = Phase.allCases.map { (name: $0.name, milliseconds: image.phases.max[$0.rawValue] * 1000) }
        phases.append((name: "total", milliseconds: image.phases.total * 1000))
        return phases
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

/// A job's private folder on rank 0, holding its upload as `upload` and its output.
struct JobFolder {
    /// The folder (mode 0700).
    let path: String
    /// Where the job's output goes.
    let output: String
    /// The stored upload.
    var input: String { path + "/upload" }

    /// A job that could not be stored: the answer its client gets.
    struct Failure: Error { let result: JobResult }

    /// A new private folder in `scratch` with `request`'s upload stored in it.
    static func make(for request: JobRequest, in scratch: String) -> Result<JobFolder, Failure> {
        guard let path = JobRunner.makePrivateFolder(in: scratch) else {
            return .failure(Failure(result: .failure(500, "cannot create a temporary folder: \(String(cString: strerror(errno)))")))
        }
        let folder = JobFolder(path: path, output: path + "/output.\(request.format)")
        // A scratch file, read once and removed: no fsync (the engine syncs its output).
        guard let handle = FileHandle(forWritingAtPath: folder.input) ?? {
            FileManager.default.createFile(atPath: folder.input, contents: nil, attributes: [.posixPermissions: 0o600])
            return FileHandle(forWritingAtPath: folder.input)
        }(), (try? handle.write(contentsOf: request.upload)) != nil, (try? handle.close()) != nil else {
            folder.remove()
            return .failure(Failure(result: .failure(500, "cannot store the upload in \(scratch)")))
        }
        return .success(folder)
    }

    /// Removes the folder and everything in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// `line` with the folder's paths as the client knows them (its file is `upload`).
    func clientLine(_ line: String) -> String { line.replacingOccurrences(of: path + "/", with: "") }
}

/// The one line an image failed with, handed over from the engine's event.
final class LockedLine: @unchecked Sendable {
    private let lock = NSLock()
    private var line: String?

    func set(_ text: String) { lock.lock(); line = text; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return line }
}
