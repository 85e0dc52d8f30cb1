// Median filter in constant time per pixel (Perreault & Hébert, "Median Filtering in Constant Time",
// IEEE TIP 2007), with the replicate border rule.
//
// Every column keeps a histogram of its `size` window rows (rows clamped to the image, so an edge row
// may count several times): 16 coarse bins (value >> 4) and 256 fine bins. Moving down a row updates
// each column histogram by one removal and one addition. Moving right along a row adds the entering
// column and subtracts the leaving one from the window's coarse histogram (a 16-lane vector add);
// the fine histogram of a coarse bin is only brought up to date when the median falls in that bin.
// The median is the value of rank (size^2 - 1) / 2 among the window's size^2 samples. Counts are
// exact integers, so any band split gives the same result.

/// Per-channel median over a `size` x `size` window, each channel (alpha included) on its own.
struct MedianKernel: Kernel {
    /// Odd window side.
    let size: Int
    init(size: Int) {
        precondition(size >= 1 && size % 2 == 1, "median size must be odd")
        self.size = size
    }

    var halo: Int { size / 2 }
    func outputChannels(forInput inputChannels: Int) -> Int { inputChannels }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: halo)
        if size == 1 { return input.slice(rows: rows) }
        var out = input.makeOutput(rows: rows, channels: input.channels)
        let n = input.rowBytes
        guard !rows.isEmpty, n > 0 else { return out }
        // Column histograms, one per sample position of a row (column x, channel ch at x * channels + ch).
        var coarse = [UInt16](repeating: 0, count: n * 16)
        var fine = [UInt16](repeating: 0, count: n * 256)
        input.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                coarse.withUnsafeMutableBufferPointer { coarseBuf in
                    fine.withUnsafeMutableBufferPointer { fineBuf in
                        let state = MedianState(input: input, source: src.baseAddress!, size: size,
                                                coarse: coarseBuf.baseAddress!, fine: fineBuf.baseAddress!)
                        for y in rows {
                            if y == rows.lowerBound { state.fillColumns(centredOn: y) } else { state.moveColumns(to: y) }
                            state.filterRow(into: dst.baseAddress! + (y - rows.lowerBound) * n)
                        }
                    }
                }
            }
        }
        return out
    }
}

/// The column histograms of one band pass and the row sweep over them.
private struct MedianState {
    let width: Int, channels: Int, rowBytes: Int, height: Int, firstRow: Int
    let radius: Int, rank: Int
    let source: UnsafePointer<UInt8>
    let coarse: UnsafeMutablePointer<UInt16>
    let fine: UnsafeMutablePointer<UInt16>

    init(input: Band, source: UnsafePointer<UInt8>, size: Int,
         coarse: UnsafeMutablePointer<UInt16>, fine: UnsafeMutablePointer<UInt16>) {
        width = input.width; channels = input.channels; rowBytes = input.rowBytes
        height = input.imageHeight; firstRow = input.firstRow
        radius = size / 2; rank = (size * size - 1) / 2
        self.source = source; self.coarse = coarse; self.fine = fine
    }

    func row(_ y: Int) -> UnsafePointer<UInt8> { source + (clampRow(y, height: height) - firstRow) * rowBytes }

    /// Builds the column histograms for the window rows of row `y` from nothing.
    func fillColumns(centredOn y: Int) {
        for dy in -radius...radius {
            let p = row(y + dy)
            for i in 0..<rowBytes {
                let v = Int(p[i])
                coarse[i &* 16 &+ v &>> 4] &+= 1
                fine[i &* 256 &+ v] &+= 1
            }
        }
    }

    /// Moves the column histograms from the window rows of `y - 1` to those of `y`.
    func moveColumns(to y: Int) {
        let leaving = row(y - radius - 1), entering = row(y + radius)
        for i in 0..<rowBytes {
            let old = Int(leaving[i]), new = Int(entering[i])
            if old == new { continue }
            coarse[i &* 16 &+ old &>> 4] &-= 1
            fine[i &* 256 &+ old] &-= 1
            coarse[i &* 16 &+ new &>> 4] &+= 1
            fine[i &* 256 &+ new] &+= 1
        }
    }

    /// Sample index of column `x` (clamped: replicate border), channel `ch`.
    @inline(__always) func column(_ x: Int, _ ch: Int) -> Int {
        Swift.min(width &- 1, Swift.max(0, x)) &* channels &+ ch
    }

    @inline(__always) func coarseVector(_ i: Int) -> SIMD16<UInt16> {
        let offset: Int = i &* 16
        return UnsafeRawPointer(coarse + offset).loadUnaligned(as: SIMD16<UInt16>.self)
    }

    @inline(__always) func fineVector(_ i: Int, _ bin: Int) -> SIMD16<UInt16> {
        let offset: Int = i &* 256 &+ bin &* 16
        return UnsafeRawPointer(fine + offset).loadUnaligned(as: SIMD16<UInt16>.self)
    }

    /// Writes the medians of one row, channel by channel, from the current column histograms.
    func filterRow(into out: UnsafeMutablePointer<UInt8>) {
        let r = radius
        // The window's fine histogram, per coarse bin, and the column at which each bin was last
        // brought up to date (`Int.min`: never, this row).
        var windowFine = [SIMD16<UInt16>](repeating: .zero, count: 16)
        var syncedAt = [Int](repeating: .min, count: 16)
        windowFine.withUnsafeMutableBufferPointer { wf in
            syncedAt.withUnsafeMutableBufferPointer { synced in
                for ch in 0..<channels {
                    var windowCoarse = SIMD16<UInt16>.zero
                    for dx in -r...r { windowCoarse &+= coarseVector(column(dx, ch)) }
                    for b in 0..<16 { synced[b] = .min }
                    for x in 0..<width {
                        if x > 0 {
                            let enter = column(x &+ r, ch), leave = column(x &- r &- 1, ch)
                            windowCoarse &+= coarseVector(enter) &- coarseVector(leave)
                        }
                        // The coarse bin holding the median, and how many samples lie below it.
                        var below = 0, bin = 0
                        while below &+ Int(windowCoarse[bin]) <= rank { below &+= Int(windowCoarse[bin]); bin &+= 1 }
                        let last = synced[bin]
                        if last != .min && (x &- last) &* 2 <= 2 &* r &+ 1 {
                            for x2 in (last &+ 1)...x {
                                wf[bin] &+= fineVector(column(x2 &+ r, ch), bin) &- fineVector(column(x2 &- r &- 1, ch), bin)
                            }
                        } else {
                            var sum = SIMD16<UInt16>.zero
                            for dx in -r...r { sum &+= fineVector(column(x &+ dx, ch), bin) }
                            wf[bin] = sum
                        }
                        synced[bin] = x
                        let counts = wf[bin]
                        var value = 0
                        while true {
                            below &+= Int(counts[value])
                            if below > rank { break }
                            value &+= 1
                        }
                        out[x &* channels &+ ch] = UInt8(truncatingIfNeeded: bin &* 16 &+ value)
                    }
                }
            }
        }
    }
}
