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
// The image is swept in vertical strips (as in the paper) so that one strip's column histograms,
// plus the `radius` columns each side its windows reach, stay in the L2 cache.
import ImageCore

/// Per-channel median over a `size` x `size` window, each channel (alpha included) on its own.
struct MedianKernel: Kernel {
    /// Odd window side.
    let size: Int
    var path = SIMDPath.active
    init(size: Int) {
        precondition(size >= 1 && size % 2 == 1, "median size must be odd")
        self.size = size
    }

    var halo: Int { size / 2 }
    func outputChannels(forInput inputChannels: Int) -> Int { inputChannels }
    func using(_ path: SIMDPath) -> any Kernel { var k = self; k.path = path; return k }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: halo)
        if size == 1 { return input.slice(rows: rows) }
        let r = halo, w = input.width, c = input.channels
        // About 512 KiB of fine histograms per strip.
        let stripWidth = Swift.max(64, (1 << 19) / (c * 512) - 2 * r)
        if path == .avx2 && !rows.isEmpty && input.rowBytes > 0 {
            // 3 x 3 and 5 x 5: sorting networks on sorted columns; larger: the same histograms as below.
            return input.filledFromClampedRows(rows, radius: r) { rowPointers, dst in
                switch size {
                case 3: VectorKernels.median3(rows: rowPointers, outputRows: rows.count, width: w, channels: c, into: dst)
                case 5: VectorKernels.median5(rows: rowPointers, outputRows: rows.count, width: w, channels: c, into: dst)
                default:
                    VectorKernels.median(rows: rowPointers, outputRows: rows.count, width: w, channels: c, radius: r,
                                         stripWidth: stripWidth, into: dst)
                }
            }
        }
        var out = input.makeOutput(rows: rows, channels: input.channels)
        let n = input.rowBytes
        guard !rows.isEmpty, n > 0 else { return out }
        // Column histograms for a strip and its reach, one per sample position of a row.
        let capacity = Swift.min(w, stripWidth + 2 * r) * c
        var coarse = [UInt16](repeating: 0, count: capacity * 16)
        var fine = [UInt16](repeating: 0, count: capacity * 256)
        input.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                coarse.withUnsafeMutableBufferPointer { coarseBuf in
                    fine.withUnsafeMutableBufferPointer { fineBuf in
                        for x0 in stride(from: 0, to: w, by: stripWidth) {
                            let strip = x0..<Swift.min(w, x0 + stripWidth)
                            coarseBuf.update(repeating: 0)
                            fineBuf.update(repeating: 0)
                            let state = MedianState(input: input, source: src.baseAddress!, size: size, strip: strip,
                                                    coarse: coarseBuf.baseAddress!, fine: fineBuf.baseAddress!)
                            for y in rows {
                                if y == rows.lowerBound { state.fillColumns(centredOn: y) } else { state.moveColumns(to: y) }
                                state.filterRow(into: dst.baseAddress! + (y - rows.lowerBound) * n)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// The column histograms of one strip of a band and the row sweep over them.
private struct MedianState {
    let width: Int, channels: Int, rowBytes: Int, height: Int, firstRow: Int
    let radius: Int, rank: Int
    /// Output columns of the strip.
    let strip: Range<Int>
    /// Columns with a histogram: the strip widened by the radius, clamped to the image.
    let histogramColumns: Range<Int>
    let source: UnsafePointer<UInt8>
    let coarse: UnsafeMutablePointer<UInt16>
    let fine: UnsafeMutablePointer<UInt16>

    init(input: Band, source: UnsafePointer<UInt8>, size: Int, strip: Range<Int>,
         coarse: UnsafeMutablePointer<UInt16>, fine: UnsafeMutablePointer<UInt16>) {
        width = input.width; channels = input.channels; rowBytes = input.rowBytes
        height = input.imageHeight; firstRow = input.firstRow
        radius = size / 2; rank = (size * size - 1) / 2
        self.strip = strip
        histogramColumns = Swift.max(0, strip.lowerBound - radius)..<Swift.min(width, strip.upperBound + radius)
        self.source = source; self.coarse = coarse; self.fine = fine
    }

    func row(_ y: Int) -> UnsafePointer<UInt8> { source + (clampRow(y, height: height) - firstRow) * rowBytes }

    /// Builds the column histograms for the window rows of row `y` from nothing.
    func fillColumns(centredOn y: Int) {
        for dy in -radius...radius {
            let p = row(y + dy) + histogramColumns.lowerBound * channels
            for i in 0..<(histogramColumns.count * channels) {
                let v = Int(p[i])
                coarse[i &* 16 &+ v &>> 4] &+= 1
                fine[i &* 256 &+ v] &+= 1
            }
        }
    }

    /// Moves the column histograms from the window rows of `y - 1` to those of `y`.
    func moveColumns(to y: Int) {
        let skip = histogramColumns.lowerBound * channels
        let leaving = row(y - radius - 1) + skip, entering = row(y + radius) + skip
        for i in 0..<(histogramColumns.count * channels) {
            let old = Int(leaving[i]), new = Int(entering[i])
            if old == new { continue }
            coarse[i &* 16 &+ old &>> 4] &-= 1
            fine[i &* 256 &+ old] &-= 1
            coarse[i &* 16 &+ new &>> 4] &+= 1
            fine[i &* 256 &+ new] &+= 1
        }
    }

    /// Histogram index of column `x` (clamped: replicate border), channel `ch`.
    @inline(__always) func column(_ x: Int, _ ch: Int) -> Int {
        (Swift.min(width &- 1, Swift.max(0, x)) &- histogramColumns.lowerBound) &* channels &+ ch
    }

    @inline(__always) func coarseVector(_ i: Int) -> SIMD16<UInt16> {
        let offset: Int = i &* 16
        return UnsafeRawPointer(coarse + offset).loadUnaligned(as: SIMD16<UInt16>.self)
    }

    @inline(__always) func fineVector(_ i: Int, _ bin: Int) -> SIMD16<UInt16> {
        let offset: Int = i &* 256 &+ bin &* 16
        return UnsafeRawPointer(fine + offset).loadUnaligned(as: SIMD16<UInt16>.self)
    }

    /// The bin of `counts` holding the sample of rank `rank`, where `below` samples lie under bin 0,
    /// and the count under that bin. (A vector prefix sum or a search from the previous median measured
    /// slower: the generic SIMD masking and reduction do not compile to straight vector code.)
    @inline(__always) func locate(_ rank: Int, in counts: SIMD16<UInt16>, below base: Int) -> (Int, Int) {
        var i = 0, below = base
        while below &+ Int(counts[i]) <= rank { below &+= Int(counts[i]); i &+= 1 }
        return (i, below)
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
                    for dx in -r...r { windowCoarse &+= coarseVector(column(strip.lowerBound &+ dx, ch)) }
                    for b in 0..<16 { synced[b] = .min }
                    for x in strip {
                        if x > strip.lowerBound {
                            let enter = column(x &+ r, ch), leave = column(x &- r &- 1, ch)
                            windowCoarse &+= coarseVector(enter) &- coarseVector(leave)
                        }
                        // The coarse bin holding the median, and how many samples lie below it.
                        let (bin, below) = locate(rank, in: windowCoarse, below: 0)
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
                        let (value, _) = locate(rank, in: wf[bin], below: below)
                        out[x &* channels &+ ch] = UInt8(truncatingIfNeeded: bin &* 16 &+ value)
                    }
                }
            }
        }
    }
}
