import ImageCodecs
import ImageCore
import ImageFilters

/// PNG output, encoded in parallel: every rank PNG-filters and deflates its own output rows,
/// and rank 0 gathers the compressed pieces (far fewer bytes than pixels) and stitches one
/// PNG. The rows restart where ``RestartLayout/forWriting(height:)`` says, so the next bandsaw
/// run that reads the PNG decodes it on every rank at once.
struct PNGPieceSink: BandSink {
    static func serves(_ format: ImageFormat, settings: RunSettings) -> Bool {
        format == .png && settings.encoding == .parallel
    }

    func deliver(_ output: Band, plan: BandPlan, channels: Int, run: ImageRun) throws -> Delivery {
        let piece: DeflatedBand?
        var encodeFailure: Failure? = nil
        do { piece = try deflate(output, run: run) } catch let error as ImageError {
            piece = nil
            encodeFailure = Failure(error)
        }
        if let failure = try run.agree(.encode, encodeFailure) { return .stopped(failure) }
        let png = try gather(piece!, output: output, plan: plan, run: run)
        if let failure = try run.agree(.gather) { return .stopped(failure) }
        guard let job = run.job, let png else { return .written(temporary: nil, failure: nil) }
        let (temporary, failure) = run.writeTemporary(png, for: job)
        return .written(temporary: temporary, failure: failure)
    }

    /// This rank's rows, filtered and deflated. Throws the deflater's `ImageError` (out of
    /// memory).
    private func deflate(_ output: Band, run: ImageRun) throws -> DeflatedBand {
        let owned = output.rows
        let rowBytes = output.rowBytes
        let restart = RestartLayout.forWriting(height: output.imageHeight)
        let world = run.world
        let level = run.settings.compressionLevel
        return try run.time(.encode) { () throws -> DeflatedBand in
            // The PNG filters of a band's first row read the row above it: pass each band's
            // last row down one rank (ranks beyond the last row own nothing and skip this).
            let size = world.size, rank = world.rank
            // Empty bands only ever come last, so a rank with rows has a predecessor with rows,
            // and its successor has rows unless this band reaches the image's bottom.
            let next = rank + 1 < size && !owned.isEmpty && owned.upperBound < output.imageHeight ? rank + 1 : nil
            let previous = rank > 0 && !owned.isEmpty ? rank - 1 : nil
            let aboveCount = previous == nil ? 0 : rowBytes
            var above = [UInt8](repeating: 0, count: aboveCount)
            let last = owned.isEmpty ? [] : Array(output.pixels[(output.pixels.count - rowBytes)...])
            try last.withUnsafeBytes { send in
                try above.withUnsafeMutableBytes { receive in
                    try world.sendReceive(send: send, sendCount: next == nil ? 0 : rowBytes, to: next,
                                          receive: receive, receiveCount: aboveCount, from: previous, unit: 1)
                }
            }
            return try PNGBandEncoder.deflate(output, previousRow: previous == nil ? nil : above,
                                              restartRows: restart?.restartRows(in: owned) ?? [],
                                              compressionLevel: level)
        }
    }

    /// Rank 0 gathers every rank's deflated piece and stitches one PNG, with restart points
    /// (nil elsewhere).
    private func gather(_ piece: DeflatedBand, output: Band, plan: BandPlan, run: ImageRun) throws -> [UInt8]? {
        let restart = RestartLayout.forWriting(height: output.imageHeight)
        let world = run.world, isRoot = run.isRoot
        return try run.time(.gather) { () throws -> [UInt8]? in
            // Each rank's piece size, Adler-32 and raw length first, then the bytes.
            let all = try world.gather([Int64(piece.bytes.count), Int64(piece.adler), Int64(piece.rawLength)])
            let sizes = isRoot ? stride(from: 0, to: all.count, by: 3).map { Int(all[$0]) } : []
            var offsets: [Int] = []
            var total = 0
            for n in sizes { offsets.append(total); total += n }
            var compressed = [UInt8](unsafeUninitializedCapacity: total) { _, n in n = total }
            try piece.bytes.withUnsafeBytes { send in
                try compressed.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: piece.bytes.count, unit: 1, receive: isRoot ? receive : nil,
                                      counts: isRoot ? sizes : [], displacements: offsets, root: 0)
                }
            }
            // Where each piece's segments start, as offsets in the piece; every rank knows how
            // many each piece has from the plan.
            let restartCounts = plan.shares.map { restart?.restartRows(in: $0.owned).count ?? 0 }
            var restartOffsets = [Int64](repeating: 0, count: isRoot ? restartCounts.reduce(0, +) : 0)
            let localOffsets = piece.restartOffsets.map(Int64.init)
            let displacements = restartCounts.indices.map { restartCounts[..<$0].reduce(0, +) }
            try localOffsets.withUnsafeBytes { send in
                try restartOffsets.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: localOffsets.count, unit: 8, receive: isRoot ? receive : nil,
                                      counts: restartCounts, displacements: displacements, root: 0)
                }
            }
            guard isRoot else { return nil }
            return PNGBandEncoder.stitch(
                width: output.width, height: output.imageHeight, channels: output.channels, compressed: compressed,
                sizes: sizes, adlers: stride(from: 1, to: all.count, by: 3).map { UInt32(all[$0]) },
                rawLengths: stride(from: 2, to: all.count, by: 3).map { UInt64(all[$0]) },
                restartOffsets: zip(displacements, restartCounts).map { d, n in restartOffsets[d..<(d + n)].map { Int($0) } })
        }
    }
}
