import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
@testable import SPMDEngine
import TestSupport
import Testing

/// A failure in any phase on any rank ends the image on every rank alike: one status, one line
/// from rank 0 naming the phase and the rank, and no output or temporary file left.
@Suite("Engine faults")
struct EngineFaultTests {
    static let phases = ["read", "decode", "scatter", "compute", "encode", "gather", "write"]

    @Test("a fault in each phase on each rank, for each sink", arguments: phases)
    func injected(phase: String) throws {
        let harness = try EngineHarness("fault")
        defer { harness.remove() }
        var rng = SeededRandom(seed: 9)
        let image = TestImages.random(width: 33, height: 300, channels: 3, using: &rng)
        let input = try harness.write(image, as: "in.png", format: .png)
        let ranks = 3
        for (output, settings) in [("out.png", RunSettings(specs: [try FilterSpec(parsing: "sobel")])),
                                   ("out.tif", RunSettings(specs: [try FilterSpec(parsing: "sobel")])),
                                   ("out.pnm", RunSettings(specs: [try FilterSpec(parsing: "sobel")], io: .mpiio))] {
            // PGM/PPM rows are written by every rank: nothing is gathered.
            if phase == "gather" && output == "out.pnm" { continue }
            for rank in 0..<ranks {
                let fault = FaultInjection("\(phase):\(rank)")!
                let (_, outcome) = harness.process(input, to: harness.path(output), ranks: ranks, settings: settings, fault: fault)
                let context = "\(phase) on rank \(rank), \(output)"
                #expect(outcome.allEnded(.failure), "\(context): \(outcome.statuses) \(outcome.thrown)")
                #expect(outcome.failures == ["\(phase) failed on rank \(rank): injected fault (BANDSAW_FAULT=\(phase):\(rank))"],
                        "\(context): \(outcome.failures)")
                #expect(harness.files == ["in.png"], "\(context): left \(harness.files)")
            }
        }
    }

    @Test("a bad file in a batch fails alone; the status is the worst over the images")
    func badFileInBatch() throws {
        let harness = try EngineHarness("batch")
        defer { harness.remove() }
        var rng = SeededRandom(seed: 4)
        let good = try harness.write(TestImages.random(width: 20, height: 30, channels: 3, using: &rng), as: "good.png", format: .png)
        let bad = harness.path("bad.png")
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: bad))
        let jobs = [ImageJob(input: good, output: harness.path("a.png")), ImageJob(input: bad, output: harness.path("b.png")),
                    ImageJob(input: good, output: harness.path("c.tif"))]
        let outcome = harness.run(jobs, ranks: 4, settings: RunSettings(specs: [try FilterSpec(parsing: "sobel")]))
        #expect(outcome.allEnded(.badImage))
        #expect(outcome.failures.count == 1 && outcome.failures[0].contains("bad.png"), "\(outcome.failures)")
        #expect(outcome.report?.images.map(\.output) == [harness.path("a.png"), harness.path("c.tif")])
        #expect(harness.files == ["a.png", "bad.png", "c.tif", "good.png"])
    }

    @Test("a refused job list ends every rank with its status and line")
    func refusedList() {
        let failures = LineLog()
        let results = InProcessWorld.run(ranks: 3) { world in
            try SPMDRunner(world: world, settings: RunSettings(specs: []), events: RunEvents(failed: { failures.append($0) }))
                .run(world.rank == 0 ? .refused(Failure(status: .usage, message: "two inputs, one output")) : .worker).status
        }
        #expect(results.map { try? $0.get() } == [.usage, .usage, .usage])
        #expect(failures.lines == ["two inputs, one output"])
    }
}

