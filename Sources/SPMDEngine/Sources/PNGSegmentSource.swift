import ImageCodecs
import ImageCore
import ImageFilters

/// A PNG bandsaw wrote (with restart points, a mARK chunk): every rank decodes its own whole
/// segments. Rank 0 sends each rank its part of the compressed stream (one scatter, no byte
/// read twice), every rank inflates and unfilters it straight into its band, and rank 0
/// checks the pieces' Adler-32s against the stream's.
struct PNGSegmentSource: BandSource {
    static let name = "segments"
    /// Rank 0's probe of the file.
    private var png: RestartablePNG?
    let shape: Shape
    private let segments: Int
    var parameters: [Int64] { [Int64(segments)] }

    init(worker parameters: [Int64], shape: Shape) {
        self.shape = shape
        segments = Int(parameters[0])
    }

    private init(_ png: RestartablePNG) {
        self.png = png
        shape = Shape(width: png.width, height: png.height, channels: png.channels)
        segments = png.layout.segments
    }

    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self? {
        guard ranks > 1, settings.decoding == .auto else { return nil }
        guard let png = PNGRestart.probe(try input.contents(), maxPixels: settings.maxPixels),
              png.stream.count < Int(Int32.max) else { return nil }
        return Self(png)
    }

    /// The band with its halo rows, or the fallback on every rank when any rank's segments
    /// did not decode or the checksum disagrees.
    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad {
        let (width, height, channels) = (shape.width, shape.height, shape.channels)
        let world = run.world
        let layout = RestartLayout(height: height, segments: segments)
        let plan = BandPlan(height: height, ownedCounts: layout.rankRowCounts(ranks: world.size), halo: halo)
        let rowBytes = width * channels
        let share = plan.shares[run.rank]
        // Rank r's bytes of the stream; rank 0 knows them, the others learn their counts.
        let png = self.png.take()
        let ranges = png.map { png in plan.shares.map { png.bytes(for: $0.owned) } } ?? []
        var counts = ranges.map { Int64($0.count) }
        if counts.isEmpty { counts = [Int64](repeating: 0, count: world.size) }
        try run.time(.scatter) { try world.broadcast(&counts) }
        let count = Int(counts[run.rank])
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
                try run.time(.scatter) {
                    try world.scattervInPlaceAtRoot(send: UnsafeRawBufferPointer(all), counts: ranges.map(\.count),
                                                    displacements: ranges.map(\.lowerBound), unit: 1)
                }
                // Rank 0's part stays where it is; the two bytes after it belong to rank 1's
                // part, already sent, or to the trailer when rank 0 decodes to the end.
                let mine = ranges[0]
                run.time(.decode) { decode(UnsafeMutableRawBufferPointer(rebasing: all[mine.lowerBound...])) }
            }
        } else {
            var data = [UInt8](repeating: 0, count: count + 2)
            try data.withUnsafeMutableBytes { buffer in
                try run.time(.scatter) {
                    try world.scatterv(send: nil, counts: [], displacements: [], unit: 1,
                                       receive: buffer, receiveCount: count, root: 0)
                }
                run.time(.decode) { decode(buffer) }
            }
        }
        pixels.removeLast(spare)

        // Agree: every rank's outcome and Adler-32 to rank 0, which checks them against the
        // stream's trailer; one verdict for all.
        let rawLength = share.owned.count * (rowBytes + 1)
        let good = try run.time(.decode) { () throws -> Bool in
            let all = try world.gather([ok ? 1 : 0, Int64(adler), Int64(rawLength)])
            var verdict: [Int64] = [0]
            if let png {
                let pieces = (0..<world.size).map { r in (adler: UInt32(all[3 * r + 1]), length: Int(all[3 * r + 2])) }
                let decoded = (0..<world.size).allSatisfy { all[3 * $0] == 1 }
                verdict[0] = decoded && PNGRestart.combine(pieces) == png.adler ? 1 : 0
            }
            try world.broadcast(&verdict)
            return verdict[0] == 1
        }
        guard good else { return .fallback }
        return .band(try run.band(filling: pixels, plan: plan, width: width, channels: channels), plan)
    }
}
