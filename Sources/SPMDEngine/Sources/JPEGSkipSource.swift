import ImageCodecs
import ImageCore

/// A baseline JPEG without usable restart markers (Pillow's, most encoders' default): rank 0
/// broadcasts the file (the compressed bytes, a tenth of the pixels) and every rank decodes
/// its rows with libjpeg-turbo skipping the rows above them
/// (``JPEGBands/decodeSkipping(rows:file:layout:maxPixels:path:)``). Skipping still
/// entropy-decodes those rows, so later ranks decode more; the split stays even all the same
/// (``JPEGBandLoad/skipCost`` says why).
struct JPEGSkipSource: BandSource {
    static let name = "jpeg-skip"
    private var found: JPEGBandLoad?
    let shape: Shape
    var parameters: [Int64] { [] }

    init(worker parameters: [Int64], shape: Shape) { self.shape = shape }

    private init(_ found: JPEGBandLoad) { self.found = found; shape = found.shape }

    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self? {
        try JPEGBandLoad.probe(input, settings: settings, ranks: ranks, strategy: .skip).map(Self.init)
    }

    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad {
        let found = self.found.take()
        var file = found?.file ?? []
        let rank = run.rank
        let path = run.job?.input ?? "", maxPixels = run.settings.maxPixels
        return try JPEGBandLoad.load(run, halo: halo, layout: found?.layout) { layout, plan in
            try run.time(.scatter) { try run.world.broadcast(bytes: &file) }
            let needed = plan.shares[rank].needed
            guard !needed.isEmpty else { return [] }
            return run.time(.decode) { () -> [UInt8]? in
                try? file.withUnsafeBytes { all in
                    try JPEGBands.decodeSkipping(rows: needed, file: all, layout: layout, maxPixels: maxPixels, path: path)
                }
            }
        }
    }
}
