// Fixed-point separable Gaussian blur and the unsharp mask built on it.
//
// Arithmetic (all integer, so every rank and every band split gets the same bits):
//   weights   w[0...r], r = ceil(3 sigma), symmetric, w[0] + 2 * (w[1] + ... + w[r]) == 2^15 exactly
//   pass 1    h = (sum_i w[|i|] * x[clamp(col + i)] + 2^7) >> 8        7 fractional bits, <= 32640 (UInt16)
//   pass 2    s =  sum_i w[|i|] * h[clamp(row + i)]                     22 fractional bits, <= 32640 * 2^15 (UInt32)
//   gaussian  out = (s + 2^21) >> 22                                    round half up
//   sharpen   b = (s + 2^14) >> 15 (blur, 7 fractional bits); a = round(amount * 256);
//             out = clamp(x + ((a * (128 x - b) + 2^14) >> 15), 0, 255)   (>> is floor)
// Keeping 7 fractional bits between the passes lets a symmetric pair h[-i] + h[+i] still fit a UInt16,
// so both passes are "add the pair, then one 16 x 16 -> 32-bit multiply" (pmullw + pmulhuw on SSE2).
import ImageCore

/// Integer Gaussian weights: the half kernel `weights[0...radius]` of a symmetric kernel summing to 2^15.
struct GaussianTaps: Sendable, Equatable {
    /// Bits of the weight sum: the full kernel sums to `1 << sumBits`.
    static let sumBits = 15
    /// Taps each side of the centre: `ceil(3 sigma)`.
    let radius: Int
    /// `weights[i]` multiplies the samples `i` away from the centre, each side.
    let weights: [UInt16]

    init(sigma: Double) {
        precondition(sigma > 0 && sigma.isFinite, "sigma must be positive")
        let radius = Int((3 * sigma).rounded(.up))
        // exp(-i^2 / (2 sigma^2)) through `deterministicExp`, so every host computes the same weights.
        let gauss = (0...radius).map { i in deterministicExp(-Double(i * i) / (2 * sigma * sigma)) }
        let total = gauss.dropFirst().reduce(gauss[0]) { $0 + 2 * $1 }
        let unit = Double(1 << Self.sumBits)
        var weights = gauss.map { Int(($0 / total * unit).rounded()) }
        // Rounding leaves the sum a little off 2^15; the centre tap (counted once) absorbs the difference.
        weights[0] += (1 << Self.sumBits) - weights.dropFirst().reduce(weights[0]) { $0 + 2 * $1 }
        self.radius = radius
        self.weights = weights.map { UInt16($0) }
    }
}

/// `exp(x)` for `x <= 0` from IEEE additions, multiplications and divisions only, in a fixed order.
///
/// The platform `exp` may differ in the last bit between libm versions; ranks on different hosts must
/// derive identical integer weights, so the weights never touch libm. Scaling by 2^-k, a Taylor
/// polynomial, then squaring k times gives about 1e-13 relative error, far below what rounding to
/// 15-bit weights can see.
func deterministicExp(_ x: Double) -> Double {
    precondition(x <= 0)
    if x < -700 { return 0 }
    var k = 0, t = x
    while t < -1.0 / 1024 { t /= 2; k += 1 }
    var term = 1.0, sum = 1.0
    for n in 1...8 { term = term * t / Double(n); sum += term }
    for _ in 0..<k { sum *= sum }
    return sum
}

// MARK: - Passes

/// Loads 8 bytes and widens them to 16-bit lanes.
@inline(__always)
private func load8(_ p: UnsafePointer<UInt8>) -> SIMD8<UInt16> {
    convertLanes(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt8>.self)) { UInt16(truncatingIfNeeded: $0) }
}

/// Loads 8 16-bit samples.
@inline(__always)
private func load8(_ p: UnsafePointer<UInt16>) -> SIMD8<UInt16> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self)
}

/// `a * w` in 32-bit lanes; both factors are 16-bit, which LLVM lowers to pmullw + pmulhuw.
@inline(__always)
private func mulWide(_ a: SIMD8<UInt16>, _ w: SIMD8<UInt16>) -> SIMD8<UInt32> {
    let a32: SIMD8<UInt32> = convertLanes(a) { UInt32(truncatingIfNeeded: $0) }
    let w32: SIMD8<UInt32> = convertLanes(w) { UInt32(truncatingIfNeeded: $0) }
    return a32 &* w32
}

