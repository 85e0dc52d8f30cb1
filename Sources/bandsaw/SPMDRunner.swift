import Foundation
import ImageCore
import MPIKit

/// One input image and where its result goes (known to rank 0 only).
struct ImageJob {
    var input: String
    var output: String
}

/// How halo rows are provided when the pipeline has several stages.
enum HaloMode: String, CaseIterable {
    /// One exchange of the summed halo of every stage before the first; each stage then
    /// computes only the rows later stages still need. One round of messages, some rows
    /// computed twice on neighbouring ranks.
    case wide
    /// An exchange of each stage's own halo before that stage. No redundant computation,
    /// one round of messages per stage.
    case perStage = "per-stage"
}

/// What every rank needs to run a job, identical on all ranks (each parses the same argv).
struct RunSettings {
    var specs: [FilterSpec]
    var haloMode: HaloMode
    var maxPixels: Int
    var compressionLevel: Int
    var json: Bool
    var quiet: Bool
    /// Where rank 0 also writes the JSON report (for run.sh and the benchmarks).
    var reportPath: String?

    var pipeline: Pipeline { Pipeline(specs: specs) }
}

/// The SPMD driver: read (rank 0) -> broadcast -> scatter -> halo exchange -> filter (all
/// ranks) -> gather -> write (rank 0), once per image.
struct SPMDRunner {
    let world: Communicator
    let settings: RunSettings
    let pipeline: Pipeline

    init(world: Communicator, settings: RunSettings) {
        self.world = world
        self.settings = settings
        self.pipeline = settings.pipeline
    }

    var isRoot: Bool { world.rank == 0 }

    /// Runs every job; `jobs` is rank 0's list (ignored elsewhere). Returns the exit status
    /// every rank agrees on: the worst over the images.
    func run(jobs: Result<[ImageJob], ImageError>) throws -> ExitStatus {
        var header: [Int64] = [0, 0]
        if isRoot {
            switch jobs {
            case .success(let list): header = [0, Int64(list.count)]
            case .failure(let error):
                Console.error(error.description)
                header = [Int64(ExitStatus.badImage.rawValue), 0]
            }
        }
        try world.broadcast(&header)
        if header[0] != 0 { return ExitStatus(rawValue: Int32(header[0])) ?? .failure }

        let list = (try? jobs.get()) ?? []
        var worst = ExitStatus.success
        var reports: [String] = []
        for index in 0..<Int(header[1]) {
            let job = isRoot ? list[index] : nil
            let (status, report) = try process(job)
            if status.rawValue > worst.rawValue { worst = status }
            if let report { reports.append(report) }
        }
        if isRoot {
            let document = "{\"ranks\":\(world.size),\"halo_mode\":\(jsonString(settings.haloMode.rawValue)),"
                + "\"pipeline\":\(jsonString(settings.specs.map(\.description).joined(separator: " | "))),"
                + "\"images\":[\(reports.joined(separator: ","))]}"
            if settings.json { Console.out(document) }
            if let path = settings.reportPath {
                do { try (document + "\n").write(toFile: path, atomically: true, encoding: .utf8) }
                catch { Console.note("could not write the report to \(path)") }
            }
        }
        return worst
    }

