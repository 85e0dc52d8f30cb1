import ImageCodecs
import ImageCore
import ImageFilters

/// One way an input image's rows reach the ranks.
///
/// Rank 0 probes the input (``probe(_:settings:ranks:)``) with each listed source in turn
/// (``BandSources/all``), the first that can serve the file on these ranks wins, and the image
/// is decoded whole on rank 0 and scattered (``WholeImageSource``) when none can. The job
/// header carries the source's kind and ``parameters``; each other rank builds its side from
/// them (``init(worker:shape:)``). Then every rank ``load(_:halo:)``s its first band.
protocol BandSource {
    /// How the JSON report names this way of decoding (`decode`).
    static var name: String { get }
    /// Whether every rank opens the input file itself (rank 0 then sends its path along).
    static var readsOnEveryRank: Bool { get }
    /// Rank 0: this source for `input`, nil when it cannot serve this file on `ranks` ranks.
    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self?
    /// Another rank's side, from what rank 0 sent.
    init(worker parameters: [Int64], shape: Shape)
    /// Rank 0: the image's size.
    var shape: Shape { get }
    /// Rank 0: what the other ranks need (at most ``JobHeader/parameterCount`` values).
    var parameters: [Int64] { get }
    /// Every rank: its first band (owned rows and `halo` rows each side) and the plan it
    /// follows, this rank's failure, or, on every rank alike, the word that this source cannot
    /// finish and rank 0 should decode the file whole instead.
    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad
}

extension BandSource {
    static var readsOnEveryRank: Bool { false }
}

/// What loading a band gave this rank.
enum BandLoad {
    case band(Band, BandPlan)
    /// This rank failed; the ranks agree on it next.
    case failure(Failure)
    /// Every rank: the source cannot serve this file after all (a rank cannot see it, a lying
    /// restart chunk, a bad filter byte); rank 0 decodes it whole, and that decoder's verdict
    /// stands.
    case fallback

    var failure: Failure? { if case .failure(let failure) = self { failure } else { nil } }
}

/// The band sources, in the order rank 0 tries them: one line per source. The header names a
/// source by its place here (0 is ``WholeImageSource``, which serves any file).
enum BandSources {
    static var all: [any BandSource.Type] { [
        PNMRowSource.self,
        TIFFStripSource.self,
        PNGSegmentSource.self,
        PNGRowSource.self,
        JPEGRestartSource.self,
        JPEGSkipSource.self,
    ] }

    /// The source's kind for the header.
    static func kind(of source: any BandSource) -> Int {
        all.firstIndex { $0 == Swift.type(of: source) }.map { $0 + 1 } ?? 0
    }

    /// The type of kind `kind`.
    static func type(ofKind kind: Int) -> any BandSource.Type {
        kind >= 1 && kind <= all.count ? all[kind - 1] : WholeImageSource.self
    }

    /// Rank 0: the first source that serves `input`, else the image decoded whole.
    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> any BandSource {
        for source in all {
            if let found = try source.probe(input, settings: settings, ranks: ranks) { return found }
        }
        return try WholeImageSource.decode(input, settings: settings)
    }
}

/// Rank 0's input file, read at most once whatever the sources probe.
final class InputFile {
    let path: String
    private var bytes: [UInt8]?

    init(path: String) { self.path = path }

    /// The whole file.
    func contents() throws(ImageError) -> [UInt8] {
        if let bytes { return bytes }
        let read = try readFileBytes(path: path)
        bytes = read
        return read
    }

    /// Lets the bytes go (once the pixels no longer need them).
    func release() { bytes = nil }
}
