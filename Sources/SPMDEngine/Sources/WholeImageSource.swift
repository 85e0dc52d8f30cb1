import ImageCodecs
import ImageCore
import ImageFilters

/// Rank 0 decodes the whole image; one scatter gives each rank its owned rows, and the halo
/// rows come from the neighbours. Serves every file, and takes over when another source
/// cannot finish.
struct WholeImageSource: BandSource {
    static let name = "whole"
    /// Rank 0's decoded image, until it becomes rank 0's band.
    private var image: Image?
    let shape: Shape
    var parameters: [Int64] { [] }

    init(worker parameters: [Int64], shape: Shape) { self.shape = shape }

    private init(image: Image) {
        self.image = image
        shape = Shape(width: image.width, height: image.height, channels: image.channels)
    }

    /// Never chosen by probing: ``BandSources/probe(_:settings:ranks:)`` falls back to it.
    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self? { nil }

    /// Rank 0 decodes `input` whole.
    static func decode(_ input: InputFile, settings: RunSettings) throws(ImageError) -> Self {
        let image = try decodeImage(bytes: input.contents(), path: input.path, maxPixels: settings.maxPixels,
                                    autorotate: settings.autorotate)
        input.release()
        return Self(image: image)
    }

    /// Every rank, after another source gave up: rank 0 decodes the file whole (timed as a
    /// read); its failure, if any, is the one the ranks agree on next.
    static func takeOver(_ run: ImageRun, input: InputFile?, shape: Shape) -> (Self, Failure?) {
        guard let input else { return (Self(worker: [], shape: shape), nil) }
        return run.time(.read) {
            do throws(ImageError) { return (try decode(input, settings: run.settings), nil) } catch {
                return (Self(worker: [], shape: shape), Failure(error))
            }
        }
    }

    /// Scatters each rank's owned rows straight into the middle of a buffer sized for its
    /// needed rows, then fills the halo rows from the neighbours.
    ///
    /// Rank 0 takes the decoded image over as its band: its own rows stay where the decoder
    /// put them (in place) and its halo rows below are already there too, so rank 0 copies
    /// nothing, and a one-rank run no pixel at all.
    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad {
        let (width, height, channels) = (shape.width, shape.height, shape.channels)
        let plan = BandPlan(height: height, ranks: run.world.size, halo: halo)
        let share = plan.shares[run.rank]
        let rowBytes = width * channels
        let world = run.world
        if var pixels = image.take()?.pixels {
            try run.time(.scatter) {
                try pixels.withUnsafeBytes { send in
                    try world.scattervInPlaceAtRoot(send: send, counts: plan.ownedCounts,
                                                    displacements: plan.ownedDisplacements, unit: rowBytes)
                }
            }
            // Rank 0 holds every row; the exchange only sends its rows to the ranks that need
            // them (and receives copies of rows it already has, a halo's worth).
            try run.time(.halo) {
                try pixels.withUnsafeMutableBytes { buffer in
                    try world.exchangeRows(buffer: buffer, held: 0..<height, rowBytes: rowBytes,
                                           reach: plan.exchangeReach, transfer: plan.transfer)
                }
            }
            return .band(Band(width: width, channels: channels, imageHeight: height, firstRow: 0, pixels: pixels), plan)
        }
        var pixels = [UInt8](unsafeUninitializedCapacity: share.needed.count * rowBytes) { _, n in
            n = share.needed.count * rowBytes
        }
        try pixels.withUnsafeMutableBytes { buffer in
            let offset = share.haloAbove * rowBytes
            let ownedRows = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + share.owned.count * rowBytes)])
            try run.time(.scatter) {
                try world.scatterv(send: nil, counts: plan.ownedCounts, displacements: plan.ownedDisplacements,
                                   unit: rowBytes, receive: ownedRows, receiveCount: share.owned.count, root: 0)
            }
        }
        return .band(try run.band(filling: consume pixels, plan: plan, width: width, channels: channels), plan)
    }
}
