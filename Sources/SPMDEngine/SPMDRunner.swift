import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ImageCore
import MPIKit

/// One input image and where its result goes (known to rank 0 only).
public struct ImageJob: Sendable {
    public var input: String
    public var output: String

    public init(input: String, output: String) { self.input = input; self.output = output }
}

/// How halo rows are provided when the pipeline has several stages.
public enum HaloMode: String, CaseIterable, Sendable {
    /// One exchange of the summed halo of every stage before the first; each stage then
    /// computes only the rows later stages still need. One round of messages, some rows
    /// computed twice on neighbouring ranks.
    case wide
    /// An exchange of each stage's own halo before that stage. No redundant computation,
    /// one round of messages per stage.
    case perStage = "per-stage"
}

/// Who deflates PNG output.
public enum Encoding: String, CaseIterable, Sendable {
    /// Every rank filters and deflates its own rows; rank 0 stitches the pieces.
    case parallel
    /// Rank 0 gathers the pixels and encodes the whole image with libpng.
    case serial
}

/// Who decodes a PNG or TIFF input when there is more than one rank.
public enum Decoding: String, CaseIterable, Sendable {
    /// Shared: every rank decodes its own restart segments (PNGs written by bandsaw), or
    /// rank 0 inflates and every rank unfilters its own rows (other 8-bit PNGs); every rank
    /// decodes its own strips or tiles of a TIFF it can open.
    case auto
    /// Rank 0 decodes the whole image and scatters pixels (for comparison).
    case whole
}

/// Who reads and writes PGM/PPM files.
public enum IOMode: String, CaseIterable, Sendable {
    /// Rank 0 reads and writes every file; pixels pass through it.
    case root
    /// Every rank reads its own rows and writes its own output rows (MPI-IO); every rank must
    /// see the files (one host, or a shared filesystem). Other formats are read as with root.
    case mpiio
}

/// What every rank needs to run a job, identical on all ranks (each parses the same argv).
public struct RunSettings: Sendable {
    public var specs: [FilterSpec]
    public var haloMode: HaloMode
    public var maxPixels: Int
    public var compressionLevel: Int
    public var encoding: Encoding
    public var json: Bool
    public var quiet: Bool
    /// Where rank 0 also writes the JSON report (for run.sh and the benchmarks).
    public var reportPath: String?
    /// Whether the ranks share the decode of a PNG.
    public var decoding: Decoding = .auto
    /// Who reads and writes PGM/PPM files.
    public var io: IOMode = .root
    /// JPEG quality, or lossy WebP at this quality (nil: JPEG 90, WebP lossless).
    public var quality: Int? = nil
    /// Whether a JPEG's EXIF orientation is applied on reading.
    public var autorotate = true

    /// How rank 0 encodes a gathered image.
    var encodeOptions: EncodeOptions { EncodeOptions(compressionLevel: compressionLevel, quality: quality) }

    var pipeline: Pipeline { Pipeline(specs: specs) }

    public init(specs: [FilterSpec], haloMode: HaloMode = .wide, maxPixels: Int = ImageLimits.defaultMaxPixels,
                compressionLevel: Int = 1, encoding: Encoding = .parallel, json: Bool = false, quiet: Bool = false,
                reportPath: String? = nil, decoding: Decoding = .auto, io: IOMode = .root,
                quality: Int? = nil, autorotate: Bool = true) {
        self.specs = specs; self.haloMode = haloMode; self.maxPixels = maxPixels
        self.compressionLevel = compressionLevel; self.encoding = encoding; self.json = json; self.quiet = quiet
        self.reportPath = reportPath; self.decoding = decoding; self.io = io
        self.quality = quality; self.autorotate = autorotate
    }
}

/// The SPMD driver: read (rank 0) -> broadcast -> scatter -> halo exchange -> filter (all
/// ranks) -> gather -> write (rank 0), once per image.
public struct SPMDRunner {
    let world: Communicator
    let settings: RunSettings
    let pipeline: Pipeline

    public init(world: Communicator, settings: RunSettings) {
        self.world = world
        self.settings = settings
        self.pipeline = settings.pipeline
    }

    var isRoot: Bool { world.rank == 0 }

    /// Runs every job; `jobs` is rank 0's list (ignored elsewhere). Returns the exit status
    /// every rank agrees on: the worst over the images.
    public func run(jobs: Result<[ImageJob], any Error>) throws -> ExitStatus {
        TemporaryFiles.installSignalHandlers()
        var header = JobListHeader()
        if isRoot {
            switch jobs {
            case .success(let list): header.count = list.count
            case .failure(let error):
                Console.error("\(error)")
                header.status = ExitStatus(for: error)
            }
        }
        var wire = header.wire
        try world.broadcast(&wire)
        header = JobListHeader(wire: wire)
        if header.status != .success { return header.status }

        let list = (try? jobs.get()) ?? []
        var worst = ExitStatus.success
        var reports: [ImageReport] = []
        for index in 0..<header.count {
            let job = isRoot ? list[index] : nil
            let (status, report) = try process(job)
            if status.rawValue > worst.rawValue { worst = status }
            if let report { reports.append(report) }
        }
        if isRoot {
            let document = RunReport(ranks: world.size, halo_mode: settings.haloMode.rawValue,
                                     pipeline: settings.specs.map(\.description).joined(separator: " | "),
                                     images: reports).json
            if settings.json { Console.out(document) }
            if let path = settings.reportPath {
                do { try (document + "\n").write(toFile: path, atomically: true, encoding: .utf8) }
                catch { Console.note("could not write the report to \(path)") }
            }
        }
        return worst
    }

