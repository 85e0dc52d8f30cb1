import ImageCodecs
import ImageCore
import ImageFilters

/// A binary PGM/PPM with `--io mpiio`: every rank reads the rows it needs (owned and halo)
/// with one collective file read. No pixel passes through rank 0, and no rank holds more than
/// its band. Every rank must see the file (one host, or a filesystem they share).
struct PNMRowSource: BandSource {
    static let name = "mpiio"
    static let readsOnEveryRank = true
    let header: PNMCodec.Header
    var shape: Shape { Shape(width: header.width, height: header.height, channels: header.channels) }
    var parameters: [Int64] { [Int64(header.maxval), Int64(header.dataOffset)] }

    init(worker parameters: [Int64], shape: Shape) {
        header = PNMCodec.Header(width: shape.width, height: shape.height, channels: shape.channels,
                                 maxval: Int(parameters[0]), dataOffset: Int(parameters[1]))
    }

    private init(_ header: PNMCodec.Header) { self.header = header }

    /// Any rank count (one rank reads its rows the same way); throws what the whole-file
    /// decoder would throw for a bad header or a file that ends before its last sample.
    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self? {
        guard settings.io == .mpiio else { return nil }
        return try PNMCodec.rowReadableHeader(path: input.path, maxPixels: settings.maxPixels).map(Self.init)
    }

    /// Fails on every rank when any rank cannot open the file or finds a sample above maxval.
    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad {
        let path = run.inputPath
        let pnm = header
        let plan = BandPlan(height: pnm.height, ranks: run.world.size, halo: halo)
        let share = plan.shares[run.rank]
        let rowBytes = pnm.width * pnm.channels
        guard try run.everyRank(canOpen(path)) else {
            return .failure(Failure(.io(path: path, detail: "cannot read on every rank (--io mpiio needs a filesystem all ranks share)")))
        }
        var pixels = [UInt8](unsafeUninitializedCapacity: share.needed.count * pnm.fileRowBytes) { _, n in
            n = share.needed.count * pnm.fileRowBytes
        }
        let world = run.world
        try run.time(.read) {
            try pixels.withUnsafeMutableBytes { buffer in
                try world.readFile(path, at: pnm.dataOffset + share.needed.lowerBound * pnm.fileRowBytes, into: buffer,
                                   count: share.needed.count, unit: pnm.fileRowBytes)
            }
        }
        if pnm.maxval != 255 {
            let scaled = run.time(.decode) { PNMCodec.scale(pixels, maxval: pnm.maxval) }
            guard try run.everyRank(scaled != nil) else {
                return .failure(Failure(.corrupt(path: path, detail: "PNM sample exceeds maxval \(pnm.maxval)")))
            }
            pixels = scaled!
        }
        precondition(pixels.count == share.needed.count * rowBytes)
        return .band(Band(width: pnm.width, channels: pnm.channels, imageHeight: plan.height,
                          firstRow: share.needed.lowerBound, pixels: pixels), plan)
    }
}
