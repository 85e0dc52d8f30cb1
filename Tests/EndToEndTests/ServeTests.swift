import Foundation
import ImageCodecs
import ImageCore
import TestSupport
import Testing

/// `bandsaw serve` under real mpirun, spoken to with a real HTTP client (curl): every route,
/// the command line's bytes for every format, every error status with its line, hostile
/// uploads, concurrent clients, the token rule, SIGTERM, a rank killed mid-job.
@Suite(.serialized)
struct ServeTests {
    static let photo = Harness.fixtures.appendingPathComponent("photos/astronaut-256.png")

    /// The CLI's error line for `input`, with its path as the service names an upload.
    static func cliError(_ input: URL, format: String = "png", _ args: [String], in folder: URL) throws -> String? {
        try CommandLine1.run(input, format: format, args, in: folder).error?.replacingOccurrences(of: input.path, with: "upload")
    }

    @Test("GET /v1/health, /v1/ops (bandsaw ops --json), /metrics (Prometheus text), / (the page)", .needsMPIRun)
    func routes() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let health = try service.request("/v1/health")
        #expect(health.status == 200)
        let fields = try #require(try JSONSerialization.jsonObject(with: health.body) as? [String: Any])
        #expect(fields["ranks"] as? Int == 2)
        #expect(fields["queue"] as? Int == 0)
        #expect(fields["status"] as? String == "ok")
        #expect((fields["version"] as? String)?.isEmpty == false)

        let ops = try service.request("/v1/ops")
        #expect(ops.status == 200)
        #expect(ops.headers["content-type"] == "application/json")
        let cli = try Harness.bandsaw(["ops", "--json"])
        #expect(ops.text == cli.stdout.trimmingCharacters(in: .newlines))

        let ok = try service.process(Self.photo, "op=sobel&format=png")
        #expect(ok.status == 200)
        let bad = try service.process(Harness.fixtures.appendingPathComponent("bad/notes.txt"), "format=png")
        #expect(bad.status == 415)
        let metrics = try service.request("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        let text = metrics.text
        #expect(text.contains(#"bandsaw_jobs_total{outcome="ok"} 1"#), "\(text)")
        #expect(text.contains(#"bandsaw_jobs_total{outcome="unsupported"} 1"#), "\(text)")
        let inBytes = try Data(contentsOf: Self.photo).count + Data(contentsOf: Harness.fixtures.appendingPathComponent("bad/notes.txt")).count
        #expect(text.contains("bandsaw_bytes_in_total \(inBytes)"), "\(text)")
        #expect(text.contains("bandsaw_bytes_out_total \(ok.body.count)"), "\(text)")
        for phase in ["read", "compute", "encode", "gather", "write", "total"] {
            #expect(text.contains(#"bandsaw_phase_seconds_count{phase="\#(phase)"} 1"#), "\(phase): \(text)")
        }
        #expect(text.contains("bandsaw_queue_length 0"), "\(text)")

        let page = try service.request("/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("/v1/process") && page.text.contains("/v1/ops"))
    }

    @Test("every output format: the service's bytes are the command line's, with Server-Timing", .needsMPIRun)
    func byteEquality() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-bytes")
        defer { Harness.cleanup(folder) }
        // A JPEG input too (decoded on rank 0, EXIF turned upright), from the photo.
        let jpeg = folder.appendingPathComponent("photo.jpg")
        try writeImage(try readImage(path: Self.photo.path), path: jpeg.path)
        let cases: [(URL, String, [String])] = [
            (Self.photo, "png", ["sobel"]), (Self.photo, "png", ["gaussian:sigma=2", "sobel"]),
            (Self.photo, "jpg", ["sharpen"]), (jpeg, "jpeg", ["box:size=5"]),
            (Self.photo, "pgm", ["grayscale"]), (Self.photo, "ppm", ["invert"]),
            (Self.photo, "tif", ["median:size=3"]), (jpeg, "webp", ["sobel"]),
            (Harness.fixtures.appendingPathComponent("variants/rgba8.png"), "png", ["invert"]),
            (Harness.fixtures.appendingPathComponent("variants/gray16.pgm"), "png", ["threshold:value=100"]),
        ]
        for (input, format, ops) in cases {
            let query = (ops.map { "op=" + $0 } + ["format=" + format]).joined(separator: "&")
            let reply = try service.process(input, query)
            let cli = try CommandLine1.run(input, format: format, ops.flatMap { ["--op", $0] }, in: folder)
            #expect(reply.status == 200, "\(query): \(reply.status) \(reply.text)")
            #expect(cli.bytes != nil && reply.body == cli.bytes, "\(input.lastPathComponent) \(query): bytes differ")
            let timing = reply.headers["server-timing"] ?? ""
            #expect(timing.contains("read;dur=") && timing.contains("total;dur="), "\(query): \(timing)")
        }
        // Quality reaches the encoder as on the command line.
        for (format, quality) in [("jpg", 40), ("webp", 75)] {
            let reply = try service.process(Self.photo, "format=\(format)&quality=\(quality)")
            let cli = try CommandLine1.run(Self.photo, format: format, ["--quality", String(quality)], in: folder)
            #expect(reply.status == 200 && reply.body == cli.bytes, "\(format) quality \(quality)")
        }
        #expect(try service.process(Self.photo, "format=jpg").headers["content-type"] == "image/jpeg")
        #expect(try service.process(Self.photo, "format=webp").headers["content-type"] == "image/webp")
    }

