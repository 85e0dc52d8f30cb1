import ImageCore
import MPIKit

/// JPEG by bands in the SPMD driver (issue 24): every rank decodes its own rows of a JPEG
/// input (from its restart segments, or by skipping the rows above it) and encodes its own
/// MCU rows of a JPEG output; rank 0 moves compressed bytes, not pixels.
extension SPMDRunner {
    /// What a skipped row costs against a row decoded, filtered and encoded (the band
    /// split's `skipCost`). Skipping entropy-decodes without the IDCT and colour conversion:
    /// about half a row's decode for a quality-90 photo on libjpeg-turbo 2.1 (measured), and the
    /// decode about a third of what a row costs through sobel and a JPEG encode.
    static let jpegSkipCost = 0.15

    /// The rows a band of a JPEG decode starts on: whole restart segments (or MCU rows when
    /// skipping), and whole MCU rows of the output when it is a JPEG encoded by bands.
    static func jpegUnit(_ layout: JPEGLayout, outputJPEGChannels: Int?) -> Int {
        let input = layout.strategy == .restart ? layout.segmentHeight : layout.mcuHeight
        guard let channels = outputJPEGChannels else { return input }
        let output = JPEGBandEncoder.mcuRows(channels: channels)
        var a = input, b = output
        while b != 0 { (a, b) = (b, a % b) }
        return input / a * output
    }

    /// Every rank decodes the rows it needs (owned and halo) of a JPEG rank 0 indexed, so no
    /// halo exchange follows. Restart: rank 0 sends each rank the bytes of the segments that
    /// hold its rows and an MCU row on each side; skip: rank 0 broadcasts the file and each
    /// rank skips to its rows. Returns the band and the plan, or nil on every rank when any
    /// rank's decode failed (the caller then decodes the file whole on rank 0, and that
    /// decoder's verdict stands).
    func decodeJPEGBands(_ found: JPEGLayout?, file: [UInt8], path: String, outputJPEGChannels: Int?, halo: Int,
                         clock: inout PhaseClock) throws -> (Band, BandPlan)? {
        var wire = found?.wire ?? [Int64](repeating: 0, count: 10)
        try clock.time(.broadcast) { try world.broadcast(&wire) }
        guard let shared = JPEGLayout(wire: wire), !shared.isWhole else { return nil }
        let layout = found ?? shared
        let counts = JPEGBands.split(height: layout.height, ranks: world.size,
                                     unit: Self.jpegUnit(layout, outputJPEGChannels: outputJPEGChannels),
                                     skipCost: layout.strategy == .skip ? Self.jpegSkipCost : 0)
        let plan = BandPlan(height: layout.height, ownedCounts: counts, halo: halo)
        let needed = plan.shares[world.rank].needed

        var pixels: [UInt8] = []
        var ok = true
        if layout.strategy == .restart {
            // Each rank's segments: those holding its needed rows and their context.
            let segments = plan.shares.map { $0.needed.isEmpty ? 0..<0 : layout.segments(for: $0.needed) }
            var header = isRoot ? Array(file[0..<layout.headerLength]) : []
            var sizes = [Int64](repeating: 0, count: world.size)
            if isRoot { sizes = segments.map { Int64($0.isEmpty ? 0 : layout.bytes(of: $0).count) } }
            var data: [UInt8] = []
            try clock.time(.scatter) {
                try world.broadcast(bytes: &header)
                try world.broadcast(&sizes)
                // One message from rank 0 to each rank: neighbouring ranges overlap by the
                // context segments, so they cannot share one MPI_Scatterv.
                let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
                if isRoot {
                    try file.withUnsafeBytes { all in
                        for r in 1..<world.size where sizes[r] > 0 {
                            let part = UnsafeRawBufferPointer(rebasing: all[layout.bytes(of: segments[r])])
                            try world.sendReceive(send: part, sendCount: part.count, to: r, receive: none,
                                                  receiveCount: 0, from: nil, type: .byte)
                        }
                    }
                } else if sizes[world.rank] > 0 {
                    data = [UInt8](repeating: 0, count: Int(sizes[world.rank]))
                    try data.withUnsafeMutableBytes { receive in
                        try world.sendReceive(send: UnsafeRawBufferPointer(none), sendCount: 0, to: nil,
                                              receive: receive, receiveCount: receive.count, from: 0, type: .byte)
                    }
                }
            }
            if !needed.isEmpty {
                clock.time(.decode) {
                    do {
                        pixels = try header.withUnsafeBytes { h in
                            if isRoot {
                                return try file.withUnsafeBytes { all in
                                    try JPEGBands.decode(rows: needed, segments: segments[0],
                                                         data: UnsafeRawBufferPointer(rebasing: all[layout.bytes(of: segments[0])]),
                                                         header: h, layout: layout, path: path)
                                }
                            }
                            return try data.withUnsafeBytes { d in
                                try JPEGBands.decode(rows: needed, segments: segments[world.rank], data: d, header: h,
                                                     layout: layout, path: path)
                            }
                        }
                    } catch { ok = false }
                }
            }
        } else {
            // Skip: every rank needs the whole file (the compressed bytes, a tenth of the pixels).
            var bytes = isRoot ? file : []
            try clock.time(.scatter) { try world.broadcast(bytes: &bytes) }
            if !needed.isEmpty {
                clock.time(.decode) {
                    do {
                        pixels = try bytes.withUnsafeBytes { all in
                            try JPEGBands.decodeSkipping(rows: needed, file: all, layout: layout,
                                                         maxPixels: settings.maxPixels, path: path)
                        }
                    } catch { ok = false }
                }
            }
        }
        guard try clock.time(.decode, { try everyRank(ok) }) else { return nil }
        return (Band(width: layout.width, channels: layout.channels, imageHeight: layout.height,
                     firstRow: needed.lowerBound, pixels: pixels), plan)
    }

