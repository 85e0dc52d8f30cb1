import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit
@testable import SPMDEngine
import Testing

/// The committer thread: outputs appear whole, by rename, in the order handed over; a failed
/// rename fails that output alone and leaves no temporary file.
@Suite("Output committer: sync and rename off the image's path")
struct OutputCommitterTests {
    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("committer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("every output handed over is renamed into place with its bytes, in order; no temporary file stays",
          arguments: [1, 5, 40])
    func commitsInOrder(count: Int) throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let committer = OutputCommitter()
        defer { committer.stop() }
        var expected: [String: [UInt8]] = [:]
        var order: [String] = []
        for index in 0..<count {
            let output = dir.appendingPathComponent("out-\(index).bin").path
            let bytes = (0..<(index * 997 % 5000 + 1)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            let temporary = try writeTemporaryFile(bytes, for: output, sync: false)
            // Not in place until the committer says so.
            #expect(FileManager.default.fileExists(atPath: temporary))
            committer.submit(temporary, to: output)
            expected[output] = bytes
            order.append(output)
        }
        var completions = committer.take()
        completions += committer.takeAll()
        #expect(completions.map(\.output) == order)
        #expect(completions.allSatisfy { $0.failure == nil })
        #expect(committer.outstanding == 0)
        for (output, bytes) in expected { #expect(try readFileBytes(path: output) == bytes) }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names.count == count)
        #expect(!names.contains { $0.contains(".tmp-") })
    }

    @Test("a rename that fails fails that output only, with the write's line, and removes its temporary file")
    func failedRename() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let committer = OutputCommitter()
        defer { committer.stop() }
        let good = dir.appendingPathComponent("good.bin").path
        // A directory where the output should go: rename(2) cannot replace it with a file.
        let blocked = dir.appendingPathComponent("blocked.bin").path
        try FileManager.default.createDirectory(atPath: blocked + "/inside", withIntermediateDirectories: true)
        committer.submit(try writeTemporaryFile([1, 2, 3], for: blocked, sync: false), to: blocked)
        committer.submit(try writeTemporaryFile([4, 5], for: good, sync: false), to: good)
        let completions = committer.takeAll()
        #expect(completions.map(\.output) == [blocked, good])
        let line = try #require(completions[0].failure).message
        #expect(line.contains("blocked.bin") && line.contains("cannot write"))
        #expect(completions[1].failure == nil)
        #expect(try readFileBytes(path: good) == [4, 5])
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir.path)).contains { $0.contains(".tmp-") })
    }

    @Test("a batch of many images on one rank commits through the committer: every output whole, the report complete")
    func oneRankBatch() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var jobs: [ImageJob] = []
        for index in 0..<12 {
            let input = dir.appendingPathComponent("in-\(index).pgm").path
            let pixels = (0..<(17 * (9 + index))).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
            try writeFileAtomically(PNMCodec.encode(Image(width: 17, height: 9 + index, channels: 1, pixels: pixels)), path: input)
            jobs.append(ImageJob(input: input, output: dir.appendingPathComponent("out-\(index).pgm").path))
        }
        let settings = RunSettings(specs: [try FilterSpec(parsing: "sobel")])
        let list = jobs
        let results = InProcessWorld.run(ranks: 1, timeout: 60) { world in
            try BatchRunner(world: world, settings: settings).run(.jobs(list))
        }
        let outcome = try results[0].get()
        #expect(outcome.status == .success)
        #expect(outcome.report.batch?.count == jobs.count)
        #expect(outcome.report.batch?.allSatisfy { $0.status == "written" } == true)
        #expect(outcome.report.images.count == jobs.count)
        for job in jobs {
            let alone = dir.appendingPathComponent("alone.pgm").path
            _ = try SPMDRunner(world: SingleRank(), settings: settings).run(.jobs([ImageJob(input: job.input, output: alone)]))
            #expect(try readFileBytes(path: job.output) == readFileBytes(path: alone))
        }
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir.path)).contains { $0.contains(".tmp-") })
    }
}