    /// One image through the whole chain. Returns the status all ranks agree on and, on rank 0
    /// when the image was written, its JSON report. After every phase that can fail on one
    /// rank, the ranks agree (``agree(_:_:)``): a failure anywhere ends the image on every
    /// rank, with one message from rank 0 and no output file.
    private func process(_ job: ImageJob?) throws -> (ExitStatus, ImageReport?) {
        var clock = PhaseClock()
        let start = MPI.wallTime()

        // Read on rank 0. With more than one rank a PNG is not decoded whole here: its
        // segments (restart points) or its rows' unfiltering are shared below; nor is a TIFF,
        // whose strips or tiles every rank decodes for itself.
        var source = Source.none
        var fileBytes: [UInt8] = []
        if let job { clock.time(.read) { (source, fileBytes) = read(job) } }
        var readFailure: Failure? = nil
        if case .failure(let error) = source { readFailure = Failure(error) }
        if let failure = try clock.time(.broadcast, { try agree(.read, readFailure) }) { return (failure.status, nil) }

        // Rank 0 tells every rank what is coming.
        var header = JobHeader()
        if let job { header = describe(source, for: job) }
        var wire = header.wire
        try clock.time(.broadcast) { try world.broadcast(&wire) }
        header = JobHeader(wire: wire)
        let width = header.width, height = header.height, channels = header.channels
        let outChannels = pipeline.outputChannels(forInput: channels)
        // Wide: the halo up to the first non-local stage (later parts widen again after it).
        let firstHalo = settings.haloMode == .wide ? pipeline.parts[0].totalHalo : (pipeline.stages.first?.halo ?? 0)
        var mode = header.decode

        // Each rank's first band, with its halo rows: read by rows (MPI-IO), decoded by TIFF
        // strips or tiles, by PNG segments or unfiltered by rows where every rank succeeded,
        // else decoded whole on rank 0 and scattered.
        var plan = BandPlan(height: height, ranks: world.size, halo: firstHalo)
        if header.encodesJPEGBands {
            // Bands on the JPEG output's MCU rows, so every rank encodes its own.
            let unit = JPEGBandEncoder.mcuRows(channels: outChannels)
            plan = BandPlan(height: height, ownedCounts: JPEGBands.split(height: height, ranks: world.size, unit: unit),
                            halo: firstHalo)
        }
        var band: Band? = nil
        var decodeFailure: Failure? = nil
        if mode == .file {
            var input = Array((job?.input ?? "").utf8)
            try clock.time(.broadcast) { try world.broadcast(bytes: &input) }
            let pnm = PNMCodec.Header(width: width, height: height, channels: channels, maxval: header.pnmMaxval,
                                      dataOffset: header.pnmDataOffset)
            switch try readRows(String(decoding: input, as: UTF8.self), pnm, plan: plan, clock: &clock) {
            case .success(let rows): band = rows
            case .failure(let error): decodeFailure = isRoot ? Failure(error) : nil
            }
        } else if mode == .tiff {
            var input = Array((job?.input ?? "").utf8)
            try clock.time(.broadcast) { try world.broadcast(bytes: &input) }
            var opened: TIFFCodec.Reader? = nil
            if case .tiffFile(let reader) = source { opened = reader }
            source = .none
            switch try decodeTIFFRows(String(decoding: input, as: UTF8.self), opened, width: width, height: height,
                                      channels: channels, plan: plan, clock: &clock) {
            case .success(let rows)?: band = rows
            case .failure(let error)?: decodeFailure = Failure(error)
            case nil:
                // Some rank cannot see the file (no shared filesystem): rank 0 decodes it whole.
                mode = .whole
                if let job {
                    clock.time(.read) {
                        do throws(ImageError) {
                            source = .image(try readImage(path: job.input, maxPixels: settings.maxPixels))
                        } catch {
                            decodeFailure = Failure(error)
                        }
                    }
                }
            }
        } else if mode != .whole {
            // Rank 0 hands its read over (one owner, so the rows change in place uncopied).
            var png: RestartablePNG? = nil, rows: FilteredRows? = nil, jpeg: JPEGLayout? = nil
            if case .segments(let found) = source { png = found }
            if case .rows(let found) = source { rows = found }
            if case .jpeg(let found) = source { jpeg = found }
            source = .none
            let decoded = mode == .segments
                ? try decodeBySegments(png, height: height, width: width, channels: channels,
                                       segments: header.segments, halo: firstHalo, clock: &clock)
                : mode == .rows
                ? try unfilterByRows(&rows, height: height, width: width, channels: channels,
                                     halo: firstHalo, clock: &clock)
                : try decodeJPEGBands(jpeg, file: fileBytes, path: job?.input ?? "",
                                      outputJPEGChannels: header.encodesJPEGBands ? outChannels : nil, halo: firstHalo,
                                      clock: &clock)
            if let decoded {
                (band, plan) = decoded
            } else if let job {
                // Not every rank succeeded (a lying restart chunk, a bad filter byte): rank 0
                // decodes the file whole, as on one rank, and that decoder's verdict stands.
                clock.time(.read) {
                    do throws(ImageError) {
                        source = .image(try decodeImage(bytes: fileBytes, path: job.input, maxPixels: settings.maxPixels,
                                                        autorotate: settings.autorotate))
                    } catch {
                        decodeFailure = Failure(error)
                    }
                }
            }
            if band == nil { mode = .whole }
        }
        fileBytes = []
        if let failure = try clock.time(.decode, { try agree(.decode, decodeFailure) }) { return (failure.status, nil) }
        if band == nil {
            var image: Image? = nil
            if case .image(let decoded) = source { image = decoded; source = .none }
            band = try scatter(&image, width: width, height: height, channels: channels, plan: plan, clock: &clock)
        }
        if let failure = try agree(.scatter) { return (failure.status, nil) }

        let (output, rounds) = try filter(band!, plan: plan, clock: &clock)
        band = nil
        if let failure = try agree(.compute) { return (failure.status, nil) }

        // Encode and write: every rank its own rows (MPI-IO), or rank 0 a temporary file that
        // it renames into place once every rank agreed that all went well.
        var temporary: String? = nil
        var writeFailure: Failure? = nil
        if header.writesRows {
            // Nothing is gathered: the "encode" is each rank's own rows turned into PNM samples.
            if let failure = try agree(.encode) { return (failure.status, nil) }
            switch try writeRows(output, plan: plan, channels: outChannels, to: job?.output, clock: &clock) {
            case .success(let name): temporary = name
            case .failure(let error): writeFailure = isRoot ? Failure(error) : nil
            }
        } else {
            var bytes: [UInt8]? = nil
            var encodeFailure: Failure? = nil
            if header.encodesInParallel {
                // Every rank deflates its rows; the ranks agree before the gather.
                let piece: DeflatedBand?
                do { piece = try encodeBand(output, plan: plan, clock: &clock) } catch let error as ImageError {
                    piece = nil
                    encodeFailure = Failure(error)
                }
                if let failure = try agree(.encode, encodeFailure) { return (failure.status, nil) }
                bytes = try gatherPieces(piece!, output: output, plan: plan, clock: &clock)
                if let failure = try agree(.gather) { return (failure.status, nil) }
            } else if header.encodesJPEGBands && Self.jpegBandsAligned(plan, channels: outChannels) {
                // Every rank encodes its own MCU rows; rank 0 joins the pieces.
                var piece: JPEGBandEncoder.Piece? = nil
                do throws(ImageError) { piece = try encodeJPEGBand(output, clock: &clock) } catch { encodeFailure = Failure(error) }
                if let failure = try agree(.encode, encodeFailure) { return (failure.status, nil) }
                bytes = try gatherJPEGPieces(piece, clock: &clock)
                if let failure = try agree(.gather) { return (failure.status, nil) }
            } else {
                let result = try gatherPixels(output, plan: plan, channels: outChannels, clock: &clock)
                if let failure = try agree(.gather) { return (failure.status, nil) }
                if let job, let result {
                    do throws(ImageError) {
                        let format = try ImageFormat.forOutput(path: job.output)
                        bytes = try clock.time(.encode) { () throws(ImageError) in
                            try encodeImage(result, format: format, options: settings.encodeOptions)
                        }
                    } catch { encodeFailure = Failure(error) }
                }
                if let failure = try agree(.encode, encodeFailure) { return (failure.status, nil) }
            }
            if let job, let bytes {
                clock.time(.write) {
                    TemporaryFiles.track(temporaryPath(for: job.output))
                    do throws(ImageError) { temporary = try writeTemporaryFile(bytes, for: job.output) } catch {
                        writeFailure = Failure(error)
                        TemporaryFiles.track(nil)
                    }
                }
            }
        }
        // Rank 0 renames its temporary file into place only once every rank agreed.
        let agreed = try clock.time(.write) { try agree(.write, writeFailure) }
        var commitFailure: Failure? = nil
        if let job, let temporary {
            if agreed == nil {
                do throws(ImageError) { try commitTemporary(temporary, to: job.output) } catch { commitFailure = Failure(error) }
            } else {
                unlink(temporary)
            }
            TemporaryFiles.track(nil)
        }
        if let agreed { return (agreed.status, nil) }
        // The rename can still fail (rarely): one more word so every rank exits alike.
        if let failure = try clock.time(.write, { try agree(.write, commitFailure) }) { return (failure.status, nil) }
        let total = MPI.wallTime() - start
        let summary = try PhaseSummary.reduce(clock, total: total, over: world)
        let peaks = try PeakMemory.byRank(over: world)

        guard let job else { return (.success, nil) }
        let shape = "\(width)x\(height)x\(channels)"
        let report = ImageReport(input: job.input, output: job.output, width: width, height: height, channels: channels,
                                 output_channels: outChannels, decode: mode.name, phases: summary,
                                 peak_rss_mib: peaks, hysteresis_rounds: rounds.isEmpty ? nil : rounds)
        if !settings.json && !settings.quiet {
            let ops = settings.specs.map(\.description).joined(separator: " | ")
            Console.out(summary.table(title: "\(job.input) (\(shape)) -> \(job.output)  [\(ops)] on \(world.size) rank\(world.size == 1 ? "" : "s")"))
            if !rounds.isEmpty { Console.out("hysteresis rounds: \(rounds.map(String.init).joined(separator: ", "))") }
        }
        return (.success, report)
    }

