import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit
@testable import SPMDEngine
import TestSupport
import Testing

/// Batches of images on the real engine and in-process ranks: the plan, the dealing, the
/// banded tail, rank 0's own share, and every output's bytes against a one-rank run.
@Suite("Engine batches: dealt and banded images")
struct EngineBatchTests {
    // MARK: - The plan

    @Test("bands, one image or one rank: everything banded, in order")
    func plansThatBand() {
        #expect(BatchPlan.make(sizes: [5, 9, 7], ranks: 3, schedule: .bands) == BatchPlan(dealt: [], banded: [0, 1, 2]))
        #expect(BatchPlan.make(sizes: [5 << 20], ranks: 4, schedule: .images) == BatchPlan(dealt: [], banded: [0]))
        #expect(BatchPlan.make(sizes: [5, 9, 7], ranks: 1, schedule: .auto) == BatchPlan(dealt: [], banded: [0, 1, 2]))
    }

    @Test("images: everything dealt, largest first (ties in batch order)")
    func planImages() {
        #expect(BatchPlan.make(sizes: [5, 9, 7, 9], ranks: 2, schedule: .images) == BatchPlan(dealt: [1, 3, 2, 0], banded: []))
    }

    @Test("auto: outsized files banded at the end, the rest dealt; fewer images than ranks banded")
    func planAuto() {
        let mib = 1 << 20
        let sizes = [300_000, 310_000, 64 * mib, 290_000, 305_000]
        #expect(BatchPlan.make(sizes: sizes, ranks: 2, schedule: .auto) == BatchPlan(dealt: [1, 4, 0, 3], banded: [2]))
        // Large but not outsized against the others: dealt.
        #expect(BatchPlan.make(sizes: [4 * mib, 5 * mib, 6 * mib], ranks: 2, schedule: .auto).banded.isEmpty)
        // Outsized but small in bytes: dealt (banding a small file costs more than it saves).
        #expect(BatchPlan.make(sizes: [1000, 1000, 1000, 100_000], ranks: 2, schedule: .auto).banded.isEmpty)
        // Three images, four ranks: dealing would leave a rank idle.
        #expect(BatchPlan.make(sizes: [10, 10, 10], ranks: 4, schedule: .auto) == BatchPlan(dealt: [], banded: [0, 1, 2]))
    }

    // MARK: - The dealer

    @Test("the dealer keeps every worker `ahead` images ahead and hands out each image once")
    func dealerHands() {
        var dealer = Dealer(images: Array(0..<10), ranks: 3, ahead: 2)
        let opening = dealer.opening()
        #expect(opening.map(\.rank) == [1, 2, 1, 2] && opening.map(\.image) == [0, 1, 2, 3])
        #expect(dealer.outstanding == [0, 2, 2])
        #expect(dealer.forRoot() == 4 && dealer.outstanding == [1, 2, 2])
        #expect(dealer.done(by: 2) == 5 && dealer.outstanding == [1, 2, 2])
        dealer.rootDone()
        var handed = [0, 1, 2, 3, 4, 5]
        while let next = dealer.done(by: 1) { handed.append(next) }
        #expect(handed == Array(0..<10) && dealer.remaining == 0 && !dealer.finished)
        // Rank 1 still holds the one it was working on; rank 2 its two.
        #expect(dealer.outstanding == [0, 1, 2])
        _ = dealer.done(by: 1); _ = dealer.done(by: 2); _ = dealer.done(by: 2)
        #expect(dealer.outstanding == [0, 0, 0] && dealer.finished)
        // Fewer images than places in the opening: the first workers get them, round by round.
        var short = Dealer(images: [7, 8], ranks: 4, ahead: 3)
        #expect(short.opening().map(\.rank) == [1, 2] && short.forRoot() == nil)
        // Two images, two ranks: one each, rank 0 keeps its own.
        var pair = Dealer(images: [0, 1], ranks: 2, ahead: 2)
        #expect(pair.opening().map(\.image) == [0] && pair.forRoot() == 1)
    }

