import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// Three hosts as network namespaces on a bridge; Open MPI launches across them over TCP
/// with `scripts/netns-agent.sh` standing in for ssh.
final class NamespaceCluster: @unchecked Sendable {
    let prefix: String
    let hosts: Int
    let folder: URL
    let subnet = "10.97.0"
    static let scripts = Harness.packageRoot.appendingPathComponent("scripts")

    /// Whether this process may create network namespaces (root with CAP_NET_ADMIN and iproute2).
    static let available: Bool = {
        let probe = "bsprobe\(getpid())"
        guard let add = try? Harness.run(["ip", "netns", "add", probe], timeout: 20), add.status == 0 else { return false }
        _ = try? Harness.run(["ip", "netns", "delete", probe], timeout: 20)
        return true
    }()

    init(hosts: Int) throws {
        self.hosts = hosts
        prefix = "bs\(getpid() % 100_000)"
        folder = try Harness.temporaryFolder("netns")
        let up = try Harness.run([Self.scripts.appendingPathComponent("netns-cluster.sh").path, "up", prefix, String(hosts), subnet], timeout: 60)
        guard up.status == 0 else {
            tearDown()
            throw ClusterError(message: "could not create namespaces: \(up.stderr)")
        }
        let map = (1...hosts).map { "\(subnet).\($0) \(prefix)-h\($0)" }.joined(separator: "\n") + "\n"
        try map.write(to: mapFile, atomically: true, encoding: .utf8)
        let hostfile = (1...hosts).map { "\(subnet).\($0) slots=2" }.joined(separator: "\n") + "\n"
        try hostfile.write(to: hostfileURL, atomically: true, encoding: .utf8)
    }

    struct ClusterError: Error { var message: String }

    var mapFile: URL { folder.appendingPathComponent("netns.map") }
    var hostfileURL: URL { folder.appendingPathComponent("hostfile") }

    /// Removes every namespace (and what runs in it) and the work folder; safe to call twice.
    func tearDown() {
        _ = try? Harness.run([Self.scripts.appendingPathComponent("netns-cluster.sh").path, "down", prefix], timeout: 60)
        Harness.cleanup(folder)
    }

    deinit { tearDown() }

    /// `command` run on host 1, which gets its own hostname and Open MPI session folder too,
    /// like the hosts the launch agent enters.
    func onHost1(_ command: [String]) -> [String] {
        ["ip", "netns", "exec", "\(prefix)-h1", "unshare", "--uts", "sh", "-c",
         "hostname \(prefix)-h1; mkdir -p \(folder.path)/h1-tmp; OMPI_MCA_orte_tmpdir_base=\(folder.path)/h1-tmp exec \"$0\" \"$@\""]
            + command
    }

    /// `mpirun` started on host 1, one rank per host (`--map-by node`), TCP only.
    func mpirunArguments(ranks: Int, quiet: Bool = true) -> [String] {
        let launch = MPIRun(ranks: ranks, quiet: quiet, exports: ["BANDSAW_NETNS_MAP", "PATH"], hostfile: hostfileURL.path,
                            options: ["--mca", "plm_rsh_agent", Self.scripts.appendingPathComponent("netns-agent.sh").path,
                                      "--mca", "oob_tcp_if_include", "\(subnet).0/24", "--mca", "btl_tcp_if_include", "\(subnet).0/24",
                                      "--mca", "btl", "tcp,self"])
        return onHost1(launch.arguments([Harness.executable]))
    }

    var environment: [String: String] {
        var env = Harness.environment
        env["BANDSAW_NETNS_MAP"] = mapFile.path
        env["OMPI_MCA_btl"] = "tcp,self"
        return env
    }

    /// PIDs of `bandsaw` processes running in host `index`'s namespace.
    func bandsawPIDs(onHost index: Int) -> [Int32] {
        guard let pids = try? Harness.run(["ip", "netns", "pids", "\(prefix)-h\(index)"], timeout: 10) else { return [] }
        return pids.stdout.split(separator: "\n").compactMap { Int32($0) }.filter { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("bandsaw") == true
        }
    }
}