    /// This rank's band through the pipeline; returns its owned output rows and, per non-local
    /// stage, the hysteresis rounds it took. Wide: part by part (``Pipeline/parts``), each
    /// part's local stages in one go on its halo, widening again after each non-local stage.
    /// Per stage: a halo exchange before every stage but the first.
    private func filter(_ input: Band, plan: BandPlan, clock: inout PhaseClock) throws -> (Band, [Int]) {
        let owned = plan.shares[world.rank].owned
        var current = input
        var rounds: [Int] = []
        func run(_ stage: any Kernel, on input: Band, clock: inout PhaseClock) throws -> Band {
            guard let nonLocal = stage as? any NonLocalKernel else {
                return clock.time(.compute) { stage.apply(input, rows: owned) }
            }
            let states = clock.time(.compute) { nonLocal.edgeStates(input, rows: owned) }
            let (edges, n) = try settleHysteresis(states, plan: plan, clock: &clock)
            rounds.append(n)
            return edges
        }
        switch settings.haloMode {
        case .wide:
            for (p, part) in pipeline.parts.enumerated() {
                if p > 0 { current = try widen(current, plan: plan, halo: part.totalHalo, clock: &clock) }
                guard let last = part.stages.last as? any NonLocalKernel else {
                    let band = current
                    current = clock.time(.compute) { part.apply(band, rows: owned) }
                    continue
                }
                // The local stages compute the rows the non-local stage reads, then it runs.
                let local = Pipeline(Array(part.stages.dropLast())), band = current
                let prepared = clock.time(.compute) { local.apply(band, rows: band.rowsNeeded(for: owned, halo: last.halo)) }
                current = try run(last, on: prepared, clock: &clock)
            }
        case .perStage:
            for (i, stage) in pipeline.stages.enumerated() {
                if i > 0 { current = try widen(current, plan: plan, halo: stage.halo, clock: &clock) }
                current = try run(stage, on: current, clock: &clock)
            }
        }
        return (current, rounds)
    }