    @Test("workers hold about 2 MiB of input ahead: 4 to 8 images")
    func aheadBySize() {
        #expect(BatchRunner.aheadFor(medianBytes: 450_000) == 4)
        #expect(BatchRunner.aheadFor(medianBytes: 300_000) == 6)
        #expect(BatchRunner.aheadFor(medianBytes: 2_000) == 8)
        #expect(BatchRunner.aheadFor(medianBytes: 64 << 20) == 4)
        #expect(BatchRunner.aheadFor(medianBytes: 0) == 8)
    }

    @Test("dealing is dynamic: a rank three times as fast gets about three times the images")
    func dealerIsDynamic() {
        // A simulated clock: each rank takes `cost[rank]` per image; rank 0 looks at the
        // reports only between its own images, as the runner does.
        let cost = [1.0, 1.0, 3.0]
        var dealer = Dealer(images: Array(0..<120), ranks: 3, ahead: 2)
        var running: [Double?] = [nil, nil, nil], held = [0, 0, 0], idleSince = [0.0, 0.0, 0.0]
        var count = [0, 0, 0], idle = [0.0, 0.0, 0.0], rootClock = 0.0
        func give(_ rank: Int, at time: Double) {
            if running[rank] == nil {
                idle[rank] += time - idleSince[rank]
                running[rank] = time + cost[rank]
            } else {
                held[rank] += 1
            }
        }
        for (rank, _) in dealer.opening() { give(rank, at: 0) }
        while !dealer.finished {
            // Workers finish what they can by rank 0's clock; their reports wait for rank 0.
            var reports: [Int] = []
            while let (rank, end) = (1...2).compactMap({ r in running[r].map { (r, $0) } }).min(by: { $0.1 < $1.1 }),
                  end <= rootClock {
                reports.append(rank)
                count[rank] += 1
                if held[rank] > 0 { held[rank] -= 1; running[rank] = end + cost[rank] } else { running[rank] = nil; idleSince[rank] = end }
            }
            for rank in reports { if dealer.done(by: rank) != nil { give(rank, at: rootClock) } }
            if dealer.forRoot() != nil {
                rootClock += cost[0]
                count[0] += 1
                dealer.rootDone()
            } else if let next = running.compactMap({ $0 }).min() {
                rootClock = max(rootClock, next)
            }
        }
        #expect(count.reduce(0, +) == 120)
        #expect(count[0] >= 45 && count[1] >= 45 && (15...20).contains(count[2]), "images by rank: \(count)")
        #expect(idle == [0, 0, 0], "a worker ran out of images while some remained: \(idle)")
    }

    // MARK: - The real engine

    /// A folder of images of random sizes (and formats), their outputs from a one-rank run, and
    /// the batch's jobs into `out-<tag>/`.
    struct Folder {
        let harness: EngineHarness
        var inputs: [String] = []

        init(seed: UInt64, count: Int, big: Bool = false) throws {
            harness = try EngineHarness("batch")
            var rng = SeededRandom(seed: seed)
            for i in 0..<count {
                let w = Int.random(in: 8...90, using: &rng), h = Int.random(in: 8...70, using: &rng)
                let image = TestImages.random(width: w, height: h, channels: [1, 3].randomElement(using: &rng)!, using: &rng)
                let format: ImageFormat = [.png, .jpeg, .pnm].randomElement(using: &rng)!
                inputs.append(try harness.write(image, as: String(format: "img%03d.%@", i, format == .jpeg ? "jpg" : format == .pnm ? "pnm" : "png"), format: format))
            }
            if big {
                // Random pixels do not compress: over 1 MiB of PNG, an outlier for auto.
                let image = TestImages.random(width: 700, height: 560, channels: 3, using: &rng)
                inputs.insert(try harness.write(image, as: "big.png", format: .png, compressionLevel: 0), at: count / 2)
            }
        }

        func jobs(_ tag: String) throws -> [ImageJob] {
            try FileManager.default.createDirectory(atPath: harness.path("out-\(tag)"), withIntermediateDirectories: true)
            return inputs.map { ImageJob(input: $0, output: harness.path("out-\(tag)/" + ($0 as NSString).lastPathComponent + ".png")) }
        }

        func bytes(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map(Array.init) }