    @Test("400, 413, 415, 422: JSON with the command line's line; the service keeps serving", .needsMPIRun)
    func errorStatuses() throws {
        let service = try ServeProcess(["--max-upload-bytes", "200000", "--max-pixels", "100000"])
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-errors")
        defer { Harness.cleanup(folder) }
        let bad = Harness.fixtures.appendingPathComponent("bad")

        // Usage: the same words as the command line's.
        for (query, args) in [("op=nope", ["--op", "nope"]), ("op=box:size=4", ["--op", "box:size=4"]),
                              ("op=gaussian:sigma=99", ["--op", "gaussian:sigma=99"]), ("quality=0", ["--quality", "0"]),
                              ("quality=high", ["--quality", "high"])] {
            let reply = try service.process(Self.photo, query)
            #expect(reply.status == 400, "\(query): \(reply.status)")
            #expect(reply.headers["content-type"] == "application/json")
            #expect(reply.error == (try Self.cliError(Self.photo, args, in: folder)), "\(query): \(reply.text)")
        }
        let format = try service.process(Self.photo, "format=gif")
        #expect(format.status == 400 && format.error?.contains("unknown output format") == true, "\(format.text)")
        #expect(format.error == ImageError.unknownOutputFormat(path: "output.gif").description)
        #expect(try service.process(Self.photo, "colour=red").status == 400)

        // Too large: the upload's bytes (while reading) and the header's pixels (the engine's check).
        let big = folder.appendingPathComponent("big.bin")
        try Data(repeating: 7, count: 300_000).write(to: big)
        let tooMany = try service.process(big, "format=png")
        #expect(tooMany.status == 413 && tooMany.error?.contains("--max-upload-bytes") == true, "\(tooMany.text)")
        let wide = folder.appendingPathComponent("wide.png")
        try writeImage(TestImages.stripes(width: 400, height: 300, channels: 1, seed: 3), path: wide.path)
        let pixels = try service.process(wide, "format=png")
        #expect(pixels.status == 413, "\(pixels.text)")
        #expect(pixels.error == (try Self.cliError(wide, ["--max-pixels", "100000"], in: folder)), "\(pixels.text)")

        // Not an image, an unsupported format, corrupt and truncated files: the CLI's lines.
        for (name, status) in [("notes.txt", 415), ("tiny.gif", 415), ("empty.png", 415), ("ascii.pgm", 415),
                               ("truncated.png", 422), ("truncated.ppm", 422), ("garbage-idat.png", 422),
                               ("bad-crc.png", 422), ("bomb.png", 413), ("signature-only.png", 422)] {
            let input = bad.appendingPathComponent(name)
            let reply = try service.process(input, "format=png")
            let expected = try Self.cliError(input, ["--max-pixels", "100000"], in: folder)
            #expect(reply.status == status, "\(name): \(reply.status) \(reply.text)")
            #expect(reply.error == expected, "\(name): \(reply.text) vs \(expected ?? "success")")
        }
        let health = try service.request("/v1/health")
        #expect(health.status == 200)
        let small = folder.appendingPathComponent("small.png")
        try writeImage(TestImages.stripes(width: 100, height: 90, channels: 3, seed: 5), path: small.path)
        #expect(try service.process(small, "format=png").status == 200)
    }