    /// The header rank 0 sends for what it read.
    private func describe(_ source: Source, for job: ImageJob) -> JobHeader {
        var header = JobHeader()
        let format = try? ImageFormat.forOutput(path: job.output)
        header.encodesInParallel = settings.encoding == .parallel && format == .png
        header.writesRows = settings.io == .mpiio && format == .pnm
        header.encodesJPEGBands = settings.encoding == .parallel && format == .jpeg
        switch source {
        case .image(let image):
            (header.width, header.height, header.channels) = (image.width, image.height, image.channels)
        case .segments(let png):
            (header.width, header.height, header.channels) = (png.width, png.height, png.channels)
            header.decode = .segments
            header.segments = png.layout.segments
        case .rows(let rows):
            (header.width, header.height, header.channels) = (rows.width, rows.height, rows.channels)
            header.decode = .rows
        case .pnmFile(let pnm):
            (header.width, header.height, header.channels) = (pnm.width, pnm.height, pnm.channels)
            header.decode = .file
            (header.pnmMaxval, header.pnmDataOffset) = (pnm.maxval, pnm.dataOffset)
        case .tiffFile(let tiff):
            (header.width, header.height, header.channels) = (tiff.width, tiff.height, tiff.channels)
            header.decode = .tiff
        case .jpeg(let layout):
            (header.width, header.height, header.channels) = (layout.width, layout.height, layout.channels)
            header.decode = layout.strategy == .restart ? .jpegRestart : .jpegSkip
        case .failure, .none:
            header.status = .badImage
        }
        return header
    }

    /// What rank 0 holds after reading an input.
    private enum Source {
        /// Nothing (every other rank, or after the pixels moved on).
        case none
        /// The image, decoded whole.
        case image(Image)
        /// A PNG with restart points, to be decoded by segments on every rank.
        case segments(RestartablePNG)
        /// A PNG inflated but not unfiltered: every rank unfilters its own rows.
        case rows(FilteredRows)
        /// A PGM/PPM whose header rank 0 has read: every rank reads its own rows (MPI-IO).
        case pnmFile(PNMCodec.Header)
        /// A TIFF rank 0 has opened and checked: every rank decodes its own rows.
        case tiffFile(TIFFCodec.Reader)
        /// A JPEG whose markers rank 0 has indexed: every rank decodes its own rows.
        case jpeg(JPEGLayout)
        /// Why the input cannot be read.
        case failure(ImageError)
    }

