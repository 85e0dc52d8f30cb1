import ImageCore

/// A 3x3 first-derivative operator on luma (sobel, prewitt, scharr): gradient magnitude, gray out.
///
/// With `a` the corner weight and `b` the centre weight of the smoothing direction
/// (sobel 1, 2; prewitt 1, 1; scharr 3, 10), and `L(x, y)` the luma with coordinates clamped
/// to the image (replicate border):
///
///     Gx = a (L(x+1,y-1) - L(x-1,y-1)) + b (L(x+1,y) - L(x-1,y)) + a (L(x+1,y+1) - L(x-1,y+1))
///     Gy = a (L(x-1,y+1) - L(x-1,y-1)) + b (L(x,y+1) - L(x,y-1)) + a (L(x+1,y+1) - L(x+1,y-1))
///
/// in exact integers (Int16 lanes; |G| <= 16 * 255), then, in IEEE single precision,
/// `out = min(255, roundedToNearestEven(Float(Gx*Gx + Gy*Gy).squareRoot() * scale))`.
/// For every value below the clamp this is the exact nearest integer to
/// `scale * sqrt(Gx² + Gy²)`: the sum is exact in `Float` there, the square root is correctly
/// rounded, and no integer's root lies within rounding distance of a half-integer unless it is
/// one. Exact halves occur only for scharr (e.g. sqrt(4) / 4 = 0.5) and go to the even
/// neighbour; for sobel and prewitt the result equals `Int(sqrt(Float(n)) + 0.5)`. Only
/// correctly rounded IEEE operations are used, so it is the same on every machine and band.
struct GradientKernel: Kernel {
    /// The operator's weights.
    enum Operator: Sendable {
        /// a = 1, b = 2, scale 1.
        case sobel
        /// a = 1, b = 1, scale 1.
        case prewitt
        /// a = 3, b = 10, scale 1/4: Scharr's weights sum to 16 against Sobel's 4, so the quarter
        /// brings its magnitudes to Sobel's range instead of saturating at 255 on most edges.
        case scharr
    }

    var op: Operator
    var halo: Int { 1 }
    func outputChannels(forInput inputChannels: Int) -> Int { 1 }

    func apply(_ input: Band, rows: Range<Int>) -> Band {
        // Each case passes literal weights, so each gets its own fully specialised loop.
        switch op {
        case .sobel: return gradient(input, rows: rows, a: 1, b: 2, scale: 1)
        case .prewitt: return gradient(input, rows: rows, a: 1, b: 1, scale: 1)
        case .scharr: return gradient(input, rows: rows, a: 3, b: 10, scale: 0.25)
        }
    }
}

@inline(__always)
private func gradient(_ input: Band, rows: Range<Int>, a: Int16, b: Int16, scale: Float) -> Band {
    edgeLumaOperator(input, rows: rows) { above, at, below, out, chunks in
        for i in 0..<chunks {
            let x = i &* edgeChunk
            let tl = edgeLoad(above + (x &- 1)), tc = edgeLoad(above + x), tr = edgeLoad(above + (x &+ 1))
            let ml = edgeLoad(at + (x &- 1)), mr = edgeLoad(at + (x &+ 1))
            let bl = edgeLoad(below + (x &- 1)), bc = edgeLoad(below + x), br = edgeLoad(below + (x &+ 1))
            let gx = (tr &- tl &+ br &- bl) &* a &+ (mr &- ml) &* b
            let gy = (bl &- tl &+ br &- tr) &* a &+ (bc &- tc) &* b
            let m = edgeMagnitude(gx, gy, scale: scale)
            UnsafeMutableRawPointer(out + x).storeBytes(of: m, as: SIMD16<UInt8>.self)
        }
    }
}

/// `min(255, roundedToNearestEven(Float(gx*gx + gy*gy).squareRoot() * scale))` lane by lane.
@inline(__always)
func edgeMagnitude(_ gx: SIMD16<Int16>, _ gy: SIMD16<Int16>, scale: Float) -> SIMD16<UInt8> {
    let lo = edgeMagnitude8(gx.lowHalf, gy.lowHalf, scale: scale)
    let hi = edgeMagnitude8(gx.highHalf, gy.highHalf, scale: scale)
    return SIMD16(lowHalf: lo, highHalf: hi)
}

@inline(__always)
private func edgeMagnitude8(_ gx: SIMD8<Int16>, _ gy: SIMD8<Int16>, scale: Float) -> SIMD8<UInt8> {
    let x: SIMD8<Int32> = convertLanes(gx) { Int32(truncatingIfNeeded: $0) }
    let y: SIMD8<Int32> = convertLanes(gy) { Int32(truncatingIfNeeded: $0) }
    // The sum is never negative; masking the sign bit lets the optimiser prove it, which turns
    // `squareRoot()` into `sqrtps` instead of a per-lane call that checks for negative input.
    let n: SIMD8<Float> = convertLanes((x &* x &+ y &* y) & 0x7FFF_FFFF) { Float($0) }
    // Round to nearest, ties to even, by adding 1.5 * 2^23: the sum's unit in the last place
    // is 1, so the hardware rounds the fraction away and the low mantissa bits hold the integer.
    // (SIMD8<Int32>(_:rounding:) would do the same lane by lane through a generic slow path.)
    let shifted = n.squareRoot() * scale + 12_582_912
    let r = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    // min(255, r) without a SIMDMask (masks compile to lane-by-lane loops): where r > 255 the
    // shifted sign of 255 - r is all ones, and its low byte is 255.
    return convertLanes(r | ((255 &- r) &>> 31)) { UInt8(truncatingIfNeeded: $0) }
}

