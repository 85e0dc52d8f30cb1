import Foundation
import ImageCodecs
import ImageCore
import TestSupport
import Testing

/// Jobs that wait together with one pipeline are dealt across the ranks as a batch: each gets
/// the one-process command line's bytes (or its own error), and more than one rank serves them.
extension ServeTests {
    /// Keeps the service busy with a slow job of a pipeline no burst uses, so that a burst sent
    /// meanwhile waits in the queue and is taken as batches; the blocker's reply comes back
    /// through `done`.
    static func block(_ service: ServeProcess, in folder: URL) throws -> DispatchGroup {
        let big = folder.appendingPathComponent("blocker.png")
        try writeImage(TestImages.stripes(width: 2400, height: 2400, channels: 3, seed: 11), path: big.path)
        let done = DispatchGroup()
        done.enter()
        DispatchQueue.global().async {
            let reply = try? service.process(big, "op=median:size=7&op=gaussian:sigma=3&format=png")
            #expect(reply?.status == 200, "the blocker: \(reply?.status ?? 0) \(reply?.text ?? "")")
            done.leave()
        }
        #expect(try service.waitUntilBusy(), "the blocker never ran")
        return done
    }

    /// Runs `body(0..<count)` on `count` threads at once (concurrentPerform would run only as
    /// many at a time as there are cores), and returns when all are done.
    static func allAtOnce(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for i in 0..<count {
            done.enter()
            Thread { body(i); done.leave() }.start()
        }
        done.wait()
    }

    /// `count` distinct JPEG photos-like inputs of about `width` x `height`.
    static func burstInputs(_ count: Int, width: Int, height: Int, in folder: URL) throws -> [URL] {
        try (0..<count).map { i in
            let url = folder.appendingPathComponent("in-\(i).jpg")
            try writeImage(TestImages.stripes(width: width + 8 * i, height: height + 4 * i, channels: 3, seed: UInt64(40 + i)),
                           path: url.path)
            return url
        }
    }

    @Test("a burst of 10 clients, one pipeline, one bad upload: dealt across 3 ranks, one-process bytes, the bad one its 4xx", .needsMPIRun)
    func burstDealt() throws {
        let service = try ServeProcess(ranks: 3)
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-burst")
        defer { Harness.cleanup(folder) }
        let bad = Harness.fixtures.appendingPathComponent("bad/truncated.png")
        var list = try Self.burstInputs(9, width: 320, height: 240, in: folder)
        list.insert(bad, at: 4)
        let inputs = list
        let query = "op=sobel&format=jpg"
        let blocker = try Self.block(service, in: folder)
        let replies = LockedReplies()
        Self.allAtOnce(inputs.count) { i in
            replies.set(i, try? service.process(inputs[i], query))
        }
        blocker.wait()

        var ranks: Set<String> = []
        for (i, input) in inputs.enumerated() where input != bad {
            let cli = try CommandLine1.run(input, format: "jpg", ["--op", "sobel"], in: folder, ranks: 1)
            let reply = replies.get(i)
            #expect(reply?.status == 200 && cli.bytes != nil && reply?.body == cli.bytes,
                    "\(input.lastPathComponent): \(reply?.status ?? 0) \(reply?.text.prefix(200) ?? "")")
            let timing = reply?.headers["server-timing"] ?? ""
            #expect(timing.contains("read;dur=") && timing.contains("total;dur="), "\(input.lastPathComponent): \(timing)")
            if let rank = reply?.headers["bandsaw-rank"] { ranks.insert(rank) }
        }
        // Dealt: more than one rank served the burst, and not only by banding.
        #expect(ranks.subtracting(["all"]).count >= 2, "ranks that served: \(ranks.sorted())")

        // The bad upload: the status and line it gets alone, and the command line's line.
        let failed = replies.get(4)
        let alone = try service.process(bad, query)
        #expect(failed?.status == 422 && failed?.status == alone.status, "\(failed?.status ?? 0) vs \(alone.status)")
        #expect(failed?.error != nil && failed?.error == alone.error, "\(failed?.text ?? "") vs \(alone.text)")
        #expect(failed?.error == (try Self.cliError(bad, format: "jpg", ["--op", "sobel"], in: folder)))
        #expect(failed?.headers["content-type"] == "application/json")

