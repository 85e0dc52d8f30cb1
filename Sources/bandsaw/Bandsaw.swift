#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import ImageCore
import ImageCodecs
import ImageFilters
import MPIKit
import SPMDEngine

/// The `bandsaw` command: process images (the default), list filters, or preview an image.
struct Bandsaw: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bandsaw",
        abstract: "Distributed image filtering over MPI: row bands with halos, scattered and gathered.",
        discussion: """
            Run under mpirun for N ranks (mpirun -q -np 4 bandsaw photo.png -o edges.png); \
            run alone for the single-rank baseline.
            Formats (read by content, written by the output's extension): PNG, PGM/PPM, \
            JPEG, TIFF and WebP; 'bandsaw ops' says what each keeps and drops.
            Exit codes: 0 success, 1 internal or MPI failure, 2 bad usage (unknown filter, \
            out-of-range parameter, unknown output extension), 3 bad input or output image.
            """,
        subcommands: [ProcessCommand.self, OpsCommand.self, ViewCommand.self, ServeCommand.self, SubmitCommand.self],
        defaultSubcommand: ProcessCommand.self
    )
}

/// `bandsaw [process] INPUT... -o OUTPUT [--op SPEC ...]`.
struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Filter one image, or many in one launch, and print the time of each phase."
    )

    @Argument(help: "Input images (PNG, PGM, PPM, JPEG, TIFF, WebP; the format is read from the bytes) or folders of them.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output file; a folder when there are several inputs or a folder input. The extension (.png, .pgm, .ppm, .pnm, .jpg, .jpeg, .tif, .tiff, .webp) picks the format.")
    var output: String

    @Option(name: .customLong("op"), help: ArgumentHelp("A filter, applied in order; repeatable. NAME or NAME:key=value,... (see 'bandsaw ops').", valueName: "spec"))
    var ops: [String] = []

    @Option(help: "How multi-stage pipelines get halo rows: wide (one exchange of the summed halo) or per-stage.")
    var haloMode: HaloMode = .wide

    @Option(help: "Refuse images with more pixels than this (checked from the header, before any allocation).")
    var maxPixels: Int = ImageLimits.defaultMaxPixels

    /// Level 1 by default, as OpenCV's imwrite: on 16 MP it deflates several times faster than
    /// libpng's default 6 for files about 15-20% larger.
    @Option(help: "PNG deflate level, 0 (none) to 9 (smallest); 1 is fastest with real compression.")
    var compression: Int = 1

    @Option(help: ArgumentHelp("JPEG quality 1...100 (default 90); for WebP, lossy at this quality instead of lossless. PNG, PNM and TIFF output are lossless and ignore it.", valueName: "1...100"))
    var quality: Int?

    @Flag(help: "Keep a JPEG's stored orientation instead of turning it upright by its EXIF orientation.")
    var noAutorotate = false

    @Option(help: "Who encodes PNG and JPEG output: parallel (every rank its own rows, rank 0 stitches) or serial (rank 0 alone, libpng or libjpeg; a JPEG's bytes are the same either way).")
    var encode: PNGEncoding = .parallel

    @Option(help: "Who decodes a PNG, TIFF or JPEG on more than one rank: auto (shared: every rank its own PNG restart segments or rows' unfiltering, its own TIFF strips or tiles, its own JPEG restart segments or rows after a skip) or whole (rank 0 alone).")
    var decode: SharedDecode = .auto

    @Option(help: "Who reads and writes PGM/PPM: root (rank 0) or mpiio (every rank its own rows; the files must be on a filesystem every rank sees).")
    var io: PNMAccess = .root

    @Option(help: "How a batch is spread over the ranks: auto (whole images dealt to ranks as they become free, outsized ones banded at the end), images (every image dealt whole) or bands (every image banded across all ranks). A single image is always banded.")
    var schedule: Schedule = .auto

    @Flag(help: "Skip every input whose output already exists (outputs appear only complete, so a rerun finishes an interrupted batch).")
    var skipExisting = false

    @Flag(help: "Print timings as JSON instead of a table.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print no timing table.")
    var quiet = false

    @Option(help: ArgumentHelp("Also write the JSON timing report to this file.", valueName: "file"))
    var report: String?

    func validate() throws {
        guard maxPixels >= 1 else { throw ValidationError("--max-pixels must be at least 1") }
        guard (0...9).contains(compression) else { throw ValidationError("--compression must be in 0...9") }
        if let quality, !(1...100).contains(quality) { throw ValidationError("--quality must be in 1...100") }
        // ArgumentParser reports only ValidationError as a usage error (exit 2).
        do { _ = try specs() } catch { throw ValidationError("\(error) (see 'bandsaw ops')") }
        // An unknown BANDSAW_SIMD name is refused; a known path this CPU lacks is not (a rank on an
        // older host of a mixed cluster falls back to the portable kernels: same bits, and no
        // rank fails a check the others pass).
        do { _ = try SIMDPath.requested(by: ProcessInfo.processInfo.environment[SIMDPath.environmentVariable]) }
        catch SIMDPathError.unknown(let value) { throw ValidationError("\(SIMDPathError.unknown(value))") }
        catch {}
        // Nothing here may depend on the file system: every rank validates, and other hosts may
        // not see the input at all (a Compose worker has no /data), so a check that passes on
        // rank 0 and fails elsewhere would leave rank 0 waiting in MPI_Init for ranks that
        // exited. Whether the output is a folder or a file is rank 0's call (resolveJobs).
    }

    /// The parsed pipeline; `sobel` when no `--op` is given.
    func specs() throws(FilterSpecError) -> [FilterSpec] {
        try (ops.isEmpty ? ["sobel"] : ops).map { (text) throws(FilterSpecError) in try FilterSpec(parsing: text) }
    }

    /// What every rank runs with, from the parsed options (`bandsaw serve` builds its jobs'
    /// settings here too, so a job gives the command line's bytes).
    func settings() throws -> RunSettings {
        RunSettings(specs: try specs(), haloMode: haloMode, maxPixels: maxPixels,
                    compressionLevel: compression, encoding: encode, decoding: decode, io: io,
                    quality: quality, autorotate: !noAutorotate)
    }

    func run() throws {
        let settings = try settings()
        // Open MPI's default point-to-point layer (UCX) probes for InfiniBand-class devices at
        // MPI_Init, about 0.2 s of every launch here; bandsaw's traffic is shared memory and
        // TCP, which ob1 serves. A user's own OMPI_MCA_pml (e.g. ucx on a fabric) still wins.
        setenv("OMPI_MCA_pml", "ob1", 0)
        // Without mpirun, MPI_Init would start a helper daemon for this one process (about
        // 0.1 s); an isolated singleton needs none, and a single rank never spawns others.
        if MPI.launchedRank == nil { setenv("OMPI_MCA_ess_singleton_isolated", "1", 0) }
        TemporaryFiles.installSignalHandlers()
        let status: RunStatus = try MPI.run { world in
            let printer = RunPrinter(settings: settings, ranks: world.size, table: !json && !quiet,
                                     progress: world.rank == 0 && ProgressLine.wanted(quiet: quiet))
            var runner = BatchRunner(world: world, settings: settings, schedule: schedule, events: printer.events,
                                     fault: FaultInjection.fromEnvironment)
            var skipped = 0
            var whole: [ImageJob]? = nil
            let jobs = world.rank == 0 ? resolveJobs(skipped: &skipped, whole: &whole) : .worker
            runner.planning = whole
            let outcome = try runner.run(jobs)
            if world.rank == 0 {
                printer.summary(outcome.report, skipped: skipped)
                printer.finish(outcome.report, json: json, reportPath: report)
            }
            return outcome.status
        }
        if status != .success { throw ExitCode(ExitStatus(status).rawValue) }
    }

    /// Expands folders and pairs each input with its output path (rank 0 only: other hosts
    /// may not even see the input files).
    func resolveJobs(skipped: inout Int, whole: inout [ImageJob]?) -> JobList {
        let listed = listJobs()
        if case .jobs(let jobs) = listed { TemporaryFiles.removeLeftovers(of: jobs.map(\.output)) }
        guard skipExisting, case .jobs(let jobs) = listed else { return listed }
        whole = jobs
        let left = jobs.filter { access($0.output, F_OK) != 0 }
        skipped = jobs.count - left.count
        return .jobs(left)
    }

    func listJobs() -> JobList {
        let batch = inputs.count > 1 || inputs.contains(where: isDirectory) || isDirectory(output)
        guard batch else {
            do throws(ImageError) { _ = try ImageFormat.forOutput(path: output) } catch { return .refused(Failure(error)) }
            return .jobs([ImageJob(input: inputs[0], output: output)])
        }
        var files: [String] = []
        for input in inputs {
            if isDirectory(input) {
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: input) else {
                    return .refused(Failure(.io(path: input, detail: "cannot list folder")))
                }
                let images = names.filter { ImageFormat.allExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                files += images.sorted().map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        let jobs = files.map { ImageJob(input: $0, output: (output as NSString).appendingPathComponent(($0 as NSString).lastPathComponent)) }
        // Two inputs with one name (a/x.png b/x.png) would overwrite each other's output.
        var seen: [String: String] = [:]
        for job in jobs {
            if let first = seen[job.output] {
                return .refused(Failure(status: .usage, message: "\(first) and \(job.input) would both be written to "
                                        + "\(job.output); run them separately or rename one"))
            }
            seen[job.output] = job.input
        }
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            return .refused(Failure(.io(path: output, detail: "cannot create output folder")))
        }
        return .jobs(jobs)
    }
}

// The engine's option types are the command line's values as they are.
extension HaloMode: ExpressibleByArgument {}
extension PNGEncoding: ExpressibleByArgument {}
extension SharedDecode: ExpressibleByArgument {}
extension PNMAccess: ExpressibleByArgument {}
extension Schedule: ExpressibleByArgument {}

func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
}
