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

/// Who deflates PNG output.
enum Encoding: String, CaseIterable {
    /// Every rank filters and deflates its own rows; rank 0 stitches the pieces.
    case parallel
    /// Rank 0 gathers the pixels and encodes the whole image with libpng.
    case serial
}

/// What every rank needs to run a job, identical on all ranks (each parses the same argv).
struct RunSettings {
    var specs: [FilterSpec]
    var haloMode: HaloMode
    var maxPixels: Int
    var compressionLevel: Int
    var encoding: Encoding
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
                header = [Int64(ExitStatus(for: error).rawValue), 0]
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

    /// One image through the whole chain. Returns the status all ranks agree on and, on rank 0
    /// when the image was written, its JSON report.
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
        // [status, width, height, channels, 1 when the bands encode their own PNG rows]
        var header: [Int64] = [0, 0, 0, 0, 0]
        if let job, let image {
            let parallel = settings.encoding == .parallel && (try? ImageFormat.forOutput(path: job.output)) == .png
            header = [0, Int64(image.width), Int64(image.height), Int64(image.channels), parallel ? 1 : 0]
        } else if isRoot {
            header = [Int64(ExitStatus.badImage.rawValue), 0, 0, 0, 0]
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
            let band = try scatter(&image, width: width, height: height, channels: channels,
                                   halo: pipeline.totalHalo, clock: &clock)
            output = clock.time(.compute) { pipeline.apply(band, rows: owned) }
        case .perStage:
            var current = try scatter(&image, width: width, height: height, channels: channels,
                                      halo: pipeline.stages.first?.halo ?? 0, clock: &clock)
            for (i, stage) in pipeline.stages.enumerated() {
                if i > 0 { current = try widen(current, halo: stage.halo, clock: &clock) }
                let input = current
                current = clock.time(.compute) { stage.apply(input, rows: owned) }
            }
            output = current
        }

        // Encode and write on rank 0 (to a temporary file renamed into place), then share the outcome.
        var status: [Int64] = [0]
        func attempt(_ body: () throws(ImageError) -> Void) {
            do throws(ImageError) { try body() } catch {
                Console.error(error.description)
                status = [Int64(ExitStatus.badImage.rawValue)]
            }
        }
        if header[4] == 1 {
            let png = try encodeInParallel(output, clock: &clock)
            if let job, let png { clock.time(.write) { attempt { () throws(ImageError) in try writeFileAtomically(png, path: job.output) } } }
        } else {
            let result = try gatherPixels(output, channels: outChannels, clock: &clock)
            if let job, let result {
                attempt { () throws(ImageError) in
                    let format = try ImageFormat.forOutput(path: job.output)
                    let bytes = try clock.time(.encode) { () throws(ImageError) in
                        try encodeImage(result, format: format, compressionLevel: settings.compressionLevel)
                    }
                    try clock.time(.write) { () throws(ImageError) in try writeFileAtomically(bytes, path: job.output) }
                }
            }
        }
        try clock.time(.write) { try world.broadcast(&status) }
        let total = MPI.wallTime() - start
        let summary = try PhaseSummary.reduce(clock, total: total, over: world)