    /// Reads the file and decodes it whole, unless it is a PNG whose decode the ranks can share
    /// (more than one rank, `--decode auto`, every MPI count within `Int32`). Also returns the
    /// file's bytes, kept for a whole decode should the shared one fail.
    private func read(_ job: ImageJob) -> (Source, [UInt8]) {
        var bytes: [UInt8] = []
        do throws(ImageError) {
            if settings.io == .mpiio, let pnm = try pnmHeader(job.input) { return (.pnmFile(pnm), []) }
            if world.size > 1 && settings.decoding == .auto, let tiff = try tiffReader(job.input) { return (.tiffFile(tiff), []) }
            bytes = try readFileBytes(path: job.input)
            if world.size > 1 && settings.decoding == .auto {
                if let png = PNGRestart.probe(bytes, maxPixels: settings.maxPixels), png.stream.count < Int(Int32.max) {
                    return (.segments(png), bytes)
                }
                if let rows = PNGRows.inflate(bytes, maxPixels: settings.maxPixels) { return (.rows(rows), bytes) }
                if JPEGCodec.hasSignature(bytes), bytes.count < Int(Int32.max),
                   let layout = try? JPEGLayout.probe(bytes, path: job.input, maxPixels: settings.maxPixels,
                                                      autorotate: settings.autorotate), !layout.isWhole {
                    return (.jpeg(layout), bytes)
                }
            }
            return (.image(try decodeImage(bytes: bytes, path: job.input, maxPixels: settings.maxPixels,
                                           autorotate: settings.autorotate)), [])
        } catch {
            return (.failure(error), [])
        }
    }

