import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit
@testable import SPMDEngine

/// The real engine on an in-process world: one test's inputs and outputs in a folder of its
/// own, every rank's outcome, and what rank 0 reported.
struct EngineHarness {
    let folder: URL

    init(_ tag: String = "engine") throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("bandsaw-\(tag)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Writes `image` in `format` (encoded by bandsaw's own codecs) and returns its path.
    func write(_ image: Image, as name: String, format: ImageFormat, compressionLevel: Int = 1) throws -> String {
        let bytes = try encodeImage(image, format: format, options: EncodeOptions(compressionLevel: compressionLevel))
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// What one run did.
    struct Outcome {
        /// Every rank's status, by rank (nil where the rank threw instead).
        var statuses: [RunStatus?]
        /// What a rank threw, if any did.
        var thrown: [String]
        /// The lines rank 0 reported as failures.
        var failures: [String]
        /// Rank 0's report.
        var report: RunReport?

        /// Every rank ended with `status`.
        func allEnded(_ status: RunStatus) -> Bool { thrown.isEmpty && statuses.allSatisfy { $0 == status } }
    }

    /// Runs `jobs` on `ranks` in-process ranks.
    func run(_ jobs: [ImageJob], ranks: Int, settings: RunSettings, fault: FaultInjection? = nil) -> Outcome {
        let failures = LineLog()
        let events = RunEvents(failed: { failures.append($0) })
        let results = InProcessWorld.run(ranks: ranks, timeout: 30) { world in
            try SPMDRunner(world: world, settings: settings, events: events, fault: fault)
                .run(world.rank == 0 ? .jobs(jobs) : .worker)
        }
        var outcome = Outcome(statuses: [], thrown: [], failures: failures.lines, report: nil)
        for (rank, result) in results.enumerated() {
            switch result {
            case .success(let ran):
                outcome.statuses.append(ran.status)
                if rank == 0 { outcome.report = ran.report }
            case .failure(let error):
                outcome.statuses.append(nil)
                outcome.thrown.append("rank \(rank): \(error)")
            }
        }
        return outcome
    }

    /// One image through the engine: the output decoded, and the run's outcome.
    func process(_ input: String, to output: String, ranks: Int, settings: RunSettings,
                 fault: FaultInjection? = nil) -> (Image?, Outcome) {
        let outcome = run([ImageJob(input: input, output: output)], ranks: ranks, settings: settings, fault: fault)
        let image = try? readImage(path: output, maxPixels: ImageLimits.defaultMaxPixels)
        return (image, outcome)
    }

    /// The files in the folder, for "nothing partial left" checks.
    var files: [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? [] }
}

/// Lines appended from any rank's thread.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}