    /// One image through the whole chain. Returns the status all ranks agree on and, on rank 0,
    /// the JSON report when `--json` was given.
    private func process(_ job: ImageJob?) throws -> (ExitStatus, String?) {
        var clock = PhaseClock()
        let start = MPI.wallTime()

        // Read on rank 0, then tell everyone the outcome first, so a refused image ends every
        // rank the same way with one message.
        var image: Image? = nil
        var readFailure: ImageError? = nil
        if let job {
            clock.time(.read) {
                do throws(ImageError) {
                    image = try readImage(path: job.input, maxPixels: settings.maxPixels)
                } catch { readFailure = error }
            }
        }
        var header: [Int64] = [0, 0, 0, 0]
        if isRoot {
            header = image.map { [0, Int64($0.width), Int64($0.height), Int64($0.channels)] }
                ?? [Int64(ExitStatus.badImage.rawValue), 0, 0, 0]
        }
        try clock.time(.broadcast) { try world.broadcast(&header) }
        if header[0] != 0 {
            if let readFailure { Console.error(readFailure.description) }
            return (ExitStatus(rawValue: Int32(header[0])) ?? .failure, nil)
        }
        let width = Int(header[1]), height = Int(header[2]), channels = Int(header[3])
        let outChannels = pipeline.outputChannels(forInput: channels)
        let owned = BandPlan(height: height, ranks: world.size, halo: 0).shares[world.rank].owned

        // Scatter owned rows, exchange halos, filter.
        let output: Band
        switch settings.haloMode {
        case .wide:
            let band = try scatter(image, width: width, height: height, channels: channels,
                                   halo: pipeline.totalHalo, clock: &clock)
            output = clock.time(.compute) { pipeline.apply(band, rows: owned) }
        case .perStage:
            var current = try scatter(image, width: width, height: height, channels: channels,
                                      halo: pipeline.stages.first?.halo ?? 0, clock: &clock)
            for (i, stage) in pipeline.stages.enumerated() {
                if i > 0 { current = try widen(current, halo: stage.halo, clock: &clock) }
                let input = current
                current = clock.time(.compute) { stage.apply(input, rows: owned) }
            }
            output = current
        }
        image = nil  // rank 0's input is no longer needed; free it before the gather allocates

        // Gather owned output rows into rank 0's image.
        let plan = BandPlan(height: height, ranks: world.size, halo: 0)
        var result = isRoot ? Image(width: width, height: height, channels: outChannels) : nil
        try clock.time(.gather) {
            try Datatype.withContiguous(width * outChannels, of: .byte) { rowType in
                try output.pixels.withUnsafeBytes { send in
                    if isRoot {
                        try result!.pixels.withUnsafeMutableBytes { receive in
                            try world.gatherv(send: send, sendCount: owned.count, type: rowType, receive: receive,
                                              counts: plan.ownedCounts, displacements: plan.ownedDisplacements)
                        }
                    } else {
                        try world.gatherv(send: send, sendCount: owned.count, type: rowType, receive: nil,
                                          counts: plan.ownedCounts, displacements: plan.ownedDisplacements)
                    }
                }
            }
        }

        // Write on rank 0 (to a temporary file renamed into place), then share the outcome.
        var status: [Int64] = [0]
        if let job, let result {
            clock.time(.write) {
                do throws(ImageError) {
                    try writeImage(result, path: job.output, compressionLevel: settings.compressionLevel)
                } catch {
                    Console.error(error.description)
                    status = [Int64(ExitStatus.badImage.rawValue)]
                }
            }
        }
        try clock.time(.write) { try world.broadcast(&status) }
        let total = MPI.wallTime() - start
        let summary = try PhaseSummary.reduce(clock, total: total, over: world)

        guard let job else { return (ExitStatus(rawValue: Int32(status[0])) ?? .failure, nil) }
        if status[0] != 0 { return (ExitStatus(rawValue: Int32(status[0])) ?? .failure, nil) }
        let shape = "\(width)x\(height)x\(channels)"
        let report = "{\"input\":\(jsonString(job.input)),\"output\":\(jsonString(job.output)),"
                + "\"width\":\(width),\"height\":\(height),\"channels\":\(channels),"
                + "\"output_channels\":\(outChannels),\"ok\":\(status[0] == 0),\"phases\":\(summary.json)}"
        if !settings.json && !settings.quiet && status[0] == 0 {
            let ops = settings.specs.map(\.description).joined(separator: " | ")
            Console.out(summary.table(title: "\(job.input) (\(shape)) -> \(job.output)  [\(ops)] on \(world.size) rank\(world.size == 1 ? "" : "s")"))
        }
        return (ExitStatus(rawValue: Int32(status[0])) ?? .failure, report)
    }

    /// Scatters each rank's owned rows straight into the middle of a buffer sized for its
    /// needed rows, then fills the halo rows from the neighbours.
    private func scatter(_ image: Image?, width: Int, height: Int, channels: Int, halo: Int,
                         clock: inout PhaseClock) throws -> Band {
        let plan = BandPlan(height: height, ranks: world.size, halo: halo)
        let share = plan.shares[world.rank]
        let rowBytes = width * channels
        var pixels = [UInt8](unsafeUninitializedCapacity: share.needed.count * rowBytes) { _, n in
            n = share.needed.count * rowBytes
        }
        try Datatype.withContiguous(rowBytes, of: .byte) { rowType in
            try pixels.withUnsafeMutableBytes { buffer in
                let offset = (share.owned.lowerBound - share.needed.lowerBound) * rowBytes
                let ownedRows = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + share.owned.count * rowBytes)])
                try clock.time(.scatter) {
                    if let image {
                        try image.pixels.withUnsafeBytes { send in
                            try world.scatterv(send: send, counts: plan.ownedCounts, displacements: plan.ownedDisplacements,
                                               type: rowType, receive: ownedRows, receiveCount: share.owned.count)
                        }
                    } else {
                        try world.scatterv(send: nil, counts: plan.ownedCounts, displacements: plan.ownedDisplacements,
                                           type: rowType, receive: ownedRows, receiveCount: share.owned.count)
                    }
                }
                try clock.time(.halo) {
                    try world.exchangeRows(buffer: buffer, held: share.needed, rowBytes: rowBytes, rowType: rowType,
                                           reach: plan.exchangeReach, transfer: plan.transfer)
                }
            }
        }
        return Band(width: width, channels: channels, imageHeight: height, firstRow: share.needed.lowerBound, pixels: pixels)
    }

    /// Grows a band of owned rows by `halo` rows from the neighbours (per-stage mode).
    private func widen(_ band: Band, halo: Int, clock: inout PhaseClock) throws -> Band {
        let plan = BandPlan(height: band.imageHeight, ranks: world.size, halo: halo)
        let share = plan.shares[world.rank]
        let rowBytes = band.rowBytes
        var pixels = [UInt8](repeating: 0, count: share.needed.count * rowBytes)
        let offset = (share.owned.lowerBound - share.needed.lowerBound) * rowBytes
        try clock.time(.halo) {
            pixels.replaceSubrange(offset..<(offset + band.pixels.count), with: band.pixels)
            try Datatype.withContiguous(rowBytes, of: .byte) { rowType in
                try pixels.withUnsafeMutableBytes { buffer in
                    try world.exchangeRows(buffer: buffer, held: share.needed, rowBytes: rowBytes, rowType: rowType,
                                           reach: plan.exchangeReach, transfer: plan.transfer)
                }
            }
        }
        return Band(width: band.width, channels: band.channels, imageHeight: band.imageHeight,
                    firstRow: share.needed.lowerBound, pixels: pixels)
    }
}