    /// Whether every band of `plan` starts on a JPEG MCU row of an output with `channels`
    /// (then each rank encodes its own rows; otherwise rank 0 encodes the gathered image,
    /// which gives the same bytes).
    static func jpegBandsAligned(_ plan: BandPlan, channels: Int) -> Bool {
        let unit = JPEGBandEncoder.mcuRows(channels: channels)
        return plan.shares.allSatisfy { $0.owned.isEmpty || $0.owned.lowerBound % unit == 0 }
    }

    /// Every rank encodes its own output rows as its piece of the JPEG (nil for a rank
    /// without rows); ``gatherJPEGPieces(_:plan:clock:)`` then joins them on rank 0.
    func encodeJPEGBand(_ output: Band, clock: inout PhaseClock) throws(ImageError) -> JPEGBandEncoder.Piece? {
        guard output.rowCount > 0 else { return nil }
        let quality = settings.quality ?? JPEGCodec.defaultQuality
        return try clock.time(.encode) { () throws(ImageError) in
            try JPEGBandEncoder.encode(output, rows: output.rows, quality: quality)
        }
    }

    /// Rank 0 gathers every rank's piece (headers once, then each band's segments in order)
    /// into the file (nil elsewhere).
    func gatherJPEGPieces(_ piece: JPEGBandEncoder.Piece?, clock: inout PhaseClock) throws -> [UInt8]? {
        try clock.time(.gather) {
            let body = piece?.body ?? []
            var sizes = [Int64](repeating: 0, count: isRoot ? world.size : 0)
            try [Int64(body.count)].withUnsafeBytes { send in
                try sizes.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: 1, type: .int64, receive: isRoot ? receive : nil,
                                      counts: [Int](repeating: 1, count: world.size),
                                      displacements: Array(0..<world.size))
                }
            }
            // Rank 0 has rows whenever the image has any, so its piece carries the headers.
            let headerLength = isRoot ? piece?.headerLength ?? 0 : 0
            var offsets: [Int] = []
            var total = headerLength
            for n in sizes { offsets.append(total); total += Int(n) }
            var file = [UInt8](unsafeUninitializedCapacity: isRoot ? total : 0) { _, n in n = isRoot ? total : 0 }
            if let piece, isRoot { file.replaceSubrange(0..<headerLength, with: piece.bytes[..<headerLength]) }
            try body.withUnsafeBytes { send in
                try file.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: body.count, type: .byte, receive: isRoot ? receive : nil,
                                      counts: sizes.map { Int($0) }, displacements: offsets)
                }
            }
            return isRoot ? file : nil
        }
    }
}
