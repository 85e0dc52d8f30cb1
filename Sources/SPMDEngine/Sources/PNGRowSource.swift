import ImageCodecs
import ImageCore
import ImageFilters

/// An 8-bit PNG without restart points: rank 0 inflates it (that part is serial) and every
/// rank unfilters its own rows. One scatter sends each rank its filtered rows (a filter byte
/// more per row than the pixels); rank 0 keeps its own in place. Band boundaries sit, where
/// the file has one near, on a row filtered with None or Sub, so that rank unfilters at once;
/// otherwise it waits for the unfiltered row above from the rank before it.
struct PNGRowSource: BandSource {
    static let name = "rows"
    /// Rank 0's inflated rows.
    private var filtered: FilteredRows?
    let shape: Shape
    var parameters: [Int64] { [] }

    init(worker parameters: [Int64], shape: Shape) { self.shape = shape }

    private init(_ rows: FilteredRows) {
        filtered = rows
        shape = Shape(width: rows.width, height: rows.height, channels: rows.channels)
    }

    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self? {
        guard ranks > 1, settings.decoding == .auto else { return nil }
        return PNGRows.inflate(try input.contents(), maxPixels: settings.maxPixels).map(Self.init)
    }

    /// The band with its halo rows, or the fallback on every rank when any rank found a bad
    /// filter byte.
    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad {
        let (width, height, channels) = (shape.width, shape.height, shape.channels)
        let world = run.world
        let size = world.size, rank = run.rank
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
        try run.time(.scatter) { try world.broadcast(&layout) }
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
        filtered = nil
        let offset = share.haloAbove * rowBytes
        try pixels.withUnsafeMutableBytes { buffer in
            try run.time(.scatter) {
                if rank == 0 {
                    try world.scattervInPlaceAtRoot(send: UnsafeRawBufferPointer(buffer), counts: plan.ownedCounts,
                                                    displacements: plan.ownedDisplacements, unit: line)
                } else {
                    try world.scatterv(send: nil, counts: [], displacements: [], unit: line,
                                       receive: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]),
                                       receiveCount: share.owned.count, root: 0)
                }
            }
        }
        var ok = true
        try run.time(.decode) {
            var above = [UInt8](repeating: 0, count: waits[rank] ? rowBytes : 0)
            let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            if waits[rank] {
                try above.withUnsafeMutableBytes { receive in
                    try world.sendReceive(send: UnsafeRawBufferPointer(none), sendCount: 0, to: nil,
                                          receive: receive, receiveCount: rowBytes, from: rank - 1, unit: 1)
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
                                          receive: none, receiveCount: 0, from: nil, unit: 1)
                }
            }
        }
        pixels.removeLast(pixels.count - share.needed.count * rowBytes)
        guard try run.time(.decode, { try run.everyRank(ok) }) else { return .fallback }
        return .band(try run.band(filling: consume pixels, plan: plan, width: width, channels: channels), plan)
    }
}
