import ImageCodecs
import ImageCore

/// JPEG output, encoded in parallel: every rank encodes its own MCU rows with libjpeg-turbo
/// (``JPEGBandEncoder``), and rank 0 gathers the compressed pieces (kilobytes, not pixels) and
/// joins them. The file is byte for byte the serial encode (a restart marker after every MCU
/// row makes the pieces independent), on any number of ranks.
struct JPEGPieceSink: BandSink {
    static func serves(_ format: ImageFormat, settings: RunSettings) -> Bool {
        format == .jpeg && settings.encoding == .parallel
    }

    func deliver(_ output: Band, plan: BandPlan, channels: Int, run: ImageRun) throws -> Delivery {
        let band = try onMCURows(output, plan: plan, channels: channels, run: run)
        var piece: JPEGBandEncoder.Piece? = nil
        var encodeFailure: Failure? = nil
        if band.rowCount > 0 {
            let quality = run.settings.quality ?? JPEGCodec.defaultQuality
            do throws(ImageError) {
                piece = try run.time(.encode) { () throws(ImageError) in
                    try JPEGBandEncoder.encode(band, rows: band.rows, quality: quality)
                }
            } catch { encodeFailure = Failure(error) }
        }
        if let failure = try run.agree(.encode, encodeFailure) { return .stopped(failure) }
        let file = try gather(piece, run: run)
        if let failure = try run.agree(.gather) { return .stopped(failure) }
        guard let job = run.job, let file else { return .written(temporary: nil, failure: nil) }
        let (temporary, failure) = run.writeTemporary(file, for: job)
        return .written(temporary: temporary, failure: failure)
    }

    /// This rank's output rows moved onto MCU-row boundaries: bands cut every 16 rows (colour,
    /// 4:2:0) or 8 (gray), as evenly as that allows. The rows between a band's edge and the
    /// nearest MCU row (fewer than 16 per edge) come from the neighbours; nothing moves when the
    /// source's plan is on MCU rows already (the JPEG sources' plans are).
    private func onMCURows(_ output: Band, plan: BandPlan, channels: Int, run: ImageRun) throws -> Band {
        let height = plan.height, rank = run.rank
        let target = JPEGBands.split(height: height, ranks: run.world.size, unit: JPEGBandEncoder.mcuRows(channels: channels))
        guard target != plan.ownedCounts else { return output }
        let goal = BandPlan(height: height, ownedCounts: target, halo: 0)
        let have = plan.shares.map(\.owned), want = goal.shares.map(\.owned)
        func transfer(_ owner: Int, _ receiver: Int) -> Range<Int> {
            guard owner != receiver else { return 0..<0 }
            let lo = max(have[owner].lowerBound, want[receiver].lowerBound)
            let hi = min(have[owner].upperBound, want[receiver].upperBound)
            return lo < hi ? lo..<hi : 0..<0
        }
        var reach = 0
        for owner in have.indices {
            for receiver in want.indices where !transfer(owner, receiver).isEmpty { reach = max(reach, abs(owner - receiver)) }
        }
        // A buffer over both this rank's rows and its goal's, its own rows in place.
        let mine = have[rank], goalRows = want[rank]
        let spans = [mine, goalRows].filter { !$0.isEmpty }
        let held = spans.isEmpty ? 0..<0 : spans.map(\.lowerBound).min()!..<spans.map(\.upperBound).max()!
        let rowBytes = output.rowBytes
        var pixels = [UInt8](repeating: 0, count: held.count * rowBytes)
        if !mine.isEmpty {
            let at = (mine.lowerBound - held.lowerBound) * rowBytes
            pixels.replaceSubrange(at..<(at + mine.count * rowBytes), with: output.pixels)
        }
        let world = run.world
        try run.time(.encode) {
            try pixels.withUnsafeMutableBytes { buffer in
                try world.exchangeRows(buffer: buffer, held: held, rowBytes: rowBytes, reach: reach, transfer: transfer)
            }
        }
        let from = (goalRows.lowerBound - held.lowerBound) * rowBytes
        return Band(width: output.width, channels: output.channels, imageHeight: height, firstRow: goalRows.lowerBound,
                    pixels: goalRows.isEmpty ? [] : Array(pixels[from..<(from + goalRows.count * rowBytes)]))
    }

    /// Rank 0 gathers every rank's piece (the headers once, then each band's segments in
    /// order) into the file (nil elsewhere).
    private func gather(_ piece: JPEGBandEncoder.Piece?, run: ImageRun) throws -> [UInt8]? {
        let world = run.world, isRoot = run.isRoot
        return try run.time(.gather) { () throws -> [UInt8]? in
            let body = piece?.body ?? []
            let sizes = try world.gather([Int64(body.count)]).map { Int($0) }
            // Rank 0 has rows whenever the image has any (empty bands come last), so its piece
            // carries the headers.
            let headerLength = isRoot ? piece?.headerLength ?? 0 : 0
            var offsets: [Int] = []
            var total = headerLength
            for n in sizes { offsets.append(total); total += n }
            var file = [UInt8](unsafeUninitializedCapacity: isRoot ? total : 0) { _, n in n = isRoot ? total : 0 }
            if let piece, isRoot { file.replaceSubrange(0..<headerLength, with: piece.bytes[..<headerLength]) }
            try body.withUnsafeBytes { send in
                try file.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: body.count, unit: 1, receive: isRoot ? receive : nil,
                                      counts: sizes, displacements: offsets, root: 0)
                }
            }
            return isRoot ? file : nil
        }
    }
}