/// Runs the horizontal pass over the rows a band of output rows needs, keeping the last
/// `2 radius + 1` of them in a ring, and calls `body` once per output row, in order, with the
/// vertical tap rows of that row (`taps[radius]` is the row itself; rows past the image edge
/// repeat the edge row), the weights broadcast to vectors, and the weights themselves (for the
/// AVX2 functions). `path` picks the horizontal pass.
///
/// Horizontal output for row `y` is a pure function of input row `y`, and each output row reads
/// exactly its clamped neighbours, so any band split yields the same bits.
func withGaussianRows(
    _ input: Band, rows: Range<Int>, taps: GaussianTaps, path: SIMDPath,
    _ body: (_ row: Int, _ taps: UnsafeBufferPointer<UnsafePointer<UInt16>>, _ weights: UnsafeBufferPointer<SIMD8<UInt16>>,
             _ scalarWeights: UnsafePointer<UInt16>) -> Void
) {
    let r = taps.radius, c = input.channels, n = input.rowBytes, height = input.imageHeight
    let ringSize = 2 * r + 1
    // Ring slots are padded to an odd multiple of 64 bytes: with power-of-two widths (4096 RGB
    // rows are 24 KiB of UInt16) every slot would start at the same 4 KiB offset, and the
    // vertical pass's 2r + 1 loads per vector would all compete for one L1 set (measured:
    // sigma 8 on 4096x4096 took 1025 ms against 425 ms on 4000x4000).
    let slot = (n + 31) / 32 * 32 + 32
    var ring = [UInt16](repeating: 0, count: ringSize * slot)
    var padded = [UInt8](repeating: 0, count: (input.width + 2 * r) * c)
    let splat = taps.weights.map { SIMD8<UInt16>(repeating: $0) }
    input.pixels.withUnsafeBufferPointer { src in
        ring.withUnsafeMutableBufferPointer { ringBuf in
            padded.withUnsafeMutableBufferPointer { pad in
                splat.withUnsafeBufferPointer { wv in
                  taps.weights.withUnsafeBufferPointer { weights in
                    let base = src.baseAddress!, ringBase = ringBuf.baseAddress!
                    var tapRows = [UnsafePointer<UInt16>](repeating: UnsafePointer(ringBase), count: ringSize)
                    var nextRow = Swift.max(0, rows.lowerBound - r)  // first row without a horizontal pass yet
                    for y in rows {
                        while nextRow <= Swift.min(height - 1, y + r) {
                            replicatePadded(row: base + (nextRow - input.firstRow) * n, width: input.width,
                                            channels: c, radius: r, into: pad.baseAddress!)
                            let slotBase = ringBase + (nextRow % ringSize) * slot
                            switch path {
                            case .avx2:
                                VectorKernels.gaussianHorizontal(pad.baseAddress! + r * c, into: slotBase, count: n,
                                                                 stride: c, radius: r, weights: weights.baseAddress!)
                            case .baseline:
                                horizontalPass(pad.baseAddress!, into: slotBase, count: n, stride: c, radius: r,
                                               weights: wv.baseAddress!)
                            }
                            nextRow += 1
                        }
                        for i in 0..<ringSize {
                            let source = clampRow(y - r + i, height: height)
                            tapRows[i] = UnsafePointer(ringBase + (source % ringSize) * slot)
                        }
                        tapRows.withUnsafeBufferPointer { body(y, $0, wv, weights.baseAddress!) }
                    }
                  }
                }
            }
        }
    }
}

/// Pass 1 over one padded row: `out[j] = (sum_i w[|i|] * row[j + i*stride] + 2^7) >> 8`.
/// `padded` starts `radius` pixels left of column 0 (edge pixels replicated).
private func horizontalPass(
    _ padded: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt16>,
    count n: Int, stride c: Int, radius r: Int, weights wv: UnsafePointer<SIMD8<UInt16>>
) {
    let centre = padded + r * c
    var j = 0
    while j &+ 8 <= n {
        let p = centre + j
        var acc = mulWide(load8(p), wv[0])
        var offset = c
        for i in stride(from: 1, through: r, by: 1) {
            acc &+= mulWide(load8(p - offset) &+ load8(p + offset), wv[i])
            offset &+= c
        }
        let h = (acc &+ (1 << 7)) &>> 8
        UnsafeMutableRawPointer(out + j).storeBytes(of: convertLanes(h) { UInt16(truncatingIfNeeded: $0) } as SIMD8<UInt16>, as: SIMD8<UInt16>.self)
        j &+= 8
    }
    while j < n {
        let p = centre + j
        var acc = UInt32(p[0]) &* UInt32(wv[0][0])
        for i in stride(from: 1, through: r, by: 1) {
            acc &+= (UInt32(p[-i * c]) &+ UInt32(p[i * c])) &* UInt32(wv[i][0])
        }
        out[j] = UInt16(truncatingIfNeeded: (acc &+ (1 << 7)) &>> 8)
        j &+= 1
    }
}

/// Pass 2 for 8 samples from `j`: `sum_i w[|i|] * taps[r + i][j]`, 22 fractional bits.
@inline(__always)
func verticalSum8(_ taps: UnsafeBufferPointer<UnsafePointer<UInt16>>, _ wv: UnsafeBufferPointer<SIMD8<UInt16>>,
                  at j: Int) -> SIMD8<UInt32> {
    let r = wv.count &- 1
    var acc = mulWide(load8(taps[r] + j), wv[0])
    for i in stride(from: 1, through: r, by: 1) {
        acc &+= mulWide(load8(taps[r &- i] + j) &+ load8(taps[r &+ i] + j), wv[i])
    }
    return acc
}

