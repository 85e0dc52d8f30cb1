#if canImport(Glibc)
import Glibc
#endif
import ImageCore
import ImageCodecs
import ImageFilters
import MPIKit

/// Rank 0's list of images, or why there is none (a usage error found while listing them).
public enum JobList: Sendable {
    case jobs([ImageJob])
    case refused(Failure)
    /// Every rank but 0: rank 0 says what comes.
    case worker
}

/// How a run ended: the status every rank agrees on (the worst over the images) and, on rank
/// 0, the report of every image written.
public struct RunOutcome: Sendable {
    public var status: RunStatus
    public var report: RunReport
}

/// The SPMD driver. For each image: rank 0 probes the input and picks a band source → the
/// ranks agree → the header → every rank loads its band → agree → filter → agree → the sink
/// delivers the result → agree → rank 0 commits the output.
public struct SPMDRunner {
    let world: any Collectives
    let settings: RunSettings
    let pipeline: Pipeline
    let events: RunEvents
    let fault: FaultInjection?

    /// - Parameters:
    ///   - events: Called on rank 0 as images fail or finish (the command line prints them).
    ///   - fault: A fault to plant (a testing aid; the command line passes `BANDSAW_FAULT`'s).
    public init(world: any Collectives, settings: RunSettings, events: RunEvents = RunEvents(),
                fault: FaultInjection? = nil) {
        self.world = world
        self.settings = settings
        self.pipeline = settings.pipeline
        self.events = events
        self.fault = fault
    }

    /// Runs every job of rank 0's list (`.worker` elsewhere).
    public func run(_ jobs: JobList) throws -> RunOutcome {
        var header = JobListHeader()
        var list: [ImageJob] = []
        switch jobs {
        case .jobs(let found): header.count = found.count; list = found
        case .refused(let failure):
            events.failed(failure.message)
            header.status = failure.status
        case .worker: break
        }
        var wire = header.wire
        try world.broadcast(&wire)
        header = JobListHeader(wire: wire)
        var report = RunReport(ranks: world.size, halo_mode: settings.haloMode.rawValue,
                               pipeline: settings.specs.map(\.description).joined(separator: " | "), images: [])
        guard header.status == .success else { return RunOutcome(status: header.status, report: report) }

        var worst = RunStatus.success
        for index in 0..<header.count {
            let role = index < list.count ? Role.root(list[index]) : .worker
            let image = ImageRun(world: world, settings: settings, role: role, events: events, fault: fault)
            switch try process(image) {
            case .success(let written):
                if let written {
                    report.images.append(written)
                    events.finished(written)
                }
            case .failure(let failure): worst = max(worst, failure.status)
            }
        }
        return RunOutcome(status: worst, report: report)
    }