@Suite(.serialized, .enabled(if: NamespaceCluster.available, "needs root and iproute2 to create network namespaces"))
struct MultiHostTests {
    @Test("a job across three namespace hosts over TCP equals one rank")
    func threeHostsEqualOneRank() throws {
        let cluster = try NamespaceCluster(hosts: 3)
        defer { cluster.tearDown() }
        let input = cluster.folder.appendingPathComponent("in.png")
        try writeImage(TestImages.stripes(width: 203, height: 151, channels: 3, seed: 11), path: input.path)
        for ops in [["--op", "sobel"], ["--op", "gaussian:sigma=2.5", "--op", "median:size=5", "--op", "emboss"]] {
            let single = cluster.folder.appendingPathComponent("single.png")
            let one = try Harness.bandsaw([input.path, "-o", single.path, "--quiet"] + ops)
            #expect(one.status == 0, "\(one.stderr)")
            for ranks in [3, 5] {
                let out = cluster.folder.appendingPathComponent("multi-\(ranks).png")
                let run = try Harness.run(cluster.mpirunArguments(ranks: ranks) + [input.path, "-o", out.path] + ops,
                                          timeout: 120, environment: cluster.environment)
                #expect(!run.timedOut, "multi-host run hung")
                #expect(run.status == 0, "multi-host run failed (\(run.status)): \(run.stderr)")
                #expect(run.stdout.contains("\(ranks) ranks"), "\(run.stdout)")
                #expect(try readImage(path: out.path) == readImage(path: single.path), "\(ops) on \(ranks) ranks over 3 hosts differs from one rank")
            }
        }
    }

    @Test("run.sh --hostfile runs the job across the namespace hosts")
    func runScriptAcrossHosts() throws {
        let cluster = try NamespaceCluster(hosts: 3)
        defer { cluster.tearDown() }
        let input = cluster.folder.appendingPathComponent("in.png")
        try writeImage(TestImages.stripes(width: 120, height: 91, channels: 4, seed: 21), path: input.path)
        let single = cluster.folder.appendingPathComponent("single.png")
        #expect(try Harness.bandsaw([input.path, "-o", single.path, "--quiet", "--op", "median:size=5"]).status == 0)

        // The client as a user runs it on host 1; Open MPI's settings come from the environment
        // (OMPI_MCA_*), the launch agent stands in for ssh.
        var env = cluster.environment
        env["BANDSAW_BIN"] = Harness.executable
        env["OMPI_MCA_plm_rsh_agent"] = NamespaceCluster.scripts.appendingPathComponent("netns-agent.sh").path
        env["OMPI_MCA_plm_rsh_no_tree_spawn"] = "1"
        env["OMPI_MCA_oob_tcp_if_include"] = "\(cluster.subnet).0/24"
        env["OMPI_MCA_btl_tcp_if_include"] = "\(cluster.subnet).0/24"
        env["OMPI_MCA_rmaps_base_mapping_policy"] = "node"
        env.removeValue(forKey: "DISPLAY")
        let out = cluster.folder.appendingPathComponent("client.png")
        let script = Harness.packageRoot.appendingPathComponent("run.sh").path
        let run = try Harness.run(cluster.onHost1([script, input.path, "-n", "3", "--hostfile", cluster.hostfileURL.path,
                                                   "--op", "median:size=5", "-o", out.path, "--no-show"]),
                                  timeout: 120, environment: env)
        #expect(!run.timedOut, "run.sh across hosts hung")
        #expect(run.status == 0, "run.sh --hostfile failed (\(run.status)): \(run.stderr)")
        #expect(run.stdout.contains("on 3 ranks"), "\(run.stdout)")
        #expect(try readImage(path: out.path) == readImage(path: single.path), "run.sh across 3 hosts differs from one rank")
    }

    @Test("killing one rank mid-job ends the run within 30 s with a message and no output")
    func killedRankEndsJob() throws {
        let cluster = try NamespaceCluster(hosts: 3)
        defer { cluster.tearDown() }
        let input = cluster.folder.appendingPathComponent("big.png")
        try writeImage(TestImages.stripes(width: 1600, height: 1200, channels: 3, seed: 5), path: input.path)
        let output = cluster.folder.appendingPathComponent("out.png")

        // The heavy pipeline keeps every rank busy for seconds; kill host 3's rank once it runs.
        let killer = Thread {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let pid = cluster.bandsawPIDs(onHost: 3).first {
                    usleep(1_500_000)
                    kill(pid, SIGKILL)
                    return
                }
                usleep(50_000)
            }
        }
        killer.start()
        let run = try Harness.run(cluster.mpirunArguments(ranks: 3, quiet: false)
                                  + [input.path, "-o", output.path, "--op", "median:size=31", "--op", "gaussian:sigma=20"],
                                  timeout: 90, environment: cluster.environment)
        #expect(!run.timedOut, "mpirun hung after a rank was killed")
        #expect(run.status != 0, "mpirun succeeded although a rank was killed")
        #expect(run.seconds < 45, "took \(run.seconds) s to notice (kill came after start-up)")
        #expect(run.stderr.contains("signal 9") || run.stderr.localizedCaseInsensitiveContains("killed"),
                "no clear message: \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path), "an output file was left after a failed run")
        let strays = try FileManager.default.contentsOfDirectory(atPath: cluster.folder.path).filter { $0.contains(".tmp") }
        #expect(strays.isEmpty, "temporary files left: \(strays)")
    }
}
