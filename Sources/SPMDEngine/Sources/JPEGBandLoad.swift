import ImageCodecs
import ImageCore

/// What the two JPEG band sources (``JPEGRestartSource``, ``JPEGSkipSource``) share: rank 0's
/// marker index, the band split, and the verdict. Every rank decodes the rows it needs (owned
/// and halo) itself, so no halo exchange follows; when any rank's decode fails, every rank
/// falls back to rank 0's whole decode, and that decoder's verdict stands.
struct JPEGBandLoad {
    /// Rank 0's index of the file, and the file.
    var layout: JPEGLayout?
    var file: [UInt8]

    /// The image's size, as rank 0's index gives it.
    var shape: Shape { Shape(width: layout?.width ?? 0, height: layout?.height ?? 0, channels: layout?.channels ?? 0) }

    /// What the split weighs a skipped row at (``JPEGBands/split(height:ranks:unit:skipCost:)``).
    /// Skipping a row costs about half its decode (libjpeg-turbo 2.1, a quality-90 photo:
    /// 25 of 50 ms CPU for all 16 MP), so the last rank's decode is the longest. But the ranks
    /// agree once every band is loaded, and the filter and the encode after that outweigh the
    /// decode (sobel and a JPEG encode: 83 against 50 ms), so shifting rows to the first rank to
    /// even out the decode costs more afterwards than it saves before: the even split is best.
    static let skipCost = 0.0

    /// Rank 0: the file's index when it is a JPEG whose bands decode `strategy`'s way.
    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int,
                      strategy: JPEGLayout.Strategy) throws(ImageError) -> JPEGBandLoad? {
        guard ranks > 1, settings.decoding == .auto else { return nil }
        let bytes = try input.contents()
        guard JPEGCodec.hasSignature(bytes), bytes.count < Int(Int32.max),
              JPEGLayout.hasRestartInterval(bytes) == (strategy == .restart),
              let layout = try? JPEGLayout.probe(bytes, path: input.path, maxPixels: settings.maxPixels,
                                                 autorotate: settings.autorotate),
              layout.strategy == strategy else { return nil }
        return JPEGBandLoad(layout: layout, file: bytes)
    }

    /// Every rank: the index (broadcast from rank 0), the plan, and the rows this rank needs,
    /// decoded by `decode` (which moves the compressed bytes it needs); the fallback on every
    /// rank when some rank's decode failed.
    static func load(_ run: ImageRun, halo: Int, layout found: JPEGLayout?,
                     decode: (JPEGLayout, BandPlan) throws -> [UInt8]?) throws -> BandLoad {
        var wire = found?.wire ?? [Int64](repeating: 0, count: JPEGLayout.wireCount)
        try run.time(.broadcast) { try run.world.broadcast(&wire) }
        guard let shared = JPEGLayout(wire: wire), !shared.isWhole else { return .fallback }
        let layout = found ?? shared
        let counts = JPEGBands.split(height: layout.height, ranks: run.world.size,
                                     unit: layout.strategy == .restart ? layout.segmentHeight : layout.mcuHeight,
                                     skipCost: layout.strategy == .skip ? skipCost : 0)
        let plan = BandPlan(height: layout.height, ownedCounts: counts, halo: halo)
        let pixels = try decode(layout, plan)
        guard try run.time(.decode, { try run.everyRank(pixels != nil) }), let pixels else { return .fallback }
        return .band(Band(width: layout.width, channels: layout.channels, imageHeight: layout.height,
                          firstRow: plan.shares[run.rank].needed.lowerBound, pixels: pixels), plan)
    }
}