        /// A dealt image's output has the one-rank run's bytes; a banded one its pixels (PNG
        /// pieces deflated on several ranks are other bytes for the same pixels).
        func same(_ output: String, as reference: String, banded: Bool) -> Bool {
            guard let mine = bytes(output), let theirs = bytes(reference) else { return false }
            if mine == theirs { return true }
            guard banded else { return false }
            return (try? readImage(path: output)) == (try? readImage(path: reference))
        }
    }

    static let sobel = RunSettings(specs: [try! FilterSpec(parsing: "sobel")])

    @Test("every schedule on 1-4 ranks: dealt outputs byte-identical to one rank, banded ones pixel-identical; rank 0 works too",
          arguments: [Schedule.images, .auto, .bands])
    func batches(schedule: Schedule) throws {
        let folder = try Folder(seed: 31, count: 14)
        defer { folder.harness.remove() }
        let reference = try folder.jobs("one")
        #expect(folder.harness.run(reference, ranks: 1, settings: Self.sobel).allEnded(.success))
        for ranks in 1...4 {
            let jobs = try folder.jobs("\(schedule.rawValue)\(ranks)")
            let outcome = runBatch(jobs, ranks: ranks, schedule: schedule)
            #expect(outcome.allEnded(.success), "\(ranks) ranks: \(outcome.thrown) \(outcome.failures)")
            let batch = outcome.report?.batch ?? []
            for (job, one) in zip(jobs, reference) {
                let banded = batch.first { $0.input == job.input }?.schedule == "banded"
                #expect(folder.same(job.output, as: one.output, banded: banded), "\(schedule) on \(ranks) ranks: \(job.output)")
            }
            #expect(batch.map(\.input).sorted() == jobs.map(\.input).sorted(), "each image once")
            #expect(outcome.report?.images.count == jobs.count)
            let load = outcome.report?.rank_load ?? []
            #expect(load.map(\.images).reduce(0, +) == (schedule == .bands || ranks == 1 ? jobs.count * ranks : jobs.count))
            if schedule != .bands && ranks > 1 {
                #expect(batch.allSatisfy { $0.schedule == "dealt" && $0.input_access == "read" && $0.output_access == "wrote" })
                // Every rank, rank 0 included, processed images.
                #expect(load.allSatisfy { $0.images > 0 }, "\(ranks) ranks: \(load)")
            } else {
                #expect(batch.allSatisfy { $0.schedule == "banded" })
            }
        }
    }

    @Test("auto bands the outsized image at the end, across all ranks")
    func tailBanded() throws {
        let folder = try Folder(seed: 5, count: 8, big: true)
        defer { folder.harness.remove() }
        let reference = try folder.jobs("one")
        #expect(folder.harness.run(reference, ranks: 1, settings: Self.sobel).allEnded(.success))
        let jobs = try folder.jobs("auto")
        let outcome = runBatch(jobs, ranks: 3, schedule: .auto)
        #expect(outcome.allEnded(.success), "\(outcome.thrown) \(outcome.failures)")
        let batch = outcome.report?.batch ?? []
        // Entries are in the order images were done (renamed), so rank 0's last dealt images,
        // whose syncs finish while the big one is banded, may come after it: look them up by name.
        let big = batch.filter { $0.input.hasSuffix("big.png") }
        #expect(big.count == 1 && big.first?.schedule == "banded" && big.first?.rank == 0, "\(batch.map(\.input))")
        #expect(batch.filter { !$0.input.hasSuffix("big.png") }.allSatisfy { $0.schedule == "dealt" })
        #expect(batch.count == jobs.count)
        // The banded image counts on every rank, each dealt one on its own rank only.
        let load = outcome.report?.rank_load ?? []
        #expect(load.count == 3 && load.map(\.images).reduce(0, +) == jobs.count - 1 + 3, "\(load)")
        for (job, one) in zip(jobs, reference) {
            #expect(folder.same(job.output, as: one.output, banded: job.input.hasSuffix("big.png")), "\(job.output)")
        }
    }

