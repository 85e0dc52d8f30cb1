import TestSupport
import Foundation
import ImageCore
import ImageCodecs
import XCTest

/// The Docker Compose cluster for real: the committed Dockerfile built unchanged (on offline
/// stand-ins for its base images), `docker-compose up --scale worker=3`, the real entrypoints
/// and sshd in every container, and real mpirun over ssh between the containers, driven the
/// way a user drives it (`run.sh --compose`, `docker-compose exec master bandsaw-mpirun`).
///
/// One cluster serves every test of the class (built and started in `setUp()`, removed with
/// its volumes in `tearDown()`, even when a test fails); the tests run in name order and some
/// leave the cluster in the state the next one starts from (a killed worker, say), so each
/// name carries its place. The Docker engine is the caller's (`DOCKER_HOST`) when one answers,
/// else the project's own (`scripts/test-dockerd.sh`), stopped again at the end. Without an
/// engine the tests skip, except under CI (`CI=true`), where that is a failure.
final class ComposeTests: XCTestCase {
    /// The Compose project of the tests, apart from any cluster a user runs from this folder.
    static let project = "bandsawe2e"
    static let root = Harness.packageRoot
    static let composeFile = root.appendingPathComponent("docker-compose.yml").path
    /// The workers the cluster starts with: enough for 4 ranks.
    static let workers = 3
    /// The host port the master's service is published on (127.0.0.1 only), apart from the
    /// default 8080 a user's own cluster takes.
    static let servicePort = 28080

    nonisolated(unsafe) static var dockerHost: String?
    nonisolated(unsafe) static var startedEngine = false
    nonisolated(unsafe) static var unavailable: String?
    nonisolated(unsafe) static var scratch: URL?

    // MARK: - The cluster's life

    override class func setUp() {
        super.setUp()
        let started = Date()
        do {
            try bringUp()
            print("compose tests: cluster ready \(String(format: "%.1f", Date().timeIntervalSince(started))) s after the tests started")
        } catch {
            unavailable = "\(error)"
            print("compose tests: no cluster: \(error)")
        }
    }