        // Nothing of the batch is left on disk, and the service still serves.
        #expect(service.leftovers.isEmpty, "\(service.leftovers)")
        #expect(try service.request("/v1/health").status == 200)
    }

    @Test("mixed pipelines in one burst: every job gets its own pipeline's bytes", .needsMPIRun)
    func burstMixedPipelines() throws {
        let service = try ServeProcess(ranks: 2)
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-mixed")
        defer { Harness.cleanup(folder) }
        let inputs = try Self.burstInputs(12, width: 256, height: 200, in: folder)
        // Three pipelines interleaved (two batches and a lone job), and two qualities of one
        // pipeline, which must not share a batch either.
        let queries = inputs.indices.map { i -> [String] in
            switch i % 4 {
            case 0: return ["sobel"]
            case 1: return ["invert", "box:size=3"]
            case 2: return i == 2 ? ["gaussian:sigma=1.5"] : ["sobel"]
            default: return ["invert", "box:size=3", "--quality", "60"]
            }
        }
        @Sendable func httpQuery(_ args: [String]) -> String {
            var parts: [String] = []
            var it = args.makeIterator()
            while let arg = it.next() {
                if arg == "--quality", let q = it.next() { parts.append("quality=" + q) } else { parts.append("op=" + arg) }
            }
            return (parts + ["format=jpg"]).joined(separator: "&")
        }
        let blocker = try Self.block(service, in: folder)
        let replies = LockedReplies()
        Self.allAtOnce(inputs.count) { i in
            replies.set(i, try? service.process(inputs[i], httpQuery(queries[i])))
        }
        blocker.wait()
        var dealt = 0
        for (i, input) in inputs.enumerated() {
            let args = queries[i].flatMap { $0 == "--quality" || Int($0) != nil ? [$0] : ["--op", $0] }
            let cli = try CommandLine1.run(input, format: "jpg", args, in: folder, ranks: 1)
            let reply = replies.get(i)
            #expect(reply?.status == 200 && cli.bytes != nil && reply?.body == cli.bytes,
                    "\(input.lastPathComponent) \(httpQuery(queries[i])): \(reply?.status ?? 0)")
            if let rank = reply?.headers["bandsaw-rank"], rank != "all" { dealt += 1 }
        }
        #expect(dealt >= 2, "no job of the burst was dealt")
        #expect(service.leftovers.isEmpty, "\(service.leftovers)")
    }

    /// Queues `inputs` (one pipeline) behind a blocker and waits until they run as one batch
    /// (all taken from the queue, the service busy); their replies arrive in `replies`. Whether
    /// the batch was seen running comes back with the group that ends with the replies.
    static func startBatch(_ service: ServeProcess, _ inputs: [URL], query: String, in folder: URL,
                           replies: LockedReplies) throws -> (group: DispatchGroup, running: Bool) {
        let blocker = try block(service, in: folder)
        let group = DispatchGroup()
        for (i, input) in inputs.enumerated() {
            group.enter()
            Thread { replies.set(i, try? service.process(input, query)); group.leave() }.start()
        }
        func health() -> [String: Any] {
            let reply = try? service.request("/v1/health", timeout: 5)
            return reply.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] } ?? [:]
        }
        let deadline = Date().addingTimeInterval(60)
        // Until all wait or the blocker is done (then those still arriving join the running batch).
        while (health()["queue"] as? Int ?? 0) < inputs.count && blocker.wait(timeout: .now()) == .timedOut
                && Date() < deadline { usleep(10_000) }
        blocker.wait()
        while Date() < deadline {
            let now = health()
            if now["queue"] as? Int == 0 && now["busy"] as? Bool == true { return (group, true) }
            usleep(5_000)
        }
        return (group, false)
    }

    @Test("a job arriving while a batch runs is dealt into it (not banded after it): one-process bytes; a bad upload then fails alone", .needsMPIRun)
    func lateJobsJoinRunningBatch() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-late")
        defer { Harness.cleanup(folder) }
        let query = "op=median:size=7&op=median:size=5&format=jpg"
        let args = ["--op", "median:size=7", "--op", "median:size=5"]
        // Fewer than --queue-length (16), so that none is refused.
        let inputs = try Self.burstInputs(14, width: 1000, height: 700, in: folder)
        let replies = LockedReplies()
        let blocker = try Self.block(service, in: folder)
        let group = DispatchGroup()
        for (i, input) in inputs.enumerated() {
            group.enter()
            Thread { replies.set(i, try? service.process(input, query)); group.leave() }.start()
        }
        blocker.wait()
        // The batch runs once its first answer is in (those still arriving join it).
        let deadline = Date().addingTimeInterval(60)
        while inputs.indices.allSatisfy({ replies.get($0) == nil }) && Date() < deadline { usleep(2_000) }
        let batchOpen = inputs.indices.filter { replies.get($0) == nil }.count
        #expect(batchOpen > 0 && batchOpen < inputs.count, "batch jobs open when the late ones began: \(batchOpen)")

        // A lone job sent now: if it waited for the batch to end it would run alone, banded
        // (Bandsaw-Rank: all); dealt into the running batch, one rank serves it. (A late job
        // goes to the end of the batch's queue, so it ends with the batch's last images.)
        let lateFolder = folder.appendingPathComponent("late")
        try FileManager.default.createDirectory(at: lateFolder, withIntermediateDirectories: true)
        let late = try Self.burstInputs(2, width: 300, height: 200, in: lateFolder)
        let first = try service.process(late[0], query)
        let openAfterFirst = inputs.indices.filter { replies.get($0) == nil }.count
        let rank = first.headers["bandsaw-rank"] ?? ""
        #expect(!rank.isEmpty && rank != "all", "the late job was served by '\(rank)', not dealt into the batch (batch jobs open after it: \(openAfterFirst))")

        // Then a bad upload and a good one at once, while the batch may still run: the bad one
        // gets the status and line it gets alone, the good one its bytes.
        let bad = Harness.fixtures.appendingPathComponent("bad/truncated.png")
        let pair = LockedReplies()
        Self.allAtOnce(2) { i in pair.set(i, try? service.process(i == 0 ? bad : late[1], query)) }
        group.wait()
        for (input, reply) in [(late[0], first), (late[1], pair.get(1))] {
            let cli = try CommandLine1.run(input, format: "jpg", args, in: folder, ranks: 1)
            #expect(reply?.status == 200 && cli.bytes != nil && reply?.body == cli.bytes,
                    "\(input.lastPathComponent): \(reply?.status ?? 0) \(reply?.text.prefix(200) ?? "")")
        }
        let failed = pair.get(0)
        #expect(failed?.status == 422, "\(failed?.status ?? 0) \(failed?.text ?? "")")
        let alone = try Self.cliError(bad, format: "jpg", args, in: folder)
        #expect(failed?.error != nil && failed?.error == alone, "\(failed?.text ?? "") vs \(alone ?? "")")
        for (i, input) in inputs.enumerated() {
            let cli = try CommandLine1.run(input, format: "jpg", args, in: folder, ranks: 1)
            let reply = replies.get(i)
            #expect(reply?.status == 200 && reply?.body == cli.bytes, "\(i): \(reply?.status ?? 0) \(reply?.text.prefix(200) ?? "")")
        }
        #expect(service.leftovers.isEmpty, "\(service.leftovers)")
        #expect(try service.request("/v1/health").status == 200)
    }

    @Test("SIGTERM to rank 0 mid-batch: every job of the batch is answered right, every rank exits 0", .needsMPIRun)
    func sigtermDrainsBatch() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-batch-drain")
        defer { Harness.cleanup(folder) }
        let inputs = try Self.burstInputs(8, width: 500, height: 400, in: folder)
        let replies = LockedReplies()
        let ranks = service.ranks
        let rank0 = try #require(service.rank0)
        let (group, running) = try Self.startBatch(service, inputs, query: "op=median:size=5&format=jpg", in: folder, replies: replies)
        #expect(running, "the batch was not seen running")
        let sent = Date()
        kill(rank0, SIGTERM)
        let status = service.wait(seconds: 15)
        let seconds = Date().timeIntervalSince(sent)
        group.wait()
        #expect(status == 0, "exit \(String(describing: status)): \(service.stderr)")
        #expect(seconds < 10, "took \(seconds) s")
        for (i, input) in inputs.enumerated() {
            let cli = try CommandLine1.run(input, format: "jpg", ["--op", "median:size=5"], in: folder, ranks: 1)
            let reply = replies.get(i)
            #expect(reply?.status == 200 && reply?.body == cli.bytes, "\(i): \(reply?.status ?? 0) \(reply?.text.prefix(200) ?? "")")
        }
        #expect(ServeProcess.alive(ranks).isEmpty, "ranks left: \(ranks)")
        #expect(service.leftovers.isEmpty, "left \(service.leftovers)")
    }

    @Test("a rank killed mid-batch: every job not yet done gets 503 with the node-lost line, the service exits non-zero", .needsMPIRun)
    func rankLostInBatch() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-batch-lost")
        defer { Harness.cleanup(folder) }
        let inputs = try Self.burstInputs(8, width: 500, height: 400, in: folder)
        let replies = LockedReplies()
        let ranks = service.ranks
        let rank0 = try #require(service.rank0)
        let victim = try #require(ranks.first { $0 != rank0 })
        let (group, running) = try Self.startBatch(service, inputs, query: "op=median:size=5&format=jpg", in: folder, replies: replies)
        #expect(running, "the batch was not seen running")
        let sent = Date()
        kill(victim, SIGKILL)
        group.wait()
        let answered = Date().timeIntervalSince(sent)
        let status = service.wait(seconds: 15)
        let statuses = inputs.indices.map { replies.get($0)?.status ?? 0 }
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        #expect(statuses.contains(503), "\(statuses)")
        for i in inputs.indices where statuses[i] == 503 {
            let line = replies.get(i)?.error ?? ""
            #expect(line.hasPrefix("node lost"), "\(i): \(line)")
        }
        #expect(answered < 5, "answered after \(answered) s")
        #expect(status != nil && status != 0, "exit \(String(describing: status))")
        #expect(ServeProcess.alive(ranks).isEmpty, "ranks left: \(ranks)")
    }
}
