import ImageCore

/// Canny's edge detector on luma, with OpenCV's definition (`cv::Canny`, aperture 3, 8-bit input),
/// gray out, 0 or 255. With `L` the shared luma (`luma()`; channel 0 of gray inputs) and
/// coordinates clamped to the image (replicate border, as OpenCV's Canny passes to its Sobel):
///
/// 1. `Gx`, `Gy`: the 3x3 Sobel derivatives of `L`, exact integers in -1020...1020.
/// 2. `M = |Gx| + |Gy|` (L1, OpenCV's default), or `M = Gx² + Gy²` with `l2`; the thresholds are
///    then compared squared (`floor(t²)`), as OpenCV does, so the L2 variant is exact too.
/// 3. Non-maximum suppression along the gradient direction quantised to 0°, 45°, 90° or 135° by
///    OpenCV's fixed-point test: with `T = round(tan(22.5°) · 2^15) = 13573`,
///    `|Gy| · 2^15 < |Gx| · T` is horizontal, `|Gy| · 2^15 > |Gx| · T + |Gx| · 2^16` (tan 67.5° =
///    tan 22.5° + 2) is vertical, anything else diagonal, towards the upper left and lower right
///    when `Gx` and `Gy` have the same sign, else towards the upper right and lower left. A pixel
///    survives when `M` exceeds its neighbour before it (left or above) and is at least its
///    neighbour after it (right or below); on a diagonal it must exceed both. Outside the image
///    `M` counts as 0 (OpenCV pads its magnitude rows with zeros, not replicas), so an edge
///    along the image border survives.
/// 4. A survivor with `M > floor(low)` is weak; with `M > floor(high)` it is strong.
/// 5. Hysteresis: an edge is a weak pixel 8-connected through weak pixels to a strong one.
///
/// Steps 1-4 are local (`halo` rows: 2 for the gradient of the rows next to each row, plus the
/// blur's); step 5 is not: a chain of weak pixels may cross any number of band borders. So this
/// is a ``NonLocalKernel``: `edgeStates` does steps 1-4 on a band, and ``HysteresisBand`` does step 5,
/// on one band or, with the driver exchanging boundary rows, over all the ranks' bands.
///
/// OpenCV's `cv::Canny` on a colour image takes, per pixel, the channel with the largest
/// magnitude; bandsaw's canny, like its other edge filters, works on luma, so on colour input it
/// equals `cv2.Canny` of bandsaw's grayscale. OpenCV swaps `low` and `high` when `low > high`;
/// bandsaw refuses that spec instead.
struct CannyKernel: NonLocalKernel {
    /// `floor(low)` (`floor(low²)` with `l2`): weak means a magnitude above this.
    let low: Int32
    /// `floor(high)` (`floor(high²)` with `l2`): strong means a magnitude above this.
    let high: Int32
    /// Whether magnitudes are `Gx² + Gy²` instead of `|Gx| + |Gy|`.
    let l2: Bool
    /// The optional Gaussian pre-blur, on every colour channel before luma (the same as a
    /// `gaussian` stage before `canny`).
    var blur: GaussianKernel?
    /// The Sobel and suppression steps' kernel path (the blur has its own).
    var path = SIMDPath.active

    /// Thresholds as OpenCV reads them: squared (when positive) for L2, then floored.
    init(low: Double, high: Double, l2: Bool, sigma: Double) {
        func level(_ t: Double) -> Int32 {
            let squared = l2 && t > 0 ? t * t : t
            return Int32(squared.rounded(.down))
        }
        self.low = level(low)
        self.high = level(high)
        self.l2 = l2
        self.blur = sigma > 0 ? GaussianKernel(sigma: sigma) : nil
    }

    var halo: Int { 2 + (blur?.halo ?? 0) }

    func using(_ path: SIMDPath) -> any Kernel {
        var k = self
        k.path = path
        k.blur?.path = path
        return k
    }
    func outputChannels(forInput inputChannels: Int) -> Int { 1 }

    /// The whole of Canny on `rows`, hysteresis confined to them: exact when `rows` is the whole
    /// image (the single-process reference); the driver instead runs ``HysteresisBand`` across ranks.
    func apply(_ input: Band, rows: Range<Int>) -> Band {
        var band = HysteresisBand(states: edgeStates(input, rows: rows))
        band.growFromOwnEdges()
        return band.edges()
    }