    override class func tearDown() {
        if dockerHost != nil {
            _ = try? compose(["down", "-v", "--remove-orphans", "--timeout", "5"], timeout: 180)
        }
        if let scratch { Harness.cleanup(scratch) }
        if startedEngine {
            _ = try? Harness.run([root.appendingPathComponent("scripts/test-dockerd.sh").path, "stop"], timeout: 120)
        }
        super.tearDown()
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        if let reason = Self.unavailable {
            // CI promises these tests run: an engine that cannot start is a failure there.
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                throw Unavailable(description: "the container tests could not run in CI: \(reason)")
            }
            throw XCTSkip("no Docker cluster (\(reason)); install docker.io, docker-compose and debootstrap and run as root")
        }
    }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Engine, base images, node image, cluster: each step's time is printed for REPORT.md.
    static func bringUp() throws {
        guard ContainerFiles.which("docker") != nil, ContainerFiles.dockerCompose != nil else {
            throw Unavailable(description: "docker or docker-compose is not installed")
        }
        let engine = try Harness.run([root.appendingPathComponent("scripts/test-dockerd.sh").path, "status"], timeout: 30)
        let callerHost = ProcessInfo.processInfo.environment["DOCKER_HOST"]
        let start = try Harness.run([root.appendingPathComponent("scripts/test-dockerd.sh").path, "start"], timeout: 120)
        guard start.status == 0, let line = start.stdout.split(separator: "\n").last, line.hasPrefix("DOCKER_HOST=") else {
            throw Unavailable(description: "no Docker engine: \(start.stderr)")
        }
        dockerHost = String(line.dropFirst("DOCKER_HOST=".count))
        // Started here: neither the caller's engine nor the project's was answering before.
        startedEngine = engine.status != 0 && dockerHost != callerHost

        var clock = Date()
        func lap(_ what: String) {
            print("compose tests: \(what) in \(String(format: "%.1f", Date().timeIntervalSince(clock))) s")
            clock = Date()
        }
        let base = try Harness.run([root.appendingPathComponent("scripts/docker-base-images.sh").path], timeout: 1200, environment: env)
        guard base.status == 0 else { throw Unavailable(description: "base images: \(base.stderr.suffix(2000))") }
        lap("base images ready")
        // Leftovers of an interrupted run of these tests would otherwise be adopted.
        _ = try compose(["down", "-v", "--remove-orphans", "--timeout", "5"], timeout: 180)
        let build = try compose(["build"], timeout: 1800)
        guard build.status == 0 else { throw Unavailable(description: "docker-compose build: \(build.stdout.suffix(3000))\(build.stderr.suffix(2000))") }
        lap("docker-compose build")
        // Build leftovers only (the builder stage's untagged image, build cache): the base
        // images and the node image stay for the next run.
        _ = try docker(["image", "prune", "-f"], timeout: 300)
        _ = try docker(["builder", "prune", "-f"], timeout: 300)
        let up = try compose(["up", "-d", "--scale", "worker=\(workers)"], timeout: 300)
        guard up.status == 0 else { throw Unavailable(description: "docker-compose up: \(up.stderr)") }
        try waitUntilHealthy(count: workers + 1, timeout: 120)
        lap("up -d --scale worker=\(workers) to every node healthy")

        let folder = try Harness.temporaryFolder("compose")
        scratch = folder
    }

    // MARK: - Helpers

    /// The test environment plus the engine and the project; no display, so no viewer opens.
    static var env: [String: String] {
        var env = Harness.environment
        if let dockerHost { env["DOCKER_HOST"] = dockerHost }
        env["COMPOSE_PROJECT_NAME"] = project
        env["BANDSAW_HEALTH_TIMEOUT"] = "60"
        env["BANDSAW_SERVICE_PORT"] = String(servicePort)
        env.removeValue(forKey: "DISPLAY")
        env.removeValue(forKey: "WAYLAND_DISPLAY")
        return env
    }

    static func docker(_ args: [String], timeout: Double = 60) throws -> Harness.Outcome {
        try Harness.run(["docker"] + args, timeout: timeout, environment: env)
    }

    static func compose(_ args: [String], timeout: Double = 120) throws -> Harness.Outcome {
        try Harness.run(["docker-compose", "-p", project, "-f", composeFile] + args, timeout: timeout, environment: env)
    }

    /// `run.sh ARGS --compose --no-show`.
    static func runCompose(_ args: [String], timeout: Double = 120) throws -> Harness.Outcome {
        try Harness.run([root.appendingPathComponent("run.sh").path] + args + ["--compose", "--no-show"],
                        timeout: timeout, environment: env)
    }

    /// The project's containers: (name, id, state, health) for a service, or all.
    static func containers(_ service: String? = nil) throws -> [(name: String, id: String, state: String, health: String)] {
        var filter = ["--filter", "label=com.docker.compose.project=\(project)"]
        if let service { filter += ["--filter", "label=com.docker.compose.service=\(service)"] }
        let ids = try docker(["ps", "-aq"] + filter).stdout.split(separator: "\n").map(String.init)
        guard !ids.isEmpty else { return [] }
        let info = try docker(["inspect", "-f",
                               "{{.Name}} {{.Id}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"] + ids)
        return info.stdout.split(separator: "\n").map { line in
            let f = line.split(separator: " ").map(String.init)
            return (String(f[0].dropFirst()), f[1], f[2], f[3])
        }.sorted { $0.name < $1.name }
    }

    static func waitUntilHealthy(count: Int, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let nodes = try containers()
            if nodes.filter({ $0.health == "healthy" }).count >= count { return }
            if Date() > deadline {
                throw Unavailable(description: "not \(count) healthy nodes after \(timeout) s: \(nodes)")
            }
            usleep(500_000)
        }
    }

    /// The folder the master sees as /data: this checkout's ./data.
    static var dataFolder: URL { root.appendingPathComponent("data") }

    static func jobFolders() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dataFolder.path)) ?? []).filter { $0.hasPrefix("job-") }
    }

    /// The one-rank output of the local test build for the same input and pipeline.
    func localOneRank(_ input: URL, _ ops: [String], to output: URL) throws -> Image {
        let run = try Harness.bandsaw([input.path, "-o", output.path] + ops.flatMap { ["--op", $0] })
        XCTAssertEqual(run.status, 0, "local one-rank run: \(run.stderr)")
        return try readImage(path: output.path)
    }

    var scratch: URL { Self.scratch! }

    /// Real photos and odd sizes (prime widths and heights, gray and RGBA layouts).
    func inputs() throws -> [URL] {
        var urls = ["astronaut-256.png", "coffee-256.png"].map { Harness.fixtures.appendingPathComponent("photos/\($0)") }
        for (w, h, c, seed) in [(97, 61, 3, 1), (13, 101, 1, 2), (131, 7, 4, 3)] as [(Int, Int, Int, UInt64)] {
            let url = scratch.appendingPathComponent("odd-\(w)x\(h)x\(c).png")
            if !FileManager.default.fileExists(atPath: url.path) {
                try writeImage(TestImages.stripes(width: w, height: h, channels: c, seed: seed), path: url.path)
            }
            urls.append(url)
        }
        return urls
    }

    // MARK: - Jobs

    func test1_composeRunsEqualOneRank() throws {
        let ops = ["gaussian:sigma=2", "sobel"]
        for input in try inputs() {
            let name = input.deletingPathExtension().lastPathComponent
            let expected = try localOneRank(input, ops, to: scratch.appendingPathComponent("\(name)-local.png"))
            for ranks in [2, 3, 4] {
                let out = scratch.appendingPathComponent("\(name)-compose-\(ranks).png")
                let run = try Self.runCompose([input.path, "-n", String(ranks), "-o", out.path] + ops.flatMap { ["--op", $0] })
                XCTAssertEqual(run.status, 0, "\(name) on \(ranks) ranks: \(run.stderr)")
                XCTAssertTrue(run.stdout.contains("on \(ranks) ranks"), "not \(ranks) ranks: \(run.stdout)")
                XCTAssertEqual(try readImage(path: out.path), expected, "\(name): \(ranks) ranks in containers differ from one local rank")
            }
        }
        XCTAssertEqual(Self.jobFolders(), [], "job folders left in data/")
    }

    func test2_plainMpirunThroughComposeExec() throws {
        // As a user would without run.sh: the input in ./data, the hostfile and mpirun in the master.
        let job = Self.dataFolder.appendingPathComponent("e2e-exec")
        Harness.cleanup(job)
        try FileManager.default.createDirectory(at: job, withIntermediateDirectories: true)
        defer { Harness.cleanup(job) }
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: job.path)
        let input = Harness.fixtures.appendingPathComponent("photos/coffee-256.png")
        try FileManager.default.copyItem(at: input, to: job.appendingPathComponent("in.png"))
        let hostfile = try Self.compose(["exec", "-T", "--user", "mpi", "master", "make-hostfile", "--workers", String(Self.workers),
                                         "-o", "/home/mpi/hostfile"])
        XCTAssertEqual(hostfile.status, 0, "make-hostfile: \(hostfile.stderr)")
        let run = try Self.compose(["exec", "-T", "--user", "mpi", "master", "bandsaw-mpirun", "4",
                                    "/data/e2e-exec/in.png", "-o", "/data/e2e-exec/out.png", "--op", "median:size=5", "--op", "emboss"])
        XCTAssertEqual(run.status, 0, "bandsaw-mpirun: \(run.stderr)")
        XCTAssertTrue(run.stdout.contains("on 4 ranks"), run.stdout)
        let expected = try localOneRank(input, ["median:size=5", "emboss"], to: scratch.appendingPathComponent("exec-local.png"))
        XCTAssertEqual(try readImage(path: job.appendingPathComponent("out.png").path), expected, "compose exec mpirun differs from one rank")
    }

    func test3_folderInOneLaunch() throws {
        let folder = scratch.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for input in try inputs() {
            try? FileManager.default.copyItem(at: input, to: folder.appendingPathComponent(input.lastPathComponent))
        }
        let out = scratch.appendingPathComponent("photos-out")
        let run = try Self.runCompose([folder.path, "-n", "3", "-o", out.path])
        XCTAssertEqual(run.status, 0, "folder: \(run.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(), names)
        for name in names {
            let expected = try localOneRank(folder.appendingPathComponent(name), ["sobel"],
                                            to: scratch.appendingPathComponent("folder-local-\(name)"))
            XCTAssertEqual(try readImage(path: out.appendingPathComponent(name).path), expected, "\(name) differs from one rank")
        }
    }

    func test4_badImageExitsThreeWithOneError() throws {
        let input = Harness.fixtures.appendingPathComponent("bad/truncated.png")
        let out = scratch.appendingPathComponent("bad-out.png")
        let run = try Self.runCompose([input.path, "-n", "3", "-o", out.path])
        XCTAssertEqual(run.status, 3, "exit status: \(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one stderr line: \(run.stderr)")
        XCTAssertTrue(lines.first?.hasPrefix("error: ") == true, run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        XCTAssertEqual(Self.jobFolders(), [], "job folders left in data/")
    }

    // MARK: - Lost and dead nodes

    func test5_workerKilledMidJob() throws {
        // A job far longer than the test waits (24 wide median passes over 16 MP: about 10 s on
        // 4 idle containers with the AVX2 median, which ran 10 passes over 4 MP in 1 s and so
        // finished before the kill): it can only end early because of the kill.
        let input = scratch.appendingPathComponent("big.ppm")
        try writeImage(TestImages.stripes(width: 4096, height: 4096, channels: 3, seed: 5), path: input.path)
        let out = scratch.appendingPathComponent("killed.png")
        let victim = try XCTUnwrap(Self.containers("worker").last)
        nonisolated(unsafe) var run: Harness.Outcome?
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            run = try? Self.runCompose([input.path, "-n", "4", "-o", out.path]
                                       + Array(repeating: ["--op", "median:size=25"], count: 24).flatMap { $0 })
            done.signal()
        }
        // Kill once the victim's rank is computing, not while the job is still being set up.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let top = try Self.docker(["top", victim.id, "-eo", "pid,args"])
            if top.stdout.contains("bandsaw /data/") { break }
            usleep(100_000)
        }
        usleep(500_000)
        let kill = try Self.docker(["kill", victim.id])
        XCTAssertEqual(kill.status, 0, "docker kill: \(kill.stderr)")
        let killed = Date()
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "the job did not end after the kill")
        let seconds = Date().timeIntervalSince(killed)
        let outcome = try XCTUnwrap(run)
        XCTAssertNotEqual(outcome.status, 0, "the job succeeded although a node was killed: \(outcome.stdout)")
        XCTAssertLessThan(seconds, 30, "the job took \(seconds) s to end after the kill")
        let lines = outcome.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line: \(outcome.stderr)")
        XCTAssertTrue(outcome.stderr.contains("node lost") && outcome.stderr.contains(victim.name),
                      "the line should say that \(victim.name) was lost: \(outcome.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "an output file was written")
        XCTAssertEqual(Self.jobFolders(), [], "job folders left in data/")
        print("compose tests: killed \(victim.name) mid-job; the job ended \(String(format: "%.1f", seconds)) s later: \(outcome.stderr)")
    }

    func test6_deadWorkerBeforeJob() throws {
        // The worker killed by the test before stays down: Docker's `unless-stopped` does not
        // restart a container that was killed on purpose.
        let workers = try Self.containers("worker")
        XCTAssertEqual(workers.filter { $0.state != "running" }.count, 1, "one killed worker expected: \(workers)")
        let input = Harness.fixtures.appendingPathComponent("photos/astronaut-256.png")
        let expected = try localOneRank(input, ["sobel"], to: scratch.appendingPathComponent("dead-local.png"))

        // Enough healthy workers for 3 ranks: the job runs on them at once, the dead one is left.
        let out3 = scratch.appendingPathComponent("dead-3.png")
        let enough = try Self.runCompose([input.path, "-n", "3", "-o", out3.path], timeout: 60)
        XCTAssertEqual(enough.status, 0, enough.stderr)
        XCTAssertLessThan(enough.seconds, 60)
        XCTAssertEqual(try readImage(path: out3.path), expected)
        XCTAssertFalse(enough.stderr.contains("starting"), "nothing needed starting: \(enough.stderr)")
        XCTAssertEqual(try Self.containers("worker").filter { $0.state != "running" }.count, 1)

        // Too few for 4 ranks (one more stopped cleanly): the stopped ones are started again.
        let stopped = try XCTUnwrap(Self.containers("worker").first { $0.state == "running" })
        XCTAssertEqual(try Self.docker(["stop", "-t", "2", stopped.id]).status, 0)
        let out4 = scratch.appendingPathComponent("dead-4.png")
        let short = try Self.runCompose([input.path, "-n", "4", "-o", out4.path], timeout: 60)
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertLessThan(short.seconds, 60)
        XCTAssertTrue(short.stderr.contains("starting 2 stopped worker(s)"), short.stderr)
        XCTAssertEqual(try readImage(path: out4.path), expected)
        print("compose tests: 3 ranks beside a dead worker in \(String(format: "%.1f", enough.seconds)) s; "
              + "4 ranks after restarting 2 stopped workers in \(String(format: "%.1f", short.seconds)) s")
    }

    func test7_masterRecreated() throws {
        let key = { try Self.compose(["exec", "-T", "master", "cat", "/keys/authorized_keys"]).stdout }
        let before = try key()
        let recreate = try Self.compose(["up", "-d", "--force-recreate", "--no-deps", "master"], timeout: 180)
        XCTAssertEqual(recreate.status, 0, recreate.stderr)
        let input = Harness.fixtures.appendingPathComponent("photos/coffee-256.png")
        let expected = try localOneRank(input, ["sobel"], to: scratch.appendingPathComponent("recreated-local.png"))
        let out = scratch.appendingPathComponent("recreated.png")
        let run = try Self.runCompose([input.path, "-n", "4", "-o", out.path], timeout: 90)
        XCTAssertEqual(run.status, 0, "the first job after the master was recreated: \(run.stderr)")
        XCTAssertEqual(try readImage(path: out.path), expected)
        let after = try key()
        XCTAssertTrue(after.hasPrefix("ssh-ed25519 "), after)
        XCTAssertNotEqual(before, after, "a recreated master should have made a new key")
        print("compose tests: first job after recreating the master took \(String(format: "%.1f", run.seconds)) s")
    }

    // MARK: - Folders dealt across the containers

    /// A folder of `count` generated PNGs of about `size` pixels a side (sizes differ, so the
    /// dealing is dynamic), made once per name.
    func folder(_ name: String, count: Int, size: Int) throws -> URL {
        let folder = scratch.appendingPathComponent(name)
        guard !FileManager.default.fileExists(atPath: folder.path) else { return folder }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for i in 0..<count {
            let image = TestImages.stripes(width: size + 7 * (i % 5), height: size - 5 * (i % 3),
                                           channels: [1, 3, 4][i % 3], seed: UInt64(100 + i))
            try writeImage(image, path: folder.appendingPathComponent(String(format: "img-%03d.png", i)).path)
        }
        return folder
    }

    /// The reference: one local process over the whole folder (the folder form of the command).
    func localFolder(_ input: URL, _ ops: [String], to output: URL) throws -> [String: Data] {
        Harness.cleanup(output)
        let run = try Harness.bandsaw([input.path, "-o", output.path] + ops.flatMap { ["--op", $0] }, timeout: 600)
        XCTAssertEqual(run.status, 0, "local one-process folder: \(run.stderr)")
        return try files(output)
    }

    /// Every file of a folder by name, hidden ones (temporary files) included.
    func files(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            out[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return out
    }

    /// The image counts per rank from the batch summary run.sh prints (`  rank R: N images, ...`).
    func imagesPerRank(_ stderr: String) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for line in stderr.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 4, words[0] == "rank", words[1].hasSuffix(":"), words[3].hasPrefix("images"),
                  let rank = Int(words[1].dropLast()), let images = Int(words[2]) else { continue }
            counts[rank] = images
        }
        return counts
    }

    func test7a_folderOverFourContainersByteIdentical() throws {
        let ops = ["gaussian:sigma=2", "sobel"]
        let input = try folder("dealt", count: 16, size: 160)
        let expected = try localFolder(input, ops, to: scratch.appendingPathComponent("dealt-local"))
        XCTAssertEqual(expected.count, 16)
        let out = scratch.appendingPathComponent("dealt-compose")
        let run = try Self.runCompose([input.path, "-n", "4", "-o", out.path] + ops.flatMap { ["--op", $0] }, timeout: 180)
        XCTAssertEqual(run.status, 0, "folder over 4 containers: \(run.stderr)")
        let got = try files(out)
        XCTAssertEqual(got.keys.sorted(), expected.keys.sorted(), "not the same outputs")
        for (name, bytes) in expected {
            XCTAssertEqual(got[name], bytes, "\(name): the bytes differ from one local process")
        }
        let perRank = imagesPerRank(run.stderr)
        XCTAssertEqual(perRank.count, 4, "no per-rank summary for 4 ranks: \(run.stderr)")
        XCTAssertEqual(perRank.values.reduce(0, +), 16, run.stderr)
        XCTAssertGreaterThan(perRank.values.filter { $0 > 0 }.count, 1, "every image on one rank: \(run.stderr)")
        XCTAssertEqual(Self.jobFolders(), [], "job folders left in data/")
        print("compose tests: 16 images over 4 containers, images per rank \(perRank.sorted { $0.key < $1.key }.map(\.value))")
    }

    func test7b_workerKilledMidBatchThenResumed() throws {
        // Long enough (48 images, two wide median passes each) that a kill after the first
        // few outputs lands mid-batch.
        let ops = ["median:size=15", "median:size=15"]
        let input = try folder("resume", count: 48, size: 480)
        let expected = try localFolder(input, ops, to: scratch.appendingPathComponent("resume-local"))
        let out = scratch.appendingPathComponent("resume-compose")
        Harness.cleanup(out)
        let victim = try XCTUnwrap(Self.containers("worker").filter { $0.state == "running" }.last)
        let command = [input.path, "-n", "4", "-o", out.path] + ops.flatMap { ["--op", $0] }
        nonisolated(unsafe) var run: Harness.Outcome?
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            run = try? Self.runCompose(command, timeout: 300)
            done.signal()
        }
        // Kill once the batch has finished a few outputs in the job folder: mid-batch, not
        // while the job is still being set up.
        let deadline = Date().addingTimeInterval(120)
        var seen = 0
        while Date() < deadline, seen < 3 {
            for job in Self.jobFolders() {
                let outs = Self.dataFolder.appendingPathComponent("\(job)/\(out.lastPathComponent)")
                let names = (try? FileManager.default.contentsOfDirectory(atPath: outs.path)) ?? []
                seen = max(seen, names.filter { !$0.hasPrefix(".") }.count)
            }
            usleep(50_000)
        }
        XCTAssertGreaterThanOrEqual(seen, 3, "the batch never got going")
        let kill = try Self.docker(["kill", victim.id])
        XCTAssertEqual(kill.status, 0, "docker kill: \(kill.stderr)")
        XCTAssertEqual(done.wait(timeout: .now() + 90), .success, "the batch did not end after the kill")
        let killed = try XCTUnwrap(run)
        XCTAssertNotEqual(killed.status, 0, "the batch succeeded although a node was killed: \(killed.stderr)")
        let lines = killed.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line: \(killed.stderr)")
        XCTAssertTrue(killed.stderr.contains("node lost") && killed.stderr.contains(victim.name), killed.stderr)

        // What was kept is finished: each file complete (the bytes of one process), no temporary file.
        let kept = try files(out)
        XCTAssertGreaterThan(kept.count, 0, "nothing kept: \(killed.stderr)")
        XCTAssertLessThan(kept.count, expected.count, "the kill landed after the batch ended")
        for (name, bytes) in kept {
            XCTAssertFalse(name.hasPrefix("."), "a temporary file was kept: \(name)")
            XCTAssertEqual(bytes, expected[name], "\(name): kept but not the finished output")
        }
        XCTAssertTrue(killed.stderr.contains("\(kept.count) finished output(s) kept"), killed.stderr)
        XCTAssertEqual(Self.jobFolders(), [], "job folders left in data/")

        // The same command with --skip-existing: the killed worker is started again, only the
        // rest is done, and the folder ends as one uninterrupted process leaves it.
        let resumed = try Self.runCompose(command + ["--skip-existing"], timeout: 300)
        XCTAssertEqual(resumed.status, 0, "resume: \(resumed.stderr)")
        XCTAssertTrue(resumed.stderr.contains("(\(kept.count) skipped: output exists)"), resumed.stderr)
        let final = try files(out)
        XCTAssertEqual(final.keys.sorted(), expected.keys.sorted())
        for (name, bytes) in expected {
            XCTAssertEqual(final[name], bytes, "\(name): the resumed folder differs from one uninterrupted process")
        }
        XCTAssertEqual(Self.jobFolders(), [], "job folders left in data/")
        print("compose tests: killed \(victim.name) mid-batch with \(kept.count) of \(expected.count) outputs kept; "
              + "resumed with --skip-existing in \(String(format: "%.1f", resumed.seconds)) s")
    }

    // MARK: - The service in the master

    /// The service's token, made by the master at its start (it changes when the master does).
    static func serviceToken() throws -> String {
        try compose(["exec", "-T", "master", "cat", "/home/mpi/service/token"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// curl against the published port: (HTTP status, body). `body` is a file to send.
    static func curl(_ path: String, body: URL? = nil, to output: URL? = nil, timeout: Double = 120) throws -> (Int, String) {
        let token = try serviceToken()
        let sink = output ?? scratch!.appendingPathComponent("curl-body-\(UUID().uuidString)")
        defer { if output == nil { Harness.cleanup(sink) } }
        var args = ["curl", "-sS", "--max-time", String(Int(timeout)), "-o", sink.path, "-w", "%{http_code}",
                    "-H", "Authorization: Bearer \(token)"]
        if let body { args += ["--data-binary", "@\(body.path)"] }
        let run = try Harness.run(args + ["http://127.0.0.1:\(servicePort)\(path)"], timeout: timeout + 10)
        let text = output == nil ? ((try? String(contentsOf: sink, encoding: .utf8)) ?? "") : ""
        return (Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, text + run.stderr)
    }

    /// Waits until GET /v1/health answers 200 with `ranks` ranks; returns its body.
    static func waitForService(ranks: Int, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            let (status, body) = (try? curl("/v1/health", timeout: 5)) ?? (0, "")
            last = "\(status) \(body)"
            if status == 200, body.contains("\"ranks\":\(ranks)") { return body }
            usleep(500_000)
        }
        throw Unavailable(description: "the service did not answer with \(ranks) ranks in \(timeout) s: \(last)")
    }

    func test7c_serviceUpSubmitWorkerKilledRestarted() throws {
        // `up -d` started it: rank 0 in the master over the 3 workers (all back after 7b).
        _ = try Self.waitForService(ranks: 4, timeout: 150)
        let input = Harness.fixtures.appendingPathComponent("photos/coffee-256.png")
        let ops = ["gaussian:sigma=2", "sobel"]
        let query = "/v1/process?op=gaussian:sigma=2&op=sobel&format=png"
        let local = try localOneRank(input, ops, to: scratch.appendingPathComponent("service-local.png"))

        // The command line on the same 4 ranks (-n: a launch), then the service, byte for byte.
        let launched = scratch.appendingPathComponent("service-launched-4.png")
        let launch = try Self.runCompose([input.path, "-n", "4", "-o", launched.path] + ops.flatMap { ["--op", $0] })
        XCTAssertEqual(launch.status, 0, launch.stderr)
        XCTAssertFalse(launch.stdout.contains("compose service"), "-n should launch: \(launch.stdout)")
        let served = scratch.appendingPathComponent("service-4.png")
        let (status, body) = try Self.curl(query, body: input, to: served)
        XCTAssertEqual(status, 200, body)
        XCTAssertEqual(try Data(contentsOf: served), try Data(contentsOf: launched), "the service's bytes differ from the command line's")
        XCTAssertEqual(try readImage(path: served.path), local)

        // run.sh IMAGE --compose without -n goes through the service.
        let viaRun = scratch.appendingPathComponent("service-run.png")
        let run = try Self.runCompose([input.path, "-o", viaRun.path] + ops.flatMap { ["--op", $0] })
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("through the compose service on 4 ranks"), run.stdout)
        XCTAssertEqual(try Data(contentsOf: viaRun), try Data(contentsOf: launched))

        // A worker killed while a job is in flight: that request gets 503, the service ends,
        // and the master starts it again over the 2 workers left.
        // Long enough to be seen running and killed mid-way (as test5's job: 24 median passes
        // over 16 MP, about 10 s idle; 10 passes over 4 MP ended in about a second, before the
        // health poll saw it).
        let big = scratch.appendingPathComponent("service-big.ppm")
        try writeImage(TestImages.stripes(width: 4096, height: 4096, channels: 3, seed: 9), path: big.path)
        let victim = try XCTUnwrap(Self.containers("worker").filter { $0.state == "running" }.last)
        nonisolated(unsafe) var inflight: (Int, String)?
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            inflight = try? Self.curl("/v1/process" + "?op=median:size=25" + String(repeating: "&op=median:size=25", count: 23),
                                      body: big, timeout: 120)
            done.signal()
        }
        let deadline = Date().addingTimeInterval(60)
        var busy = false
        while Date() < deadline, !busy {
            busy = ((try? Self.curl("/v1/health", timeout: 5))?.1 ?? "").contains("\"busy\":true")
            if !busy { usleep(100_000) }
        }
        XCTAssertTrue(busy, "the long job never started")
        usleep(500_000)
        XCTAssertEqual(try Self.docker(["kill", victim.id]).status, 0)
        XCTAssertEqual(done.wait(timeout: .now() + 90), .success, "the request in flight did not end after the kill")
        let lost = try XCTUnwrap(inflight)
        XCTAssertEqual(lost.0, 503, "the request in flight: \(lost.1)")
        XCTAssertTrue(lost.1.contains("\"error\""), lost.1)
        let restarted = Date()
        _ = try Self.waitForService(ranks: 3, timeout: 120)
        let back = Date().timeIntervalSince(restarted)

        let again = scratch.appendingPathComponent("service-3.png")
        let (status3, body3) = try Self.curl(query, body: input, to: again)
        XCTAssertEqual(status3, 200, body3)
        XCTAssertEqual(try readImage(path: again.path), local)
        let launched3 = scratch.appendingPathComponent("service-launched-3.png")
        let launch3 = try Self.runCompose([input.path, "-n", "3", "-o", launched3.path] + ops.flatMap { ["--op", $0] })
        XCTAssertEqual(launch3.status, 0, launch3.stderr)
        XCTAssertEqual(try Data(contentsOf: again), try Data(contentsOf: launched3), "after the restart: bytes differ from the command line's")
        print("compose tests: service lost \(victim.name) mid-job (\(lost.0)), back on 3 ranks \(String(format: "%.1f", back)) s later")

        // The next tests expect every node up.
        XCTAssertEqual(try Self.docker(["start", victim.id]).status, 0)
        try Self.waitUntilHealthy(count: Self.workers + 1, timeout: 120)
    }

    // MARK: - What the containers are

    func test8_unprivilegedLoopbackServiceOnlyNoKeysInImage() throws {
        let nodes = try Self.containers()
        XCTAssertEqual(nodes.count, Self.workers + 1)
        for node in nodes {
            let top = try Self.docker(["top", node.id, "-eo", "uid,pid,args"])
            XCTAssertEqual(top.status, 0, top.stderr)
            let processes = top.stdout.split(separator: "\n").dropFirst()
            XCTAssertFalse(processes.isEmpty)
            for process in processes {
                XCTAssertEqual(process.split(separator: " ").first, "1000", "\(node.name): not the mpi user: \(process)")
            }
            // Only the master publishes, only its service, only on the host's loopback.
            let ports = try Self.docker(["port", node.id]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let bindings = try Self.docker(["inspect", "-f", "{{json .HostConfig.PortBindings}}", node.id])
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if node.name.contains("master") {
                XCTAssertEqual(ports, "8080/tcp -> 127.0.0.1:\(Self.servicePort)", "\(node.name) publishes \(ports)")
                XCTAssertEqual(bindings, "{\"8080/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\(Self.servicePort)\"}]}", bindings)
            } else {
                XCTAssertEqual(ports, "", "\(node.name) publishes \(ports)")
                XCTAssertTrue(["{}", "null"].contains(bindings), bindings)
            }
        }

        // Every layer of the node image, unpacked: no PEM private key block in any file, and no
        // ssh key file by name. Binaries such as ssh-keygen and libcrypto carry the words
        // "PRIVATE KEY" as format strings, so a key is the header followed by base64; and
        // libgnutls ships the public test keys of its power-on self-tests, so a block inside a
        // file that a Debian package installed, byte for byte (its md5sum in dpkg's list), is
        // reported as packaged and allowed. Each layer on its own: a key added in one layer
        // and deleted in a later one would still be in the image.
        let saved = scratch.appendingPathComponent("image")
        try FileManager.default.createDirectory(at: saved, withIntermediateDirectories: true)
        let save = try Self.docker(["save", "-o", saved.appendingPathComponent("image.tar").path, "bandsaw-node:latest"], timeout: 300)
        XCTAssertEqual(save.status, 0, save.stderr)
        let scan = try Harness.run(["bash", "-c", """
            set -euo pipefail
            cd "$0"; mkdir image; tar -xf image.tar -C image; rm image.tar
            layers=$(find image -name layer.tar)
            echo "layers: $(echo "$layers" | wc -l)"
            for layer in $layers; do mkdir "${layer%.tar}.d"; tar -xf "$layer" -C "${layer%.tar}.d"; rm "$layer"; done
            cat image/*/layer.d/var/lib/dpkg/info/*.md5sums > packaged.md5 2>/dev/null || true
            for dir in image/*/layer.d; do
                echo "words: $dir $(grep -rlaF 'PRIVATE KEY' "$dir" | wc -l)"
                grep -rlaPz -- '-----BEGIN [A-Z ]*PRIVATE KEY-----\\r?\\n[A-Za-z0-9+/=]{40,}' "$dir" | while read -r file; do
                    sum=$(md5sum < "$file" | cut -d' ' -f1)
                    if grep -qxF "$sum  ${file#"$dir"/}" packaged.md5; then echo "packaged: $file"; else echo "key: $file"; fi
                done || true
                find "$dir" \\( -name 'ssh_host_*_key' -o -name 'id_rsa' -o -name 'id_ed25519' -o -name 'id_ecdsa' \\) | sed 's/^/keyfile: /'
            done
            """, saved.path], timeout: 600)
        Harness.cleanup(saved)
        XCTAssertEqual(scan.status, 0, scan.stderr)
        XCTAssertTrue(scan.stdout.contains("layers: "), scan.stdout)
        let found = scan.stdout.split(separator: "\n").filter { $0.hasPrefix("key: ") || $0.hasPrefix("keyfile: ") }
        XCTAssertEqual(found, [], "private keys in the image:\n\(scan.stdout)")
        print("compose tests: image layers scanned:\n\(scan.stdout)")
    }

    func test9_downLeavesNothing() throws {
        let down = try Self.compose(["down", "-v", "--timeout", "5"], timeout: 180)
        XCTAssertEqual(down.status, 0, down.stderr)
        let label = "label=com.docker.compose.project=\(Self.project)"
        XCTAssertEqual(try Self.docker(["ps", "-aq", "--filter", label]).stdout, "", "containers left")
        XCTAssertEqual(try Self.docker(["network", "ls", "-q", "--filter", label]).stdout, "", "networks left")
        XCTAssertEqual(try Self.docker(["volume", "ls", "-q", "--filter", label]).stdout, "", "volumes left")
        let named = try Self.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").filter { $0.hasPrefix(Self.project) }
        XCTAssertEqual(named, [], "volumes left")
        XCTAssertEqual(Self.jobFolders(), [], "job folders left in data/")
    }
}
