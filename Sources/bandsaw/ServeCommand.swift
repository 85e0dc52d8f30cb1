#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BandsawService
import Foundation
import ImageCodecs
import ImageCore
import MPIKit
import SPMDEngine

/// `bandsaw serve`: the ranks stay up between jobs; rank 0 answers HTTP and hands each job to
/// every rank in turn.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Keep the ranks up and serve images over HTTP (POST /v1/process; see README).",
        discussion: """
            Run under mpirun like any job: mpirun -q -np 2 bandsaw serve --port 8080. \
            Rank 0 listens; every rank runs every job. Listens on 127.0.0.1 unless --host \
            says otherwise, and any other address needs --token-file. SIGTERM (to rank 0, or \
            to every process) finishes the job in progress, then exits 0.
            """
    )

    @Option(help: "Address to listen on; anything but loopback needs --token-file.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0: any free port; the port is printed at start).")
    var port = 8080

    @Option(help: ArgumentHelp("A file holding the bearer token clients must send (Authorization: Bearer TOKEN).", valueName: "file"))
    var tokenFile: String?

    @Option(help: "Refuse uploads over this many bytes (413), while reading them.")
    var maxUploadBytes = ServiceOptions().maxUploadBytes

    @Option(help: "Refuse images with more pixels than this (413, from the header, before any allocation).")
    var maxPixels: Int = ImageLimits.defaultMaxPixels

    @Option(help: "Jobs that may wait behind the running one; more get 429.")
    var queueLength = ServiceOptions().queueLength

    @Option(help: "Seconds from a request's arrival to its answer, queue included (then 503).")
    var requestTimeout = ServiceOptions().requestTimeout

    @Option(help: "Seconds a client may take to send its upload (then 408).")
    var bodyTimeout = ServiceOptions().bodyTimeout

    @Option(help: "Seconds a connection may stay idle before it is closed.")
    var idleTimeout = ServiceOptions().idleTimeout

    @Option(help: ArgumentHelp("Where each job's private folder (upload, output) is made: $TMPDIR, else /dev/shm (memory: nothing reaches a disk) where it exists, else /tmp.", valueName: "folder"))
    var scratch: String?

    /// The scratch folder: --scratch, $TMPDIR, /dev/shm, /tmp.
    var scratchFolder: String {
        if let scratch { return scratch }
        if let tmp = ProcessInfo.processInfo.environment["TMPDIR"], !tmp.isEmpty { return tmp }
        return isDirectory("/dev/shm") && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    }

    func validate() throws {
        // No file system here: every rank validates (see ProcessCommand.validate).
        if !ServiceOptions.isLoopback(host) && tokenFile == nil {
            throw ValidationError("--host \(host) is not a loopback address: give --token-file FILE, so that only clients with the token are served")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxUploadBytes >= 1, maxPixels >= 1, queueLength >= 0 else {
            throw ValidationError("--max-upload-bytes and --max-pixels must be at least 1, --queue-length at least 0")
        }
        guard requestTimeout > 0, bodyTimeout > 0, idleTimeout > 0 else {
            throw ValidationError("--request-timeout, --body-timeout and --idle-timeout must be above 0")
        }
    }

    var serviceOptions: ServiceOptions {
        var o = ServiceOptions()
        o.host = host; o.port = port; o.maxUploadBytes = maxUploadBytes; o.maxPixels = maxPixels
        o.queueLength = queueLength; o.requestTimeout = requestTimeout; o.bodyTimeout = bodyTimeout
        o.idleTimeout = idleTimeout
        return o
    }

    func run() throws {
        setenv("OMPI_MCA_pml", "ob1", 0)
        // A rank waiting inside a job's collectives (rank 1 while rank 0 decodes a JPEG alone,
        // say) polls in a loop; yielding there gives the core back to rank 0's serial phases
        // and its HTTP threads. On a loaded 2-core host it cut a 16 MP JPEG round trip from
        // 1.3-2.0 s to 0.7-1.5 s; on an idle host sched_yield returns at once. A user's own
        // setting still wins.
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
        if MPI.launchedRank == nil { setenv("OMPI_MCA_ess_singleton_isolated", "1", 0) }
        let status: ExitStatus = try MPI.run { world in
            // Rank 0 reads the token (other hosts may not see the file); every rank learns
            // whether to start.
            var token: String? = nil
            var verdict: [Int64] = [0]
            if world.rank == 0, let tokenFile {
                switch Self.readToken(tokenFile) {
                case .success(let value): token = value
                case .failure(let error):
                    Console.error(error.description)
                    verdict[0] = Int64(ExitStatus.usage.rawValue)
                }
            }
            try world.broadcast(&verdict)
            if verdict[0] != 0 { return ExitStatus(rawValue: Int32(verdict[0])) ?? .failure }
            let peers = try RankWatch.Peer.all(over: world)
            var options = serviceOptions
            options.token = token
            options.ranks = world.size
            if world.rank == 0 {
                return try ServiceRoot(world: world, options: options, peers: peers, scratch: scratchFolder).run()
            }
            return try ServiceWorker(world: world, maxPixels: maxPixels).run()
        }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// The token: the file's first line, which must not be empty.
    static func readToken(_ path: String) -> Result<String, TokenFileError> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return .failure(TokenFileError("--token-file \(path): cannot read it"))
        }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { return .failure(TokenFileError("--token-file \(path): the file holds no token")) }
        return .success(token)
    }
}

/// A token file that cannot be used: a usage error (exit 2).
struct TokenFileError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