    @Test("a bad file in a dealt batch fails alone, named once; the status is the worst; nothing partial")
    func badFilesDealt() throws {
        var folder = try Folder(seed: 12, count: 9)
        defer { folder.harness.remove() }
        let bad = folder.harness.path("broken.png")
        try Data("not an image at all".utf8).write(to: URL(fileURLWithPath: bad))
        folder.inputs.insert(bad, at: 4)
        folder.inputs.append(folder.harness.path("missing.png"))
        let jobs = try folder.jobs("bad")
        for ranks in [2, 4] {
            let outcome = runBatch(jobs, ranks: ranks, schedule: .images)
            #expect(outcome.allEnded(.badImage), "\(ranks) ranks: \(outcome.statuses) \(outcome.thrown)")
            #expect(outcome.failures.count == 2, "\(outcome.failures)")
            #expect(outcome.failures.contains { $0.contains("broken.png") } && outcome.failures.contains { $0.contains("missing.png") })
            let outputs = (try FileManager.default.contentsOfDirectory(atPath: folder.harness.path("out-bad"))).sorted()
            #expect(outputs == folder.inputs.filter { !$0.contains("broken") && !$0.contains("missing") }
                .map { ($0 as NSString).lastPathComponent + ".png" }.sorted(), "\(outputs)")
            let failed = outcome.report?.batch?.filter { $0.status == "failed" }.map(\.input).sorted()
            #expect(failed == [bad, folder.harness.path("missing.png")].sorted())
            for file in outputs { try FileManager.default.removeItem(atPath: folder.harness.path("out-bad/" + file)) }
        }
    }

    @Test("a fault on a worker's image fails that image only, naming the worker's rank")
    func workerFault() throws {
        let folder = try Folder(seed: 77, count: 6)
        defer { folder.harness.remove() }
        let jobs = try folder.jobs("fault")
        let outcome = runBatch(jobs, ranks: 3, schedule: .images, fault: FaultInjection("compute:2"))
        #expect(outcome.allEnded(.failure), "\(outcome.statuses) \(outcome.thrown)")
        let failed = outcome.report?.batch?.filter { $0.status == "failed" } ?? []
        #expect(!failed.isEmpty && failed.allSatisfy { $0.rank == 2 })
        #expect(outcome.failures.count == failed.count && outcome.failures.allSatisfy { $0.hasPrefix("compute failed on rank 2:") },
                "\(outcome.failures)")
        #expect(outcome.report?.batch?.filter { $0.status == "written" }.count == jobs.count - failed.count)
    }

    @Test("the deal messages travel intact")
    func wire() throws {
        let job = ImageJob(input: "/data/ä b.jpg", output: "/out/x.png")
        let order = DealOrder.job(index: 7, job: job, fingerprint: FileFingerprint(size: 12, hash: .max - 3),
                                  bytes: [1, 2, 3], writesOutput: true)
        guard case .job(let index, let back, let print, let bytes, let writes) = try DealOrder(wire: order.wire) else {
            Issue.record("not a job"); return
        }
        #expect(index == 7 && back == job && print == FileFingerprint(size: 12, hash: .max - 3) && bytes == [1, 2, 3] && writes)
        let report = DealReport(index: 3, outcome: .failed, status: .badImage, message: "bad", seconds: 0.25,
                                readItself: true, report: [9], output: [])
        let read = try DealReport(wire: report.wire)
        #expect(read.index == 3 && read.outcome == .failed && read.status == .badImage && read.message == "bad"
                && read.seconds == 0.25 && read.readItself && read.report == [9] && read.output == [])
        #expect(throws: DealError.self) { try DealOrder(wire: Array(order.wire.prefix(20))) }
    }

    /// `jobs` through ``BatchRunner`` on `ranks` in-process ranks.
    func runBatch(_ jobs: [ImageJob], ranks: Int, schedule: Schedule, fault: FaultInjection? = nil) -> EngineHarness.Outcome {
        let failures = LineLog()
        let events = RunEvents(failed: { failures.append($0) })
        let results = InProcessWorld.run(ranks: ranks, timeout: 60) { world in
            try BatchRunner(world: world, settings: Self.sobel, schedule: schedule, events: events, fault: fault)
                .run(world.rank == 0 ? .jobs(jobs) : .worker)
        }
        var outcome = EngineHarness.Outcome(statuses: [], thrown: [], failures: failures.lines, report: nil)
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
}
