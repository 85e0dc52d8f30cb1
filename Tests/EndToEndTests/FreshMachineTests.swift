import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// The README's promise, kept on a machine that has Swift and nothing else: in a container of
/// the Swift image (the offline stand-in scripts/docker-base-images.sh makes: Debian bookworm,
/// the toolchain, the C compiler pieces, no libpng, no Open MPI, no Python), on a fresh clone of
/// this checkout's HEAD, `./run.sh`, the README's first command and
/// `scripts/test.sh --filter ImageCoreTests` all succeed, each installing what it lacks; and a
/// user who is not root and has no sudo gets the install command in one line and exit 2.
///
/// The container gets its Debian packages the way the image builds do, from the archive in the
/// image's apt sources, and its Python packages from PyPI. apt's downloads are kept between runs
/// in a Docker volume (its archive folder); nothing that is built is kept.
/// Without a Docker engine the test does not run, except under CI (`CI=true`), where it runs
/// and fails.
@Suite("Fresh machine", .serialized)
struct FreshMachineTests {
    static let root = Harness.packageRoot
    static let image = "swift:6.3.1-bookworm"
    static let home = "/root/bandsaw"
    static let newcomerHome = "/home/newcomer/bandsaw"

    /// In CI the test must run, and fail when Docker cannot start.
    static let required: Bool = {
        let ci = ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? ""
        return !ci.isEmpty && ci != "false" && ci != "0"
    }()

    /// Root (the project's dockerd and debootstrap need it) and the Docker engine installed.
    static let installed: Bool = getuid() == 0 && ContainerFiles.which("docker") != nil
        && ["/usr/sbin/dockerd", "/usr/bin/dockerd"].contains(where: FileManager.default.isExecutableFile)

    @Test("on Debian with only Swift, a fresh clone runs ./run.sh, the README's command and scripts/test.sh --filter ImageCoreTests; without root or sudo, run.sh prints the install command and exits 2",
          .enabled(if: required || installed, "needs root and docker.io (scripts/test.sh installs it)"),
          .timeLimit(.minutes(60)))
    func twoCommandsOnAFreshMachine() throws {
        let started = Date()
        func lap(_ what: String) {
            print("fresh machine: \(what) after \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
        }
        let machine = try FreshMachine()
        defer { machine.tearDown() }
        lap("container up")

        // Not root, no sudo: nothing can be installed, so one line says how, and nothing runs.
        let denied = try machine.exec("runuser -u newcomer -- env HOME=/home/newcomer ./run.sh", in: Self.newcomerHome)
        try #require(denied.status == 2, "run.sh as a user without sudo: exit \(denied.status)\n\(denied.stderr)")
        let lines = denied.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.hasPrefix("error: missing ") == true, "want one error line: \(denied.stderr)")
        for needle in ["apt-get install", "libpng-dev", "libdeflate-dev", "libopenmpi-dev", "openmpi-bin"] {
            #expect(denied.stderr.contains(needle), "the install command lacks \(needle): \(denied.stderr)")
        }
        #expect(denied.stdout.isEmpty, "\(denied.stdout)")
        #expect(try machine.exec("test ! -e .build", in: Self.newcomerHome).status == 0, "run.sh built before it had what it needs")
        lap("run.sh without root or sudo refused")

        // Root: the demonstration, installing the run profile and building first.
        let demo = try machine.exec("./run.sh", timeout: 1800)
        // Each step starts from where the one before left the machine: a failure ends the test.
        try #require(demo.status == 0, "./run.sh: exit \(demo.status)\n\(demo.stderr.suffix(4000))")
        #expect(demo.stderr.contains("bandsaw: installing ") && demo.stderr.contains("libpng-dev"), "\(demo.stderr.prefix(2000))")
        #expect(demo.stdout.contains("on 1 rank") && demo.stdout.range(of: #"on [2-9][0-9]* ranks"#, options: .regularExpression) != nil,
                "both tables: \(demo.stdout.prefix(3000))")
        #expect(demo.stdout.range(of: #"speedup: [0-9]+\.[0-9]+x"#, options: .regularExpression) != nil, "\(demo.stdout.prefix(3000))")
        #expect(demo.stdout.contains("output: \(Self.home)/out/astronaut-256.sobel.png"), "\(demo.stdout.prefix(3000))")
        #expect(demo.stdout.contains("\u{1B}[38;2;"), "no preview of the result")
        lap("./run.sh (install, build, the demonstration)")