    /// One image through the whole chain. After every phase that can fail on one rank, the
    /// ranks agree (``ImageRun/agree(_:_:)``): a failure anywhere ends the image on every
    /// rank, with one message from rank 0 and no output file. Returns, on rank 0, the image's
    /// report.
    private func process(_ run: ImageRun) throws -> Result<ImageReport?, Failure> {
        let start = monotonicSeconds()

        // Probe (rank 0): the first band source that can serve the file on these ranks.
        let input = run.job.map { InputFile(path: $0.input) }
        var probed: Result<any BandSource, ImageError>? = nil
        if let input {
            probed = run.time(.read) { () -> Result<any BandSource, ImageError> in
                do throws(ImageError) {
                    return .success(try BandSources.probe(input, settings: settings, ranks: world.size))
                } catch { return .failure(error) }
            }
        }
        var readFailure: Failure? = nil
        if case .failure(let error) = probed { readFailure = Failure(error) }
        if let failure = try run.time(.broadcast, { try run.agree(.read, readFailure) }) { return .failure(failure) }

        // The header: what rank 0 found, which source serves it and which sink takes the result.
        var header = JobHeader()
        if case .success(let source) = probed, let job = run.job {
            header.shape = source.shape
            header.source = BandSources.kind(of: source)
            header.sourceParameters = source.parameters
            header.sink = BandSinks.kind(for: job.output, settings: settings)
        }
        var wire = header.wire
        try run.time(.broadcast) { try world.broadcast(&wire) }
        header = JobHeader(wire: wire)
        let shape = header.shape
        var source = (try? probed?.get())
            ?? BandSources.type(ofKind: header.source).init(worker: header.sourceParameters, shape: shape)
        probed = nil
        if type(of: source).readsOnEveryRank {
            var path = Array((run.job?.input ?? "").utf8)
            try run.time(.broadcast) { try world.broadcast(bytes: &path) }
            run.inputPath = String(decoding: path, as: UTF8.self)
        }

        // Every rank's first band, with the halo rows of the first part (wide) or stage.
        var band: Band?
        let plan: BandPlan, decodeName: String
        switch try load(&source, input: input, shape: shape, run: run) {
        case .success(let loaded): (band, plan, decodeName) = loaded
        case .failure(let failure): return .failure(failure)
        }

        // The input band goes once filtered (its memory with it).
        let (output, rounds) = try run.filter(band.take()!, plan: plan, pipeline: pipeline)
        if let failure = try run.agree(.compute) { return .failure(failure) }

        // The sink: rank 0 ends with a temporary file, renamed into place only once every rank
        // agreed that all went well.
        let outChannels = pipeline.outputChannels(forInput: shape.channels)
        let delivered = try BandSinks.sink(ofKind: header.sink).deliver(output, plan: plan, channels: outChannels, run: run)
        guard case .written(let temporary, let writeFailure) = delivered else {
            if case .stopped(let failure) = delivered { return .failure(failure) }
            preconditionFailure("unknown delivery")
        }
        if let failure = try commit(temporary, writeFailure, run: run) { return .failure(failure) }

        let summary = try PhaseSummary.reduce(run.clock, total: monotonicSeconds() - start, over: world)
        let peaks = try PeakMemory.byRank(over: world)
        guard let job = run.job else { return .success(nil) }
        return .success(ImageReport(input: job.input, output: job.output, width: shape.width, height: shape.height,
                                    channels: shape.channels, output_channels: outChannels, decode: decodeName,
                                    phases: summary, peak_rss_mib: peaks,
                                    hysteresis_rounds: rounds.isEmpty ? nil : rounds))
    }

    /// Every rank loads its first band from `source`, or, when the source cannot finish, from
    /// rank 0's whole decode; the ranks agree on the decode and on the scatter.
    private func load(_ source: inout any BandSource, input: InputFile?, shape: Shape,
                      run: ImageRun) throws -> Result<(Band, BandPlan, String), Failure> {
        let halo = settings.haloMode == .wide ? pipeline.parts[0].totalHalo : (pipeline.stages.first?.halo ?? 0)
        var name = type(of: source).name
        var loaded = try source.load(run, halo: halo)
        if case .fallback = loaded {
            name = WholeImageSource.name
            let (whole, failure) = WholeImageSource.takeOver(run, input: input, shape: shape)
            input?.release()
            if let agreed = try run.agree(.decode, failure) { return .failure(agreed) }
            source = whole
            loaded = try source.load(run, halo: halo)
        } else {
            input?.release()
            if let agreed = try run.agree(.decode, loaded.failure) { return .failure(agreed) }
        }
        guard case .band(let band, let plan) = loaded else { preconditionFailure("a source gave no band") }
        if let failure = try run.agree(.scatter) { return .failure(failure) }
        return .success((band, plan, name))
    }

    /// The ranks agree on the write; rank 0 then renames its temporary file into place, or
    /// removes it. The rename can still fail (rarely): one more word so every rank ends alike.
    private func commit(_ temporary: String?, _ writeFailure: Failure?, run: ImageRun) throws -> Failure? {
        let agreed = try run.time(.write) { try run.agree(.write, writeFailure) }
        var commitFailure: Failure? = nil
        if let job = run.job, let temporary {
            if agreed == nil, run.defersCommit, let committer = settings.committer {
                committer.submit(temporary, to: job.output)
            } else if agreed == nil {
                do throws(ImageError) { try commitTemporary(temporary, to: job.output) } catch { commitFailure = Failure(error) }
            } else {
                unlink(temporary)
            }
            TemporaryFiles.track(nil)
        }
        if let agreed { return agreed }
        return try run.time(.write) { try run.agree(.write, commitFailure) }
    }
}