    /// Every rank decodes its own whole segments of a PNG with restart points: rank 0 sends
    /// each rank its part of the compressed stream (one `MPI_Scatterv`, no byte read twice),
    /// every rank inflates and unfilters it straight into its band, and rank 0 checks the
    /// pieces' Adler-32s against the stream's. Returns the band with its halo rows, or nil
    /// on every rank when any rank's segments did not decode or the checksum disagrees.
    private func decodeBySegments(_ png: RestartablePNG?, height: Int, width: Int, channels: Int, segments: Int,
                                  halo: Int, clock: inout PhaseClock) throws -> (Band, BandPlan)? {
        let layout = RestartLayout(height: height, segments: segments)
        let plan = BandPlan(height: height, ownedCounts: layout.rankRowCounts(ranks: world.size), halo: halo)
        let rowBytes = width * channels
        let share = plan.shares[world.rank]
        // Rank r's bytes of the stream; rank 0 knows them, the others learn their counts.
        let ranges = png.map { png in plan.shares.map { png.bytes(for: $0.owned) } } ?? []
        var counts = ranges.map { Int64($0.count) }
        if counts.isEmpty { counts = [Int64](repeating: 0, count: world.size) }
        try clock.time(.scatter) { try world.broadcast(&counts) }
        let count = Int(counts[world.rank])
        let toEnd = share.owned.upperBound == plan.height && !share.owned.isEmpty

        // Owned rows in the middle of a buffer sized for the needed rows, with one spare byte
        // per owned row at the end so the rows inflate in place (cpng_restart_decode).
        let haloAbove = share.haloAbove
        let spare = share.owned.count
        var pixels = [UInt8](unsafeUninitializedCapacity: share.needed.count * rowBytes + spare) { _, n in
            n = share.needed.count * rowBytes + spare
        }
        var ok = true
        var adler: UInt32 = 1
        func decode(_ data: UnsafeMutableRawBufferPointer) {
            pixels.withUnsafeMutableBytes { buffer in
                let out = UnsafeMutableRawBufferPointer(rebasing: buffer[(haloAbove * rowBytes)...])
                do throws(PNGRestart.Refusal) {
                    adler = try PNGRestart.decode(data, count: count, atTop: share.owned.lowerBound == 0, toEnd: toEnd,
                                                  into: out, rows: share.owned.count, rowBytes: rowBytes, channels: channels)
                } catch { ok = false }
            }
        }
        if var stream = png?.stream {
            try stream.withUnsafeMutableBytes { all in
                try clock.time(.scatter) {
                    try world.scattervInPlaceAtRoot(send: UnsafeRawBufferPointer(all), counts: ranges.map(\.count),
                                                    displacements: ranges.map(\.lowerBound), type: .byte)
                }
                // Rank 0's part stays where it is; the two bytes after it belong to rank 1's
                // part, already sent, or to the trailer when rank 0 decodes to the end.
                let mine = ranges[0]
                clock.time(.decode) { decode(UnsafeMutableRawBufferPointer(rebasing: all[mine.lowerBound...])) }
            }
        } else {
            var data = [UInt8](repeating: 0, count: count + 2)
            try data.withUnsafeMutableBytes { buffer in
                try clock.time(.scatter) {
                    try world.scatterv(send: nil, counts: [], displacements: [], type: .byte,
                                       receive: buffer, receiveCount: count)
                }
                clock.time(.decode) { decode(buffer) }
            }
        }
        pixels.removeLast(spare)

        // Agree: every rank's outcome and Adler-32 to rank 0, which checks them against the
        // stream's trailer; one verdict for all.
        var verdict: [Int64] = [0]
        let rawLength = share.owned.count * (rowBytes + 1)
        try clock.time(.decode) {
            let mine: [Int64] = [ok ? 1 : 0, Int64(adler), Int64(rawLength)]
            var all = [Int64](repeating: 0, count: png == nil ? 0 : 3 * world.size)
            try mine.withUnsafeBytes { send in
                try all.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: 3, type: .int64, receive: png == nil ? nil : receive,
                                      counts: [Int](repeating: 3, count: world.size),
                                      displacements: (0..<world.size).map { 3 * $0 })
                }
            }
            if let png {
                var combined: UInt32 = 1
                var good = true
                for r in 0..<world.size {
                    good = good && all[3 * r] == 1
                    combined = PNGRestart.combine(combined, UInt32(all[3 * r + 1]), lengthOfB: Int(all[3 * r + 2]))
                }
                verdict[0] = good && combined == png.adler ? 1 : 0
            }
            try world.broadcast(&verdict)
        }
        guard verdict[0] == 1 else { return nil }
        return (try fillHalo(pixels, plan: plan, width: width, channels: channels, clock: &clock), plan)
    }

    /// Rank 0 has inflated the image (the stream has no restart points, so that part is
    /// serial); every rank unfilters its own rows. One `MPI_Scatterv` sends each rank its
    /// filtered rows (a filter byte more per row than the pixels); rank 0 keeps its own in
    /// place. Band boundaries sit, where the file has one near, on a row filtered with None
    /// or Sub, so that rank unfilters at once; otherwise it waits for the unfiltered row above
    /// from the rank before it. Returns the band with its halo rows and the plan, or nil on
    /// every rank when any rank found a bad filter byte.
    private func unfilterByRows(_ filtered: inout FilteredRows?, height: Int, width: Int, channels: Int,
                                halo: Int, clock: inout PhaseClock) throws -> (Band, BandPlan)? {
        let size = world.size, rank = world.rank
        let rowBytes = width * channels, line = rowBytes + 1
        // Rank 0 chooses the split and says which ranks must wait for the row above.
        var layout = [Int64](repeating: 0, count: 2 * size)
        if let rows = filtered {
            let counts = PNGRows.split(height: height, ranks: size, independent: rows.isIndependent)
            var first = 0
            for (r, count) in counts.enumerated() {
                layout[r] = Int64(count)
                layout[size + r] = r > 0 && count > 0 && !rows.isIndependent(first) ? 1 : 0
                first += count
            }
        }
        try clock.time(.scatter) { try world.broadcast(&layout) }
        let plan = BandPlan(height: height, ownedCounts: layout[0..<size].map { Int($0) }, halo: halo)
        let waits = layout[size...].map { $0 == 1 }
        let share = plan.shares[rank]

        // Rank 0 unfilters in the inflated image itself (its rows come first); the others
        // receive their rows in the middle of a buffer sized for the needed rows, with one
        // spare byte per row so they unfilter in place.
        var pixels = filtered?.takeRows()
            ?? [UInt8](unsafeUninitializedCapacity: share.needed.count * rowBytes + share.owned.count) { _, n in
                n = share.needed.count * rowBytes + share.owned.count
            }
        let offset = share.haloAbove * rowBytes
        try Datatype.withContiguous(line, of: .byte) { lineType in
            try pixels.withUnsafeMutableBytes { buffer in
                try clock.time(.scatter) {
                    if rank == 0 {
                        try world.scattervInPlaceAtRoot(send: UnsafeRawBufferPointer(buffer), counts: plan.ownedCounts,
                                                        displacements: plan.ownedDisplacements, type: lineType)
                    } else {
                        try world.scatterv(send: nil, counts: [], displacements: [], type: lineType,
                                           receive: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]),
                                           receiveCount: share.owned.count)
                    }
                }
            }
        }
        var ok = true
        try clock.time(.decode) {
            var above = [UInt8](repeating: 0, count: waits[rank] ? rowBytes : 0)
            let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            if waits[rank] {
                try above.withUnsafeMutableBytes { receive in
                    try world.sendReceive(send: UnsafeRawBufferPointer(none), sendCount: 0, to: nil,
                                          receive: receive, receiveCount: rowBytes, from: rank - 1, type: .byte)
                }
            }
            try pixels.withUnsafeMutableBytes { buffer in
                let rows = UnsafeMutableRawBufferPointer(rebasing: buffer[offset...])
                ok = above.withUnsafeBytes { row in
                    PNGRows.unfilter(rows, rows: share.owned.count, rowBytes: rowBytes, channels: channels,
                                     above: waits[rank] ? row : nil)
                }
                if rank + 1 < size && waits[rank + 1] {
                    let last = UnsafeRawBufferPointer(rebasing: rows[((share.owned.count - 1) * rowBytes)...].prefix(rowBytes))
                    try world.sendReceive(send: last, sendCount: rowBytes, to: rank + 1,
                                          receive: none, receiveCount: 0, from: nil, type: .byte)
                }
            }
        }
        pixels.removeLast(pixels.count - share.needed.count * rowBytes)
        guard try clock.time(.decode, { try everyRank(ok) }) else { return nil }
        return (try fillHalo(pixels, plan: plan, width: width, channels: channels, clock: &clock), plan)
    }

    /// True on every rank when `ok` is true on every rank (one `MPI_Allreduce`).
    func everyRank(_ ok: Bool) throws -> Bool {
        try world.allReduce([ok ? 1 : 0], op: .min)[0] == 1
    }

    /// A band of this rank's needed rows, its owned rows already in place, with the halo rows
    /// filled from the neighbours.
    private func fillHalo(_ pixels: [UInt8], plan: BandPlan, width: Int, channels: Int,
                          clock: inout PhaseClock) throws -> Band {
        var pixels = pixels
        let share = plan.shares[world.rank]
        let rowBytes = width * channels
        try clock.time(.halo) {
            try Datatype.withContiguous(rowBytes, of: .byte) { rowType in
                try pixels.withUnsafeMutableBytes { buffer in
                    try world.exchangeRows(buffer: buffer, held: share.needed, rowBytes: rowBytes, rowType: rowType,
                                           reach: plan.exchangeReach, transfer: plan.transfer)
                }
            }
        }
        return Band(width: width, channels: channels, imageHeight: plan.height, firstRow: share.needed.lowerBound, pixels: pixels)
    }

    // MARK: - TIFF by rows

    /// The opened first page of a TIFF (its layout and size checked), nil for any other file.
    private func tiffReader(_ path: String) throws(ImageError) -> TIFFCodec.Reader? {
        guard TIFFCodec.hasSignature(try readFilePrefix(path: path, limit: 4).bytes) else { return nil }
        return try TIFFCodec.Reader(path: path, maxPixels: settings.maxPixels)
    }

    /// Every rank decodes the rows it needs (owned and halo) of a TIFF with its own libtiff
    /// handle on the file, reading only the strips or tiles that hold them: no pixel passes
    /// through rank 0, no rank holds more than its band and one strip or tile, and no halo
    /// exchange is needed. Returns nil on every rank when some rank cannot open the file or
    /// sees another image there (no shared filesystem); the caller then decodes it on rank 0.
    /// A strip or tile that does not decode fails on the rank that read it.
    private func decodeTIFFRows(_ path: String, _ opened: TIFFCodec.Reader?, width: Int, height: Int, channels: Int,
                                plan: BandPlan, clock: inout PhaseClock) throws -> Result<Band, ImageError>? {
        let reader = opened ?? clock.time(.read) { try? TIFFCodec.Reader(path: path, maxPixels: settings.maxPixels) }
        defer { reader?.close() }
        let same = reader.map { $0.width == width && $0.height == height && $0.channels == channels } ?? false
        guard try everyRank(same), let reader else { return nil }
        let needed = plan.shares[world.rank].needed
        do throws(ImageError) {
            let pixels = try clock.time(.decode) { () throws(ImageError) in try reader.rows(needed) }
            return .success(Band(width: width, channels: channels, imageHeight: height, firstRow: needed.lowerBound,
                                 pixels: pixels))
        } catch {
            return .failure(error)
        }
    }

    // MARK: - MPI-IO for PGM/PPM

    /// The header of a PGM/PPM that the ranks can read by rows (`--io mpiio`), nil for any
    /// other file (read as usual). Throws what the whole-file decoder would throw for a bad
    /// header or a file that ends before its last sample.
    private func pnmHeader(_ path: String) throws(ImageError) -> PNMCodec.Header? {
        let (prefix, size) = try readFilePrefix(path: path, limit: 1 << 16)
        guard prefix.count >= 2, prefix[0] == UInt8(ascii: "P"), prefix[1] == UInt8(ascii: "5") || prefix[1] == UInt8(ascii: "6") else {
            return nil
        }
        let header: PNMCodec.Header
        do throws(ImageError) {
            header = try PNMCodec.header(prefix, path: path, maxPixels: settings.maxPixels)
        } catch .truncated where size > prefix.count {
            return nil  // a header longer than the prefix (comments): the whole-file reader takes it
        }
        guard size - header.dataOffset >= header.height * header.fileRowBytes else { throw .truncated(path: path) }
        return header
    }

    /// Every rank reads the rows it needs (owned and halo) of a PGM/PPM with
    /// `MPI_File_read_at_all`: no pixel passes through rank 0, and no rank holds more than
    /// its band. Fails on every rank when any rank cannot open the file (it needs a filesystem
    /// all ranks share) or finds a sample above maxval.
    private func readRows(_ path: String, _ pnm: PNMCodec.Header, plan: BandPlan,
                          clock: inout PhaseClock) throws -> Result<Band, ImageError> {
        let share = plan.shares[world.rank]
        let rowBytes = pnm.width * pnm.channels
        guard try everyRank(canOpen(path)) else {
            return .failure(.io(path: path, detail: "cannot read on every rank (--io mpiio needs a filesystem all ranks share)"))
        }
        var pixels = [UInt8](unsafeUninitializedCapacity: share.needed.count * pnm.fileRowBytes) { _, n in
            n = share.needed.count * pnm.fileRowBytes
        }
        try clock.time(.read) {
            try File.withOpen(path, mode: .read, on: world) { file in
                try Datatype.withContiguous(pnm.fileRowBytes, of: .byte) { rowType in
                    try pixels.withUnsafeMutableBytes { buffer in
                        try file.readAll(at: pnm.dataOffset + share.needed.lowerBound * pnm.fileRowBytes, into: buffer,
                                         count: share.needed.count, type: rowType)
                    }
                }
            }
        }
        if pnm.maxval != 255 {
            let scaled = clock.time(.decode) { PNMCodec.scale(pixels, maxval: pnm.maxval) }
            guard try everyRank(scaled != nil) else {
                return .failure(.corrupt(path: path, detail: "PNM sample exceeds maxval \(pnm.maxval)"))
            }
            pixels = scaled!
        }
        precondition(pixels.count == share.needed.count * rowBytes)
        return .success(Band(width: pnm.width, channels: pnm.channels, imageHeight: plan.height,
                             firstRow: share.needed.lowerBound, pixels: pixels))
    }

    /// Every rank writes its own output rows of a PGM/PPM with `MPI_File_write_at_all`, after
    /// rank 0's header, into rank 0's temporary file (its name is returned on rank 0, which
    /// renames it into place once the ranks agree). Fails on every rank (and leaves no file)
    /// when a rank cannot open the temporary file.
    private func writeRows(_ output: Band, plan: BandPlan, channels: Int, to path: String?,
                           clock: inout PhaseClock) throws -> Result<String?, ImageError> {
        let owned = plan.shares[world.rank].owned
        let header = PNMCodec.headerBytes(width: output.width, height: plan.height, channels: channels)
        let samples = PNMCodec.samples(output.pixels, channels: channels)
        let fileRowBytes = output.width * (channels <= 2 ? 1 : 3)
        // Rank 0 creates the temporary file; every rank must be able to open it.
        var temporary: [UInt8] = []
        var created = true
        if let path {
            let name = temporaryPath(for: path)
            TemporaryFiles.track(name)
            do throws(ImageError) { try createEmptyFile(name) } catch { created = false }
            temporary = Array(name.utf8)
        }
        try world.broadcast(bytes: &temporary)
        let name = String(decoding: temporary, as: UTF8.self)
        guard try everyRank(isRoot ? created : canOpen(name, write: true)) else {
            if isRoot { unlink(name); TemporaryFiles.track(nil) }
            return .failure(.io(path: path ?? name, detail: created
                ? "cannot write on every rank (--io mpiio needs a filesystem all ranks share)" : "cannot write"))
        }
        try clock.time(.write) {
            try File.withOpen(name, mode: .createWrite, on: world) { file in
                try header.withUnsafeBytes { bytes in
                    try file.writeAll(at: 0, from: bytes, count: isRoot ? header.count : 0, type: .byte)
                }
                try Datatype.withContiguous(fileRowBytes, of: .byte) { rowType in
                    try samples.withUnsafeBytes { bytes in
                        try file.writeAll(at: header.count + owned.lowerBound * fileRowBytes, from: bytes,
                                          count: owned.count, type: rowType)
                    }
                }
                try file.sync()
            }
        }
        return .success(isRoot ? name : nil)
    }

    /// Gathers every rank's output rows into rank 0's image (nil elsewhere).
    private func gatherPixels(_ output: Band, plan: BandPlan, channels: Int, clock: inout PhaseClock) throws -> Image? {
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

    /// Every rank PNG-filters and deflates its own output rows (``gatherPieces`` then brings
    /// the compressed pieces, far fewer bytes than pixels, to rank 0). The rows restart where
    /// ``RestartLayout/forWriting(height:)`` says, so the next bandsaw run that reads the PNG
    /// decodes it on every rank at once. Throws the deflater's `ImageError` (out of memory).
    private func encodeBand(_ output: Band, plan: BandPlan, clock: inout PhaseClock) throws -> DeflatedBand {
        let owned = output.rows
        let rowBytes = output.rowBytes
        let restart = RestartLayout.forWriting(height: output.imageHeight)
        return try clock.time(.encode) { () throws -> DeflatedBand in
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
                                              restartRows: restart?.restartRows(in: owned) ?? [],
                                              compressionLevel: settings.compressionLevel)
        }
    }

    /// Rank 0 gathers every rank's deflated piece and stitches one PNG, with restart points
    /// (nil elsewhere).
    private func gatherPieces(_ piece: DeflatedBand, output: Band, plan: BandPlan, clock: inout PhaseClock) throws -> [UInt8]? {
        let restart = RestartLayout.forWriting(height: output.imageHeight)
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
            // Where each piece's segments start, as offsets in the piece; every rank knows how
            // many each piece has from the plan.
            let restartCounts = plan.shares.map { restart?.restartRows(in: $0.owned).count ?? 0 }
            var restartOffsets = [Int64](repeating: 0, count: isRoot ? restartCounts.reduce(0, +) : 0)
            let localOffsets = piece.restartOffsets.map(Int64.init)
            try localOffsets.withUnsafeBytes { send in
                try restartOffsets.withUnsafeMutableBytes { receive in
                    let displacements = restartCounts.indices.map { restartCounts[..<$0].reduce(0, +) }
                    try world.gatherv(send: send, sendCount: localOffsets.count, type: .int64, receive: isRoot ? receive : nil,
                                      counts: restartCounts, displacements: displacements)
                }
            }
            if isRoot {
                var segmentStarts: [Int] = []
                var next = 0
                for (r, n) in restartCounts.enumerated() {
                    segmentStarts += restartOffsets[next..<(next + n)].map { offsets[r] + Int($0) }
                    next += n
                }
                png = PNGBandEncoder.assemble(
                    width: output.width, height: output.imageHeight, channels: output.channels, compressed: compressed,
                    adlers: stride(from: 1, to: all.count, by: 3).map { UInt32(all[$0]) },
                    rawLengths: stride(from: 2, to: all.count, by: 3).map { UInt64(all[$0]) },
                    restart: restart, segmentStarts: segmentStarts)
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
    private func scatter(_ image: inout Image?, width: Int, height: Int, channels: Int, plan: BandPlan,
                         clock: inout PhaseClock) throws -> Band {
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
    private func widen(_ band: Band, plan base: BandPlan, halo: Int, clock: inout PhaseClock) throws -> Band {
        let plan = BandPlan(height: band.imageHeight, ownedCounts: base.ownedCounts, halo: halo)
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