    @Test("429 when the queue is full, 503 when a job outlives --request-timeout", .needsMPIRun)
    func queueFullAndTimeout() throws {
        // Rank 1 holds every job's compute phase for 60 s (the BANDSAW_FAULT testing aid).
        let service = try ServeProcess(["--queue-length", "1", "--request-timeout", "3"],
                                       environment: ["BANDSAW_FAULT": "compute:1:stall"])
        defer { service.stop() }
        let group = DispatchGroup()
        nonisolated(unsafe) var first: ServeProcess.Reply? = nil, second: ServeProcess.Reply? = nil
        DispatchQueue.global().async(group: group) { first = try? service.process(Self.photo, "format=png") }
        #expect(try service.waitUntilBusy())
        DispatchQueue.global().async(group: group) { second = try? service.process(Self.photo, "format=png") }
        // The second waits in the queue; a third finds it full.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let health = try service.request("/v1/health")
            if (try? JSONSerialization.jsonObject(with: health.body) as? [String: Any])?["queue"] as? Int == 1 { break }
            usleep(20_000)
        }
        let third = try service.process(Self.photo, "format=png")
        #expect(third.status == 429, "\(third.text)")
        #expect(third.error?.contains("queue is full") == true)
        group.wait()
        #expect(first?.status == 503 && first?.error?.contains("--request-timeout") == true, "\(first?.text ?? "")")
        #expect(second?.status == 503 && second?.error?.contains("--request-timeout") == true, "\(second?.text ?? "")")
        #expect(try service.request("/v1/health").status == 200)
    }

    @Test("hostile uploads: truncated, random bytes, header bombs, lying chunk lengths; HTTP header bombs; the service stays healthy", .needsMPIRun)
    func hostileUploads() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-hostile")
        defer { Harness.cleanup(folder) }
        let png = try Data(contentsOf: Self.photo)
        let jpegURL = folder.appendingPathComponent("photo.jpg")
        try writeImage(try readImage(path: Self.photo.path), path: jpegURL.path)
        let jpeg = try Data(contentsOf: jpegURL)
        var cases: [(String, Data)] = []
        for cut in [8, 33, 100, png.count / 2, png.count - 13] { cases.append(("png cut at \(cut)", png.prefix(cut))) }
        for cut in [2, 20, jpeg.count / 3, jpeg.count - 2] { cases.append(("jpeg cut at \(cut)", jpeg.prefix(cut))) }
        var generator = SystemRandomNumberGenerator()
        for size in [1, 17, 4096, 100_000] {
            cases.append(("\(size) random bytes", Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })))
        }
        // Random bytes after each format's signature.
        for magic in [[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], [0xFF, 0xD8, 0xFF], [0x49, 0x49, 0x2A, 0x00],
                      Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8).map(Int.init), Array("P6\n".utf8).map(Int.init)] {
            cases.append(("signature \(magic.prefix(4)) + noise", Data(magic.map(UInt8.init) + (0..<3000).map { _ in UInt8.random(in: 0...255, using: &generator) })))
        }
        // Header bombs: dimensions far over any limit, in each format.
        var ihdr = Array(png.prefix(33))
        ihdr.replaceSubrange(16..<24, with: [0x00, 0x0F, 0x42, 0x40, 0x00, 0x0F, 0x42, 0x40])  // 1000000 x 1000000
        cases.append(("png 1e6 x 1e6 header", Data(ihdr + png.dropFirst(33))))
        cases.append(("ppm 1e6 x 1e6 header", Data("P6\n1000000 1000000\n255\n".utf8) + Data(count: 300)))
        // A chunk length that lies: 2 GiB announced, a few bytes sent.
        var lying = Array(png.prefix(33))
        lying += [0x7F, 0xFF, 0xFF, 0xFF] + Array("IDAT".utf8) + [1, 2, 3, 4, 5, 6, 7, 8]
        cases.append(("png with a 2 GiB IDAT length", Data(lying)))
        for (name, bytes) in cases {
            let file = folder.appendingPathComponent("hostile.bin")
            try bytes.write(to: file)
            let reply = try service.process(file, "format=png")
            #expect((400...499).contains(reply.status), "\(name): \(reply.status) \(reply.text)")
            #expect(reply.error?.isEmpty == false, "\(name): \(reply.text)")
        }
        // HTTP header bombs: too many bytes of headers, a huge declared body.
        let bomb = try service.request("/v1/health", headers: ["X-Bomb: " + String(repeating: "a", count: 40_000)])
        #expect((400...499).contains(bomb.status) || bomb.status == 0, "header bomb: \(bomb.status)")
        let declared = try Harness.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Length: 99999999999",
                                        "-X", "POST", "--max-time", "10", service.url + "/v1/process?format=png"], timeout: 20)
        #expect(declared.stdout == "413", "declared body: \(declared.stdout) \(declared.stderr)")
        #expect(try service.request("/v1/health").status == 200)
        let good = try service.process(Self.photo, "format=png")
        #expect(good.status == 200)
        // Nothing of the requests is left behind in the temporary folder.
        #expect(service.leftovers.isEmpty, "left \(service.leftovers)")
    }

    @Test("8 concurrent clients, different pipelines: every answer is the command line's", .needsMPIRun)
    func concurrentClients() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-concurrent")
        defer { Harness.cleanup(folder) }
        let pipelines = ["sobel", "invert", "gaussian:sigma=1.5", "median:size=5", "box:size=3", "sharpen", "grayscale", "emboss"]
        let replies = LockedReplies()
        DispatchQueue.concurrentPerform(iterations: pipelines.count) { i in
            let input = i % 2 == 0 ? Self.photo : Harness.fixtures.appendingPathComponent("photos/coffee-256.png")
            replies.set(i, try? service.process(input, "op=\(pipelines[i])&format=png"))
        }
        for (i, op) in pipelines.enumerated() {
            let input = i % 2 == 0 ? Self.photo : Harness.fixtures.appendingPathComponent("photos/coffee-256.png")
            let cli = try CommandLine1.run(input, format: "png", ["--op", op], in: folder)
            let reply = replies.get(i)
            #expect(reply?.status == 200 && reply?.body == cli.bytes, "\(op): \(reply?.status ?? 0)")
        }
    }

    final class LockedReplies: @unchecked Sendable {
        private let lock = NSLock()
        private var replies: [Int: ServeProcess.Reply] = [:]
        func set(_ i: Int, _ reply: ServeProcess.Reply?) { lock.lock(); replies[i] = reply; lock.unlock() }
        func get(_ i: Int) -> ServeProcess.Reply? { lock.lock(); defer { lock.unlock() }; return replies[i] }
    }

    @Test("another address without --token-file: exit 2, one line; with a token: 401 without it, 200 with it", .needsMPIRun)
    func tokenRule() throws {
        for args in [["--host", "0.0.0.0"], ["--host", "10.96.0.1", "--port", "0"]] {
            let refused = try Harness.mpirun(2, ["serve"] + args, timeout: 60)
            #expect(refused.status == 2, "\(args): exit \(refused.status)")
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("error: --host") && lines[0].contains("--token-file"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
        let folder = try Harness.temporaryFolder("serve-token")
        defer { Harness.cleanup(folder) }
        let empty = folder.appendingPathComponent("empty-token")
        try Data().write(to: empty)
        let noToken = try Harness.mpirun(2, ["serve", "--port", "0", "--token-file", empty.path], timeout: 60)
        #expect(noToken.status == 2 && noToken.stderr.split(separator: "\n").count == 1, "\(noToken.stderr)")

        let tokenFile = folder.appendingPathComponent("token")
        try Data("s3cret-token-value\n".utf8).write(to: tokenFile)
        let service = try ServeProcess(["--token-file", tokenFile.path])
        defer { service.stop() }
        for headers in [[], ["Authorization: Bearer wrong"], ["Authorization: Bearer s3cret-token-valu"],
                        ["Authorization: Bearer s3cret-token-value-and-more"], ["Authorization: s3cret-token-value"]] {
            #expect(try service.request("/v1/health", headers: headers).status == 401, "\(headers)")
            let reply = try service.process(Self.photo, "format=png", headers: headers)
            #expect(reply.status == 401 && reply.error?.contains("Bearer") == true, "\(headers): \(reply.text)")
        }
        let auth = ["Authorization: Bearer s3cret-token-value"]
        #expect(try service.request("/v1/health", headers: auth).status == 200)
        #expect(try service.request("/metrics", headers: auth).status == 200)
        #expect(try service.process(Self.photo, "format=png", headers: auth).status == 200)
        #expect(try service.request("/").status == 200)  // the page itself asks for the token
    }

    @Test("bandsaw submit and run.sh --server: the command line's bytes, the service's phases, its error lines and exit codes", .needsMPIRun)
    func client() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-client")
        defer { Harness.cleanup(folder) }
        let coffee = Harness.fixtures.appendingPathComponent("photos/coffee-256.png")
        let out = folder.appendingPathComponent("edges.jpg")
        let r = try Harness.bandsaw(["submit", service.url, coffee.path, "-o", out.path, "--op", "gaussian:sigma=1.5",
                                     "--op", "sobel", "--quality", "70"])
        #expect(r.status == 0, "\(r.stderr)")
        let cli = try CommandLine1.run(coffee, format: "jpg", ["--op", "gaussian:sigma=1.5", "--op", "sobel", "--quality", "70"], in: folder)
        #expect(try Data(contentsOf: out) == cli.bytes)
        #expect(r.stdout.contains("via \(service.url)") && r.stdout.contains("compute") && r.stdout.contains("round trip"), "\(r.stdout)")

        // Several images into a folder, each under its own name.
        let many = folder.appendingPathComponent("many")
        let batch = try Harness.bandsaw(["submit", service.url, Self.photo.path, coffee.path, "-o", many.path, "--quiet"])
        #expect(batch.status == 0 && batch.stdout.isEmpty, "\(batch.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: many.path).sorted()
        #expect(names == ["astronaut-256.png", "coffee-256.png"])

        // Errors: the service's line with the file's own name, the command line's exit codes.
        let notes = Harness.fixtures.appendingPathComponent("bad/notes.txt")
        let bad = try Harness.bandsaw(["submit", service.url, notes.path, "-o", folder.appendingPathComponent("x.png").path])
        #expect(bad.status == 3 && bad.stderr == "error: \(notes.path): not an image (bandsaw reads PNG, PGM, PPM, JPEG, TIFF and WebP)\n",
                "\(bad.status) \(bad.stderr)")
        let usage = try Harness.bandsaw(["submit", service.url, coffee.path, "-o", folder.appendingPathComponent("x.png").path, "--op", "nope"])
        #expect(usage.status == 2 && usage.stderr.hasPrefix("error: unknown filter 'nope'"), "\(usage.stderr)")
        let down = try Harness.bandsaw(["submit", "http://127.0.0.1:1", coffee.path, "-o", folder.appendingPathComponent("x.png").path])
        #expect(down.status == 1 && down.stderr.split(separator: "\n").count == 1, "\(down.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.png").path))

        // run.sh --server: the same bytes, through the script.
        var env = Harness.environment
        env["BANDSAW_BIN"] = Harness.executable
        let viaScript = folder.appendingPathComponent("script.png")
        let script = try Harness.run([Harness.packageRoot.appendingPathComponent("run.sh").path, coffee.path, "--server", service.url,
                                      "-o", viaScript.path, "--no-show", "--op", "invert"], environment: env)
        #expect(script.status == 0, "\(script.stderr)")
        let inverted = try CommandLine1.run(coffee, format: "png", ["--op", "invert"], in: folder)
        #expect(try Data(contentsOf: viaScript) == inverted.bytes)
        #expect(script.stdout.contains("output: \(viaScript.path)"), "\(script.stdout)")
    }

    @Test("SIGTERM to rank 0 mid-job: the job is answered, new ones refused, every rank exits 0 within 10 s", .needsMPIRun)
    func sigtermDrains() throws {
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-drain")
        defer { Harness.cleanup(folder) }
        // A job long enough to be caught running: 1 MP through a 5x5 median.
        let input = folder.appendingPathComponent("large.png")
        try writeImage(TestImages.stripes(width: 1000, height: 1000, channels: 3, seed: 9), path: input.path)
        let query = "op=median:size=5&format=png"
        let ranks = service.ranks
        let rank0 = try #require(service.rank0)
        nonisolated(unsafe) var reply: ServeProcess.Reply? = nil
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { reply = try? service.process(input, query) }
        #expect(try service.waitUntilBusy())
        let sent = Date()
        kill(rank0, SIGTERM)
        let status = service.wait(seconds: 15)
        let seconds = Date().timeIntervalSince(sent)
        group.wait()
        #expect(status == 0, "exit \(String(describing: status)): \(service.stderr)")
        #expect(seconds < 10, "took \(seconds) s")
        let cli = try CommandLine1.run(input, format: "png", ["--op", "median:size=5"], in: folder)
        #expect(reply?.status == 200 && reply?.body == cli.bytes, "the job in progress: \(reply?.status ?? 0) \(reply?.text.prefix(200) ?? "")")
        #expect(ServeProcess.alive(ranks).isEmpty, "ranks left: \(ranks)")
        #expect(service.leftovers.isEmpty, "left \(service.leftovers)")
    }

    @Test("a rank killed mid-job: 503 with the node-lost line, the service exits non-zero within seconds", .needsMPIRun)
    func rankLost() throws {
        // Rank 1 holds the compute phase open, so the kill lands mid-job.
        let service = try ServeProcess(environment: ["BANDSAW_FAULT": "compute:1:stall"])
        defer { service.stop() }
        let ranks = service.ranks
        let rank0 = try #require(service.rank0)
        let victim = try #require(ranks.first { $0 != rank0 })
        nonisolated(unsafe) var reply: ServeProcess.Reply? = nil
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { reply = try? service.process(Self.photo, "format=png") }
        #expect(try service.waitUntilBusy())
        let sent = Date()
        kill(victim, SIGKILL)
        group.wait()
        let answered = Date().timeIntervalSince(sent)
        let status = service.wait(seconds: 15)
        #expect(reply?.status == 503, "\(reply?.status ?? 0) \(reply?.text ?? "")")
        #expect(reply?.error?.hasPrefix("node lost during the job: rank 1 (pid \(victim)") == true, "\(reply?.text ?? "")")
        #expect(answered < 3, "answered after \(answered) s")
        #expect(status != nil && status != 0, "exit \(String(describing: status))")
        #expect(Date().timeIntervalSince(sent) < 10)
        let lines = service.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(lines.first?.hasPrefix("error: node lost during the job: rank 1") == true, "\(lines)")
        #expect(ServeProcess.alive(ranks).isEmpty, "ranks left: \(ranks)")
    }
}