        // The README's first command: everything is there now, so no apt call, and the result
        // is the one-rank output of this checkout's own build, bit for bit.
        let readme = try machine.exec("./run.sh Tests/Fixtures/photos/astronaut-256.png -o out/astronaut.png", timeout: 600)
        try #require(readme.status == 0, "README's command: exit \(readme.status)\n\(readme.stderr.suffix(4000))")
        #expect(!readme.stderr.contains("installing") && !readme.stderr.contains("apt-get"), "a second run called apt: \(readme.stderr)")
        #expect(readme.stdout.contains("output: out/astronaut.png"), "\(readme.stdout.prefix(2000))")
        let local = machine.scratch.appendingPathComponent("local.png")
        let one = try Harness.bandsaw([Harness.fixtures.appendingPathComponent("photos/astronaut-256.png").path, "-o", local.path, "--quiet"])
        #expect(one.status == 0, "\(one.stderr)")
        let copied = machine.scratch.appendingPathComponent("container.png")
        let copy = try machine.docker(["cp", "\(machine.name):\(Self.home)/out/astronaut.png", copied.path])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(try readImage(path: copied.path) == readImage(path: local.path), "the fresh machine's result differs from this build's one rank")
        lap("the README's run.sh command")

        // The test command, strict as in CI (a missing Pillow fails instead of skipping).
        let tests = try machine.exec("CI=true scripts/test.sh --filter ImageCoreTests", timeout: 2400)
        try #require(tests.status == 0, "scripts/test.sh: exit \(tests.status)\n\(tests.stdout.suffix(3000))\n\(tests.stderr.suffix(3000))")
        #expect(tests.stdout.range(of: #"Test run with [1-9][0-9]* tests? in [0-9]+ suites? passed"#, options: .regularExpression) != nil,
                "no passing test run: \(tests.stdout.suffix(2000))")
        #expect(tests.stderr.contains("bandsaw: installing ") && tests.stderr.contains("docker.io"), "\(tests.stderr.prefix(2000))")
        // The test libraries are the virtual environment's, not the system's.
        let venv = try machine.exec(".venv/bin/python3 -c 'import PIL, cv2, numpy' && ! python3 -c 'import PIL' 2>/dev/null")
        #expect(venv.status == 0, "Pillow, OpenCV and numpy should be in .venv only: \(venv.stderr)")
        lap("scripts/test.sh --filter ImageCoreTests")
    }
}

/// One container of the Swift image with two fresh clones of this checkout's HEAD: root's in
/// /root/bandsaw, and one owned by the unprivileged user `newcomer` in its home. Removed by
/// `tearDown`, with the engine when this test started it.
final class FreshMachine {
    let name = "bandsaw-fresh-\(getpid())"
    let scratch: URL
    private(set) var dockerHost: String?
    private var startedEngine = false
    private var created = false

    /// apt's downloads, kept between runs (the packages, not what they install).
    static let aptVolume = "bandsaw-fresh-apt"

    struct Failure: Error, CustomStringConvertible { var description: String }

    init() throws {
        scratch = try Harness.temporaryFolder("fresh")
        do { try start() } catch { tearDown(); throw error }
    }

