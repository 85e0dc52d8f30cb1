import ImageCodecs
import ImageCore
import ImageFilters

/// A TIFF every rank can open: every rank decodes the rows it needs (owned and halo) with its
/// own libtiff handle on the file, reading only the strips or tiles that hold them. No pixel
/// passes through rank 0, no rank holds more than its band and one strip or tile, and no halo
/// exchange is needed.
struct TIFFStripSource: BandSource {
    static let name = "tiff"
    static let readsOnEveryRank = true
    /// Rank 0's opened file (others open their own in ``load(_:halo:)``).
    private var reader: TIFFCodec.Reader?
    let shape: Shape
    var parameters: [Int64] { [] }

    init(worker parameters: [Int64], shape: Shape) { self.shape = shape }

    private init(_ reader: TIFFCodec.Reader) {
        self.reader = reader
        shape = Shape(width: reader.width, height: reader.height, channels: reader.channels)
    }

    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self? {
        guard ranks > 1, settings.decoding == .auto else { return nil }
        return try TIFFCodec.openIfTIFF(path: input.path, maxPixels: settings.maxPixels).map(Self.init)
    }

    /// The fallback on every rank when some rank cannot open the file or sees another image
    /// there (no shared filesystem). A strip or tile that does not decode fails on the rank
    /// that read it.
    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad {
        let plan = BandPlan(height: shape.height, ranks: run.world.size, halo: halo)
        let path = run.inputPath
        let settings = run.settings
        let opened = reader.take() ?? run.time(.read) { try? TIFFCodec.Reader(path: path, maxPixels: settings.maxPixels) }
        defer { opened?.close() }
        let same = opened.map { $0.width == shape.width && $0.height == shape.height && $0.channels == shape.channels } ?? false
        guard try run.everyRank(same), let opened else { return .fallback }
        let needed = plan.shares[run.rank].needed
        do throws(ImageError) {
            let pixels = try run.time(.decode) { () throws(ImageError) in try opened.rows(needed) }
            return .band(Band(width: shape.width, channels: shape.channels, imageHeight: shape.height,
                              firstRow: needed.lowerBound, pixels: pixels), plan)
        } catch {
            return .failure(Failure(error))
        }
    }
}
