// The point filters (grayscale, invert), and the luma rule they and the edge filters share.
import ImageCore

/// Luma of one pixel, the one grayscale rule every filter shares:
/// `(77 R + 150 G + 29 B + 128) >> 8` (BT.601 weights in 8-bit fixed point, summing to 256,
/// so white stays 255). Gray inputs pass through; alpha is ignored.
@inlinable @inline(__always)
public func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    UInt8(truncatingIfNeeded: (77 &* UInt32(r) &+ 150 &* UInt32(g) &+ 29 &* UInt32(b) &+ 128) &>> 8)
}

/// Converts rows of any channel layout to one luma channel.
struct GrayscaleKernel: Kernel {
    var path = SIMDPath.active
    var halo: Int { 0 }
    func outputChannels(forInput inputChannels: Int) -> Int { 1 }
    func using(_ path: SIMDPath) -> any Kernel { GrayscaleKernel(path: path) }
    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: 0)
        let n = rows.count * input.width, c = input.channels
        let start = (rows.lowerBound - input.firstRow) * input.rowBytes
        // Every output sample is written below, so the output is not zeroed first.
        return input.makeOutput(rows: rows, channels: 1) { d in
            input.pixels.withUnsafeBufferPointer { src in
                let s = src.baseAddress! + start
                switch (c, path) {
                case (1, _), (2, _): for i in 0..<n { d[i] = s[i &* c] }
                case (_, .avx2): VectorKernels.luma(s, d, pixels: n, channels: c)
                case (_, .baseline): for i in 0..<n { let p = s + i &* c; d[i] = luma(p[0], p[1], p[2]) }
                }
            }
        }
    }
}

/// 255 minus each sample; the alpha channel (2 or 4 channels) is kept.
struct InvertKernel: Kernel {
    var path = SIMDPath.active
    var halo: Int { 0 }
    func outputChannels(forInput inputChannels: Int) -> Int { inputChannels }
    func using(_ path: SIMDPath) -> any Kernel { InvertKernel(path: path) }
    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: 0)
        guard path == .avx2, !rows.isEmpty, input.rowBytes > 0 else {
            var out = input.slice(rows: rows)
            let hasAlpha = input.channels == 2 || input.channels == 4, c = input.channels
            out.pixels.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count where !(hasAlpha && i % c == c - 1) { p[i] = 255 &- p[i] }
            }
            return out
        }
        // Straight from the input into fresh storage: one pass over memory, not a copy and a pass.
        let start = (rows.lowerBound - input.firstRow) * input.rowBytes
        return input.makeOutput(rows: rows, channels: input.channels) { dst in
            input.pixels.withUnsafeBufferPointer { src in
                VectorKernels.invert(src.baseAddress! + start, dst, pixels: rows.count * input.width, channels: input.channels)
            }
        }
    }
}