    private func start() throws {
        let script = FreshMachineTests.root.appendingPathComponent("scripts/test-dockerd.sh").path
        let before = try Harness.run([script, "status"], timeout: 30)
        let engine = try Harness.run([script, "start"], timeout: 120)
        guard engine.status == 0, let line = engine.stdout.split(separator: "\n").last, line.hasPrefix("DOCKER_HOST=") else {
            throw Failure(description: "no Docker engine: \(engine.stderr)")
        }
        let host = String(line.dropFirst("DOCKER_HOST=".count))
        dockerHost = host
        startedEngine = before.status != 0 && host != ProcessInfo.processInfo.environment["DOCKER_HOST"]

        let base = try Harness.run([FreshMachineTests.root.appendingPathComponent("scripts/docker-base-images.sh").path],
                                   timeout: 1200, environment: environment)
        guard base.status == 0 else { throw Failure(description: "base images: \(base.stderr.suffix(2000))") }

        // The committed HEAD, as a clone from the repository's host would give it.
        let seed = scratch.appendingPathComponent("seed")
        try FileManager.default.createDirectory(at: seed, withIntermediateDirectories: true)
        let bundle = try Harness.run(["git", "-C", FreshMachineTests.root.path, "bundle", "create",
                                      seed.appendingPathComponent("bandsaw.bundle").path, "HEAD"], timeout: 120)
        guard bundle.status == 0 else { throw Failure(description: "git bundle: \(bundle.stderr)") }

        var run = ["run", "-d", "--name", name, "-v", "\(seed.path):/seed:ro",
                   "-v", "\(Self.aptVolume):/var/cache/apt/archives"]
        // PyPI may be reached here through a proxy that signs with an authority only this
        // host's trust store holds: pip in the container is pointed at that store, as pip on a
        // machine behind such a proxy is configured.
        let trust = "/etc/ssl/certs/ca-certificates.crt"
        if FileManager.default.fileExists(atPath: trust) {
            run += ["-v", "\(trust):/etc/bandsaw-host-ca.crt:ro", "-e", "PIP_CERT=/etc/bandsaw-host-ca.crt"]
        }
        let up = try docker(run + [FreshMachineTests.image, "sleep", "infinity"])
        guard up.status == 0 else { throw Failure(description: "docker run: \(up.stderr)") }
        created = true

        let clones = try exec("""
            useradd --create-home newcomer \
            && git -c advice.detachedHead=false clone -q /seed/bandsaw.bundle \(FreshMachineTests.home) \
            && runuser -u newcomer -- git -c advice.detachedHead=false clone -q /seed/bandsaw.bundle \(FreshMachineTests.newcomerHome)
            """, in: "/", timeout: 120)
        guard clones.status == 0 else { throw Failure(description: "clones: \(clones.stderr)") }
    }

    /// The test environment with the engine, and no display (no viewer opens).
    var environment: [String: String] {
        var env = Harness.environment
        if let dockerHost { env["DOCKER_HOST"] = dockerHost }
        env.removeValue(forKey: "DISPLAY")
        env.removeValue(forKey: "WAYLAND_DISPLAY")
        return env
    }

    func docker(_ args: [String], timeout: Double = 120) throws -> Harness.Outcome {
        try Harness.run(["docker"] + args, timeout: timeout, environment: environment)
    }

    /// `bash -c SCRIPT` in the container as root, in `folder` (root's clone by default).
    func exec(_ script: String, in folder: String = FreshMachineTests.home, timeout: Double = 120) throws -> Harness.Outcome {
        try docker(["exec", "-w", folder, name, "bash", "-c", script], timeout: timeout)
    }

    /// Removes the container (the download volume stays), the scratch folder, and the engine
    /// if this test started it; safe to call twice.
    func tearDown() {
        if created {
            _ = try? docker(["rm", "-f", name], timeout: 120)
            created = false
        }
        if startedEngine {
            _ = try? Harness.run([FreshMachineTests.root.appendingPathComponent("scripts/test-dockerd.sh").path, "stop"], timeout: 120)
            startedEngine = false
        }
        Harness.cleanup(scratch)
    }
}
