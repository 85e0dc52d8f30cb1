import ImageCore

/// The 4-neighbour Laplacian of luma, gray out:
/// `out = min(255, |L(x,y-1) + L(x-1,y) + L(x+1,y) + L(x,y+1) - 4 L(x,y)|)` in exact integers,
/// with `L` the shared luma and coordinates clamped to the image (replicate border).
struct LaplacianKernel: Kernel {
    var halo: Int { 1 }
    func outputChannels(forInput inputChannels: Int) -> Int { 1 }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        edgeLumaOperator(input, rows: rows) { above, at, below, out, chunks in
            for i in 0..<chunks {
                let x = i &* edgeChunk
                let l = edgeLoad(above + x) &+ edgeLoad(below + x) &+ edgeLoad(at + (x &- 1))
                    &+ edgeLoad(at + (x &+ 1)) &- edgeLoad(at + x) &* 4
                // Branch-free |l| and min(255, |l|): comparisons producing SIMDMask compile to
                // lane-by-lane loops, shifts of the sign bit do not.
                let sign = l &>> 15, magnitude = (l ^ sign) &- sign
                let m: SIMD16<UInt8> = convertLanes(magnitude | ((255 &- magnitude) &>> 15)) { UInt8(truncatingIfNeeded: $0) }
                UnsafeMutableRawPointer(out + x).storeBytes(of: m, as: SIMD16<UInt8>.self)
            }
        }
    }
}

/// Emboss on each colour channel, channels kept:
///
///     -2 -1  0
///     -1  1  1      out = clamp(sum, 0, 255), coordinates clamped (replicate border)
///      0  1  2
///
/// The weights sum to 1, so flat areas keep their colour and edges facing the light (bottom
/// right) brighten while those facing away darken. (An earlier version added 128 as well,
/// which is the offset for zero-sum emboss kernels and washed every flat area out to white.)
/// The alpha channel (2 or 4 channels) is copied from the centre pixel unchanged.
struct EmbossKernel: Kernel {
    var halo: Int { 1 }
    func outputChannels(forInput inputChannels: Int) -> Int { inputChannels }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: 1)
        let width = input.width, c = input.channels, rowBytes = input.rowBytes
        let count = rows.count * rowBytes
        guard count > 0 else { return input.makeOutput(rows: rows, channels: c) }
        let last = input.imageHeight - 1
        let pixels = PixelStorage.uninitialized(count: count) { outBuffer in
            input.pixels.withUnsafeBufferPointer { src in
                for y in rows {
                    let row = { (r: Int) in src.baseAddress! + (r - input.firstRow) * rowBytes }
                    let t = row(max(y - 1, 0)), m = row(y), b = row(min(y + 1, last))
                    let out = outBuffer.baseAddress! + (y - rows.lowerBound) * rowBytes
                    /// Sample `i` with its left and right neighbours at `i - l` and `i + r`.
                    // In Int16 (the sum lies in -1020...1275): eight lanes per SSE2 register and
                    // native pmaxsw/pminsw for the clamp once the loop is vectorised.
                    @inline(__always) func emboss(_ i: Int, _ l: Int, _ r: Int) {
                        let s = 0 &- 2 &* Int16(t[i &- l]) &- Int16(t[i]) &- Int16(m[i &- l])
                            &+ Int16(m[i]) &+ Int16(m[i &+ r]) &+ Int16(b[i]) &+ 2 &* Int16(b[i &+ r])
                        out[i] = UInt8(truncatingIfNeeded: Swift.min(255, Swift.max(0, s)))
                    }
                    // Border columns clamp their outside neighbour to themselves; the interior
                    // loop has no clamping and vectorises.
                    let leftReach = width > 1 ? c : 0
                    for i in 0..<c { emboss(i, 0, leftReach) }
                    if width > 1 {
                        for i in (rowBytes - c)..<rowBytes { emboss(i, c, 0) }
                        for i in c..<(rowBytes - c) { emboss(i, c, c) }
                    }
                    if c == 2 || c == 4 {
                        for x in 0..<width { out[x &* c &+ c &- 1] = m[x &* c &+ c &- 1] }
                    }
                }
            }
        }
        return Band(width: width, channels: c, imageHeight: input.imageHeight, firstRow: rows.lowerBound,
                    pixels: pixels)
    }
}

/// Binary threshold of luma, gray out: `out = L >= value ? 255 : 0`.
struct ThresholdKernel: Kernel {
    var value: Int
    var path = SIMDPath.active
    var halo: Int { 0 }
    func outputChannels(forInput inputChannels: Int) -> Int { 1 }
    func using(_ path: SIMDPath) -> any Kernel { ThresholdKernel(value: value, path: path) }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: 0)
        let n = rows.count * input.width, c = input.channels
        guard n > 0 else { return input.makeOutput(rows: rows, channels: 1) }
        let level = Int16(value), start = (rows.lowerBound - input.firstRow) * input.rowBytes
        let pixels = PixelStorage.uninitialized(count: n) { outBuffer in
            input.pixels.withUnsafeBufferPointer { src in
                let s = src.baseAddress! + start, d = outBuffer.baseAddress!
                @inline(__always) func level255(_ l: UInt8) -> UInt8 { Int16(l) >= level ? 255 : 0 }
                if path == .avx2 {
                    VectorKernels.threshold(s, d, pixels: n, channels: c, level: value)
                    return
                }
                switch c {
                case 1: for i in 0..<n { d[i] = level255(s[i]) }
                case 2: for i in 0..<n { d[i] = level255(s[2 &* i]) }
                case 3: for i in 0..<n { let p = s + 3 &* i; d[i] = level255(luma(p[0], p[1], p[2])) }
                default: for i in 0..<n { let p = s + 4 &* i; d[i] = level255(luma(p[0], p[1], p[2])) }
                }
            }
        }
        return Band(width: input.width, channels: 1, imageHeight: input.imageHeight,
                    firstRow: rows.lowerBound, pixels: pixels)
    }
}
