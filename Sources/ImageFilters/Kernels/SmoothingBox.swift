// Box (mean) filter with running sums: O(1) work per sample whatever the window size.
//
// Arithmetic: S = sum of the size x size window (rows and columns clamped: replicate border),
// at most 255 * 255^2 < 2^24; out = (S + area / 2) / area with area = size^2, i.e. round half up.
// The division is a multiply by m = ceil(2^40 / area) and a shift by 40, exact for every S < 2^24
// (the error S * (m area - 2^40) / 2^40 stays below 1/area).
import ImageCore

/// Mean over a `size` x `size` window, each channel (alpha included) on its own.
struct BoxKernel: Kernel {
    /// Odd window side.
    let size: Int
    var path = SIMDPath.active
    init(size: Int) {
        precondition(size >= 1 && size % 2 == 1, "box size must be odd")
        self.size = size
    }

    var halo: Int { size / 2 }
    func outputChannels(forInput inputChannels: Int) -> Int { inputChannels }
    func using(_ path: SIMDPath) -> any Kernel { var k = self; k.path = path; return k }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: halo)
        let r = halo, c = input.channels, w = input.width, n = input.rowBytes, height = input.imageHeight
        if path == .avx2 && !rows.isEmpty && n > 0 {
            return input.filledFromClampedRows(rows, radius: r) { rowPointers, dst in
                VectorKernels.box(rows: rowPointers, outputRows: rows.count, width: w, channels: c, radius: r, into: dst)
            }
        }
        var out = input.makeOutput(rows: rows, channels: input.channels)
        guard !rows.isEmpty, n > 0 else { return out }
        let area = UInt64(size * size), half = area / 2
        let reciprocal = ((1 as UInt64) << 40 + (area - 1)) / area
        // Column sums over the window's rows, one per sample, with `r` replicated pixels each side.
        var sums = [UInt32](repeating: 0, count: (w + 2 * r) * c)
        input.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                sums.withUnsafeMutableBufferPointer { sumBuf in
                    let s = sumBuf.baseAddress!, interior = s + r * c
                    func row(_ y: Int) -> UnsafePointer<UInt8> {
                        src.baseAddress! + (clampRow(y, height: height) - input.firstRow) * n
                    }
                    for dy in -r...r {
                        let p = row(rows.lowerBound + dy)
                        for j in 0..<n { interior[j] &+= UInt32(p[j]) }
                    }
                    for y in rows {
                        if y > rows.lowerBound {
                            let add = row(y + r), sub = row(y - r - 1)
                            for j in 0..<n { interior[j] = interior[j] &+ UInt32(add[j]) &- UInt32(sub[j]) }
                        }
                        let right = interior + n - c
                        for k in 0..<r {
                            (s + k * c).update(from: interior, count: c)
                            (interior + n + k * c).update(from: right, count: c)
                        }
                        let o = dst.baseAddress! + (y - rows.lowerBound) * n
                        for ch in 0..<c {
                            var total: UInt32 = 0
                            for k in 0..<size { total &+= s[k * c + ch] }
                            var j = ch
                            while true {
                                o[j] = UInt8(truncatingIfNeeded: ((UInt64(total) &+ half) &* reciprocal) &>> 40)
                                if j &+ c >= n { break }
                                // Slide one pixel: the window's left column leaves, the next right one enters.
                                total = total &+ s[j &+ size &* c] &- s[j]
                                j &+= c
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
