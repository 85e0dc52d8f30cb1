import ImageCodecs
import ImageCore
import ImageFilters

/// One way a result leaves the ranks: every rank hands over its owned output rows, and rank 0
/// ends with a finished temporary file, renamed into place once every rank agrees.
///
/// Rank 0 picks the sink from the output's format and the settings (the first listed in
/// ``BandSinks/all`` that serves them, else ``GatherEncodeSink``); the job header names it.
protocol BandSink {
    /// Whether this sink writes `format` under `settings`.
    static func serves(_ format: ImageFormat, settings: RunSettings) -> Bool
    init()
    /// Every rank: delivers its owned rows of the output (`channels` per pixel, under `plan`),
    /// agreeing with the other ranks along the way. Rank 0's job says where the output goes.
    func deliver(_ output: Band, plan: BandPlan, channels: Int, run: ImageRun) throws -> Delivery
}

/// How a sink's delivery ended on this rank.
enum Delivery {
    /// The ranks agreed on a failure: the image ends here, with no output.
    case stopped(Failure)
    /// Rank 0's temporary file (nil elsewhere, or when rank 0 could not write it, in which
    /// case `failure` says why; the ranks agree on it next).
    case written(temporary: String?, failure: Failure?)
}

/// The band sinks, in the order rank 0 tries them: one line per sink. The header names a sink
/// by its place here (0 is ``GatherEncodeSink``, which writes every format).
enum BandSinks {
    static var all: [any BandSink.Type] { [
        PNMRowSink.self,
        PNGPieceSink.self,
        JPEGPieceSink.self,
    ] }

    /// Rank 0: the kind of the sink that writes `output` under `settings`.
    static func kind(for output: String, settings: RunSettings) -> Int {
        guard let format = try? ImageFormat.forOutput(path: output) else { return 0 }
        return all.firstIndex { $0.serves(format, settings: settings) }.map { $0 + 1 } ?? 0
    }

    /// The sink of kind `kind`.
    static func sink(ofKind kind: Int) -> any BandSink {
        kind >= 1 && kind <= all.count ? all[kind - 1].init() : GatherEncodeSink()
    }
}