/// Pass 2 for the one sample `j`: the scalar twin of `verticalSum8`, for row tails.
@inline(__always)
func verticalSum(_ taps: UnsafeBufferPointer<UnsafePointer<UInt16>>, _ wv: UnsafeBufferPointer<SIMD8<UInt16>>,
                 at j: Int) -> UInt32 {
    let r = wv.count &- 1
    var acc = UInt32(taps[r][j]) &* UInt32(wv[0][0])
    for i in stride(from: 1, through: r, by: 1) {
        acc &+= (UInt32(taps[r &- i][j]) &+ UInt32(taps[r &+ i][j])) &* UInt32(wv[i][0])
    }
    return acc
}

// MARK: - Kernels

/// Gaussian blur, each channel (alpha included) on its own; see the arithmetic at the top of the file.
struct GaussianKernel: Kernel {
    let taps: GaussianTaps
    var path = SIMDPath.active
    init(sigma: Double) { taps = GaussianTaps(sigma: sigma) }

    var halo: Int { taps.radius }
    func outputChannels(forInput inputChannels: Int) -> Int { inputChannels }
    func using(_ path: SIMDPath) -> any Kernel { var k = self; k.path = path; return k }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: halo)
        let n = input.rowBytes
        return input.makeOutput(rows: rows, channels: input.channels) { dst in
            withGaussianRows(input, rows: rows, taps: taps, path: path) { y, tapRows, wv, weights in
                let o = dst + (y - rows.lowerBound) * n
                if path == .avx2 { return VectorKernels.gaussianVertical(tapRows, weights: weights, count: n, into: o) }
                var j = 0
                while j &+ 8 <= n {
                    let v = (verticalSum8(tapRows, wv, at: j) &+ (1 << 21)) &>> 22
                    UnsafeMutableRawPointer(o + j).storeBytes(of: convertLanes(v) { UInt8(truncatingIfNeeded: $0) } as SIMD8<UInt8>,
                                                              as: SIMD8<UInt8>.self)
                    j &+= 8
                }
                while j < n {
                    o[j] = UInt8(truncatingIfNeeded: (verticalSum(tapRows, wv, at: j) &+ (1 << 21)) &>> 22)
                    j &+= 1
                }
            }
        }
    }
}

/// Unsharp mask: `x + amount * (x - gaussian(x))`, clamped, each channel (alpha included) on its own.
/// `amount` is quantised to 1/256; see the arithmetic at the top of the file.
struct SharpenKernel: Kernel {
    let taps: GaussianTaps
    /// `amount * 256`, rounded.
    let amount256: Int32
    var path = SIMDPath.active
    init(amount: Double, sigma: Double) {
        taps = GaussianTaps(sigma: sigma)
        amount256 = Int32((amount * 256).rounded())
    }

    var halo: Int { taps.radius }
    func outputChannels(forInput inputChannels: Int) -> Int { inputChannels }
    func using(_ path: SIMDPath) -> any Kernel { var k = self; k.path = path; return k }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        input.assertHolds(rows, halo: halo)
        let n = input.rowBytes, a = amount256
        /// One sample from its value and its pass-2 sum.
        @inline(__always) func sharpen(_ x: UInt8, _ s: UInt32) -> UInt8 {
            let blur = Int32(truncatingIfNeeded: (s &+ (1 << 14)) &>> 15)
            let detail = Int32(x) &* 128 &- blur
            let v = Int32(x) &+ ((a &* detail &+ (1 << 14)) &>> 15)
            return UInt8(truncatingIfNeeded: Swift.min(255, Swift.max(0, v)))
        }
        return input.pixels.withUnsafeBufferPointer { src in
            input.makeOutput(rows: rows, channels: input.channels) { dst in
                withGaussianRows(input, rows: rows, taps: taps, path: path) { y, tapRows, wv, weights in
                    let x = src.baseAddress! + (y - input.firstRow) * n
                    let o = dst + (y - rows.lowerBound) * n
                    if path == .avx2 {
                        return VectorKernels.sharpenVertical(tapRows, weights: weights, count: n, input: x, amount256: a, into: o)
                    }
                    var j = 0
                    while j &+ 8 <= n {
                        let s = verticalSum8(tapRows, wv, at: j)
                        for k in 0..<8 { o[j &+ k] = sharpen(x[j &+ k], s[k]) }
                        j &+= 8
                    }
                    while j < n {
                        o[j] = sharpen(x[j], verticalSum(tapRows, wv, at: j))
                        j &+= 1
                    }
                }
            }
        }
    }
}