    /// Steps 1-4: one ``EdgeState`` byte per pixel of `rows`.
    func edgeStates(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: halo)
        guard let blur else { return cannyStates(input, rows: rows) }
        let blurred = blur.apply(input, rows: input.rowsNeeded(for: rows, halo: 2))
        return cannyStates(blurred, rows: rows)
    }

    /// Steps 1-4 on `input`, which holds `rows` widened by 2 (clamped to the image).
    private func cannyStates(_ input: Band, rows: Range<Int>) -> Band {
        let width = input.width, height = input.imageHeight
        guard !rows.isEmpty, width > 0 else { return input.makeOutput(rows: rows, channels: 1) }
        let padded = width + 2
        // Three rings of three rows, indexed by `row % 3` (rows y-1, y, y+1 of each output row y
        // fall in different slots): luma with one replicated column each side; Gx and Gy; and
        // the magnitude with a zero column each side. `zeroMagnitude` stands for rows outside.
        var lumaRing = [Int16](repeating: 0, count: 3 * padded)
        var gxRing = [Int16](repeating: 0, count: 3 * width), gyRing = gxRing
        var magnitudeRing = [Int32](repeating: 0, count: 3 * padded)
        let zeroMagnitude = [Int32](repeating: 0, count: padded)
        let (low, high, l2, vector) = (self.low, self.high, self.l2, path == .avx2)
        // Every output row is written in full, so the output is not cleared first.
        return input.makeOutput(rows: rows, channels: 1) { dst in
        lumaRing.withUnsafeMutableBufferPointer { lumaBuffer in
        gxRing.withUnsafeMutableBufferPointer { gxBuffer in
        gyRing.withUnsafeMutableBufferPointer { gyBuffer in
        magnitudeRing.withUnsafeMutableBufferPointer { magnitudeBuffer in
        zeroMagnitude.withUnsafeBufferPointer { zero in
        input.pixels.withUnsafeBufferPointer { src in
            var lumaHeld = [-1, -1, -1], gradientHeld = [-1, -1, -1]
            /// Column 0 of the luma of image row `r` (clamped by the caller).
            func lumaRow(_ r: Int) -> UnsafeMutablePointer<Int16> {
                let p = lumaBuffer.baseAddress! + (r % 3) * padded + 1
                if lumaHeld[r % 3] != r {
                    let row = src.baseAddress! + (r - input.firstRow) * input.rowBytes
                    if vector && input.channels >= 3 {
                        VectorKernels.luma16(row, p, pixels: width, channels: input.channels)
                    } else {
                        edgeLuma(row, channels: input.channels, width: width, into: p)
                    }
                    p[-1] = p[0]
                    p[width] = p[width - 1]
                    lumaHeld[r % 3] = r
                }
                return p
            }
            /// Column 0 of the magnitude of row `r` (zeros outside the image), computing its
            /// gradient on first use.
            func magnitudeRow(_ r: Int) -> UnsafePointer<Int32> {
                guard r >= 0 && r < height else { return zero.baseAddress! + 1 }
                let slot = r % 3
                let m = magnitudeBuffer.baseAddress! + slot * padded + 1
                if gradientHeld[slot] != r {
                    let a = UnsafePointer(lumaRow(max(r - 1, 0))), c = UnsafePointer(lumaRow(min(r + 1, height - 1)))
                    let b = UnsafePointer(lumaRow(r))
                    let gx = gxBuffer.baseAddress! + slot * width, gy = gyBuffer.baseAddress! + slot * width
                    if vector {
                        VectorKernels.cannySobel(above: a, at: b, below: c, width: width, gx: gx, gy: gy, magnitude: m, l2: l2)
                    } else {
                        sobelRow(above: a, at: b, below: c, width: width, gx: gx, gy: gy, magnitude: m, l2: l2)
                    }
                    gradientHeld[slot] = r
                }
                return UnsafePointer(m)
            }
            for y in rows {
                let above = magnitudeRow(y - 1), below = magnitudeRow(y + 1), at = magnitudeRow(y)
                let slot = y % 3
                let gx = UnsafePointer(gxBuffer.baseAddress! + slot * width)
                let gy = UnsafePointer(gyBuffer.baseAddress! + slot * width)
                let out = dst + (y - rows.lowerBound) * width
                if vector {
                    VectorKernels.cannySuppress(above: above, at: at, below: below, gx: gx, gy: gy, width: width,
                                                low: low, high: high, into: out)
                } else {
                    suppressRow(above: above, at: at, below: below, gx: gx, gy: gy, width: width, low: low, high: high,
                                into: out)
                }
            }
        }
        }
        }
        }
        }
        }
        }
    }
}