        guard let job, status[0] == 0 else { return (ExitStatus(rawValue: Int32(status[0])) ?? .failure, nil) }
        let shape = "\(width)x\(height)x\(channels)"
        let report = "{\"input\":\(jsonString(job.input)),\"output\":\(jsonString(job.output)),"
                + "\"width\":\(width),\"height\":\(height),\"channels\":\(channels),"
                + "\"output_channels\":\(outChannels),\"phases\":\(summary.json)}"
        if !settings.json && !settings.quiet {
            let ops = settings.specs.map(\.description).joined(separator: " | ")
            Console.out(summary.table(title: "\(job.input) (\(shape)) -> \(job.output)  [\(ops)] on \(world.size) rank\(world.size == 1 ? "" : "s")"))
        }
        return (.success, report)
    }

    /// Gathers every rank's output rows into rank 0's image (nil elsewhere).
    private func gatherPixels(_ output: Band, channels: Int, clock: inout PhaseClock) throws -> Image? {
        let plan = BandPlan(height: output.imageHeight, ranks: world.size, halo: 0)
        let owned = plan.shares[world.rank].owned
        let width = output.width, height = output.imageHeight
        var result: Image? = nil
        if isRoot {
            let count = width * height * channels
            result = Image(width: width, height: height, channels: channels,
                           pixels: [UInt8](unsafeUninitializedCapacity: count) { _, n in n = count })
        }
        try clock.time(.gather) {
            try Datatype.withContiguous(width * channels, of: .byte) { rowType in
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
        return result
    }

    /// Every rank PNG-filters and deflates its own output rows; rank 0 gathers the compressed
    /// pieces (far fewer bytes than pixels) and stitches one PNG (nil elsewhere).
    private func encodeInParallel(_ output: Band, clock: inout PhaseClock) throws -> [UInt8]? {
        let owned = output.rows
        let rowBytes = output.rowBytes
        let piece = try clock.time(.encode) { () throws -> DeflatedBand in
            // The PNG filters of a band's first row read the row above it: pass each band's
            // last row down one rank (ranks beyond the last row own nothing and skip this).
            let size = world.size, rank = world.rank
            // Empty bands only ever come last, so a rank with rows has a predecessor with rows,
            // and its successor has rows unless this band reaches the image's bottom.
            let next = rank + 1 < size && !owned.isEmpty && owned.upperBound < output.imageHeight ? rank + 1 : nil
            let previous = rank > 0 && !owned.isEmpty ? rank - 1 : nil
            let aboveCount = previous == nil ? 0 : rowBytes
            var above = [UInt8](repeating: 0, count: aboveCount)
            let last = owned.isEmpty ? [] : Array(output.pixels[(output.pixels.count - rowBytes)...])
            try last.withUnsafeBytes { send in
                try above.withUnsafeMutableBytes { receive in
                    try world.sendReceive(send: send, sendCount: next == nil ? 0 : rowBytes, to: next,
                                          receive: receive, receiveCount: aboveCount, from: previous, type: .byte)
                }
            }
            return try PNGBandEncoder.deflate(output, previousRow: previous == nil ? nil : above,
                                              compressionLevel: settings.compressionLevel)
        }
        var png: [UInt8]? = nil
        try clock.time(.gather) {
            // Each rank's piece size, Adler-32 and raw length first, then the bytes.
            let meta: [Int64] = [Int64(piece.bytes.count), Int64(piece.adler), Int64(piece.rawLength)]
            var all = [Int64](repeating: 0, count: isRoot ? 3 * world.size : 0)
            try meta.withUnsafeBytes { send in
                try all.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: 3, type: .int64, receive: isRoot ? receive : nil,
                                      counts: [Int](repeating: 3, count: world.size),
                                      displacements: (0..<world.size).map { 3 * $0 })
                }
            }
            let sizes = isRoot ? stride(from: 0, to: all.count, by: 3).map { Int(all[$0]) } : []
            var offsets: [Int] = []
            var total = 0
            for n in sizes { offsets.append(total); total += n }
            var compressed = [UInt8](unsafeUninitializedCapacity: total) { _, n in n = total }
            try piece.bytes.withUnsafeBytes { send in
                try compressed.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: piece.bytes.count, type: .byte, receive: isRoot ? receive : nil,
                                      counts: isRoot ? sizes : [], displacements: offsets)
                }
            }
            if isRoot {
                png = PNGBandEncoder.assemble(
                    width: output.width, height: output.imageHeight, channels: output.channels, compressed: compressed,
                    adlers: stride(from: 1, to: all.count, by: 3).map { UInt32(all[$0]) },
                    rawLengths: stride(from: 2, to: all.count, by: 3).map { UInt64(all[$0]) })
            }
        }
        return png
    }

    /// Scatters each rank's owned rows straight into the middle of a buffer sized for its
    /// needed rows, then fills the halo rows from the neighbours.
    ///
    /// Rank 0 takes the decoded image over as its band (`image` is left nil): its own rows
    /// stay where the decoder put them (`MPI_IN_PLACE`) and its halo rows below are already
    /// there too, so rank 0 copies nothing, and a one-rank run no pixel at all.
    private func scatter(_ image: inout Image?, width: Int, height: Int, channels: Int, halo: Int,
                         clock: inout PhaseClock) throws -> Band {
        let plan = BandPlan(height: height, ranks: world.size, halo: halo)
        let share = plan.shares[world.rank]
        let rowBytes = width * channels
        if var pixels = image.take()?.pixels {
            try Datatype.withContiguous(rowBytes, of: .byte) { rowType in
                try clock.time(.scatter) {
                    try pixels.withUnsafeBytes { send in
                        try world.scattervInPlaceAtRoot(send: send, counts: plan.ownedCounts,
                                                        displacements: plan.ownedDisplacements, type: rowType)
                    }
                }
                // Rank 0 holds every row; the exchange only sends its rows to the ranks that
                // need them (and receives copies of rows it already has, a halo's worth).
                try clock.time(.halo) {
                    try pixels.withUnsafeMutableBytes { buffer in
                        try world.exchangeRows(buffer: buffer, held: 0..<height, rowBytes: rowBytes, rowType: rowType,
                                               reach: plan.exchangeReach, transfer: plan.transfer)
                    }
                }
            }
            return Band(width: width, channels: channels, imageHeight: height, firstRow: 0, pixels: pixels)
        }
        var pixels = [UInt8](unsafeUninitializedCapacity: share.needed.count * rowBytes) { _, n in
            n = share.needed.count * rowBytes
        }
        try Datatype.withContiguous(rowBytes, of: .byte) { rowType in
            try pixels.withUnsafeMutableBytes { buffer in
                let offset = (share.owned.lowerBound - share.needed.lowerBound) * rowBytes
                let ownedRows = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + share.owned.count * rowBytes)])
                try clock.time(.scatter) {
                    try world.scatterv(send: nil, counts: plan.ownedCounts, displacements: plan.ownedDisplacements,
                                       type: rowType, receive: ownedRows, receiveCount: share.owned.count)
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