/// The page at `GET /` in a real headless Chromium (Debian's chromium and chromium-driver,
/// Selenium from PyPI), driven by scripts/serve-page-check.py.
@Suite(.serialized)
struct ServePageTests {
    /// The Python with Selenium: the project's .venv (scripts/test.sh makes it), else python3.
    static var python: String {
        let venv = Harness.packageRoot.appendingPathComponent(".venv/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }

    static var browserReady: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
            && (try? Harness.run([python, "-c", "import selenium"], timeout: 30).status) == 0
    }

    @Test("choose a file, add a filter from /v1/ops, submit: input and output side by side, phases, download; a bad file's error", .needsMPIRun)
    func pageInChromium() throws {
        // Without a browser this test cannot run; in CI that is a failure, not a skip.
        guard Self.browserReady else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "chromium-driver or selenium missing")
            return
        }
        let service = try ServeProcess()
        defer { service.stop() }
        let folder = try Harness.temporaryFolder("serve-page")
        defer { Harness.cleanup(folder) }
        let photo = ServeTests.photo
        let script = Harness.packageRoot.appendingPathComponent("scripts/serve-page-check.py").path
        let bad = Harness.fixtures.appendingPathComponent("bad/notes.txt")
        let r = try Harness.run([Self.python, script, service.url + "/", photo.path, bad.path, folder.path], timeout: 180)
        #expect(r.status == 0, "\(r.stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout) \(r.stderr)")
        #expect((seen["filters"] as? [String])?.contains("canny") == true)
        #expect(seen["stages"] as? [String] == ["sobel", "gaussian"])
        #expect(seen["error_after_good"] as? String == "")
        #expect(seen["input_width"] as? Int == 256 && seen["output_width"] as? Int == 256, "\(seen)")
        #expect(seen["side_by_side"] as? Bool == true)
        let phases = seen["phases"] as? [String] ?? []
        #expect(phases.first == "read" && phases.last == "total" && phases.contains("compute"), "\(phases)")
        // The download is the command line's output for the same pipeline.
        let downloaded = try #require(seen["downloaded"] as? String, "nothing downloaded: \(seen)")
        let cli = try CommandLine1.run(photo, format: "png", ["--op", "sobel", "--op", "gaussian:sigma=2"], in: folder)
        #expect(try Data(contentsOf: URL(fileURLWithPath: downloaded)) == cli.bytes)
        #expect((seen["error_after_bad"] as? String)?.hasPrefix("error: upload: not an image") == true, "\(seen)")
    }
}