/// One row of Sobel derivatives and their magnitude (`|gx| + |gy|`, or `gx² + gy²` with `l2`)
/// from three padded luma rows (index -1 and `width` hold the replicated edge pixels).
@inline(__always)
private func sobelRow(above a: UnsafePointer<Int16>, at b: UnsafePointer<Int16>, below c: UnsafePointer<Int16>,
                      width: Int, gx: UnsafeMutablePointer<Int16>, gy: UnsafeMutablePointer<Int16>,
                      magnitude m: UnsafeMutablePointer<Int32>, l2: Bool) {
    // Two loops rather than a choice per pixel, so each vectorises on its own.
    if l2 {
        for x in 0..<width {
            let (dx, dy) = sobelAt(x, a, b, c)
            gx[x] = Int16(truncatingIfNeeded: dx)
            gy[x] = Int16(truncatingIfNeeded: dy)
            m[x] = dx &* dx &+ dy &* dy
        }
    } else {
        for x in 0..<width {
            let (dx, dy) = sobelAt(x, a, b, c)
            gx[x] = Int16(truncatingIfNeeded: dx)
            gy[x] = Int16(truncatingIfNeeded: dy)
            m[x] = abs(dx) &+ abs(dy)
        }
    }
}

/// The Sobel derivatives at column `x` of the middle row `b`, in exact integers.
@inline(__always)
private func sobelAt(_ x: Int, _ a: UnsafePointer<Int16>, _ b: UnsafePointer<Int16>,
                     _ c: UnsafePointer<Int16>) -> (Int32, Int32) {
    let l = x &- 1, r = x &+ 1
    let dx = Int32(a[r] &- a[l]) &+ 2 &* Int32(b[r] &- b[l]) &+ Int32(c[r] &- c[l])
    let dy = Int32(c[l] &- a[l]) &+ 2 &* Int32(c[x] &- a[x]) &+ Int32(c[r] &- a[r])
    return (dx, dy)
}

/// `round(tan(22.5°) · 2^15)`: OpenCV's fixed-point slope between "horizontal" and "diagonal".
private let tan22Q15: Int32 = 13573

/// Non-maximum suppression and the double threshold of one row (step 3 and 4 of ``CannyKernel``).
@inline(__always)
private func suppressRow(above: UnsafePointer<Int32>, at: UnsafePointer<Int32>, below: UnsafePointer<Int32>,
                         gx: UnsafePointer<Int16>, gy: UnsafePointer<Int16>, width: Int, low: Int32, high: Int32,
                         into out: UnsafeMutablePointer<UInt8>) {
    for x in 0..<width {
        let m = at[x]
        var state = EdgeState.none
        if m > low {
            let xs = Int32(gx[x]), ys = Int32(gy[x])
            let ax = abs(xs), ay = abs(ys) &<< 15
            let tan22 = ax &* tan22Q15
            let isMaximum: Bool
            if ay < tan22 {
                isMaximum = m > at[x &- 1] && m >= at[x &+ 1]
            } else if ay > tan22 &+ (ax &<< 16) {
                isMaximum = m > above[x] && m >= below[x]
            } else {
                // Same signs: the gradient points down-right in image coordinates, so the
                // neighbours are upper left and lower right; opposite signs the other diagonal.
                let s = (xs ^ ys) < 0 ? -1 : 1
                isMaximum = m > above[x &- s] && m > below[x &+ s]
            }
            if isMaximum { state = m > high ? EdgeState.edge : EdgeState.weak }
        }
        out[x] = state
    }
}
