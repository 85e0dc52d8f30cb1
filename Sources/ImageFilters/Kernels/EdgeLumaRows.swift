import ImageCore

/// The scaffolding shared by the 3x3 luma operators (sobel, prewitt, scharr, laplacian).
///
/// Each input row is converted to luma exactly once, into one of three `Int16` scratch rows
/// (a ring indexed by `row % 3`). A scratch row is padded: index 0 holds column -1 and index
/// `width + 1` holds column `width`, both copies of the edge pixel, so the replicate border rule
/// for columns costs nothing in the inner loop. Rows beyond the image are clamped the same way
/// when choosing which scratch rows to pass. The row is followed by slack so a SIMD chunk that
/// starts inside the row may read past its end; the lanes beyond `width` are computed from
/// whatever is there and then dropped.
///
/// `body` is called once per output row with pointers to column 0 of the luma rows above, at and
/// below it, and the output row; it must compute `width` pixels in chunks of `edgeChunk` lanes.
/// The last, partial chunk is written into a scratch buffer first, so every pixel is computed by
/// the same vector code: there is no scalar twin that could disagree with it.
@inline(__always)
func edgeLumaOperator(
    _ input: Band, rows: Range<Int>,
    _ body: (_ above: UnsafePointer<Int16>, _ at: UnsafePointer<Int16>, _ below: UnsafePointer<Int16>,
             _ out: UnsafeMutablePointer<UInt8>, _ chunks: Int) -> Void
) -> Band {
    input.assertHolds(rows, halo: 1)
    let width = input.width, count = rows.count * width
    guard count > 0 else { return input.makeOutput(rows: rows, channels: 1) }
    let chunks = (width + edgeChunk - 1) / edgeChunk
    let stride = chunks * edgeChunk + 2 * edgeChunk
    var scratch = [Int16](repeating: 0, count: 3 * stride + edgeChunk)
    let last = input.imageHeight - 1, c = input.channels, rowBytes = input.rowBytes
    let pixels = PixelStorage.uninitialized(count: count) { outBuffer in
        input.pixels.withUnsafeBufferPointer { src in
            scratch.withUnsafeMutableBufferPointer { ring in
                let ringBase = ring.baseAddress!
                var held = (-1, -1, -1)
                /// Column 0 of row `r`'s scratch row, converting the row on first use.
                func lumaRow(_ r: Int) -> UnsafePointer<Int16> {
                    let slot = r % 3
                    let dst = ringBase + slot * stride + 1
                    let cached = slot == 0 ? held.0 : slot == 1 ? held.1 : held.2
                    if cached != r {
                        edgeLuma(src.baseAddress! + (r - input.firstRow) * rowBytes, channels: c,
                                 width: width, into: dst)
                        dst[-1] = dst[0]
                        dst[width] = dst[width - 1]
                        switch slot { case 0: held.0 = r; case 1: held.1 = r; default: held.2 = r }
                    }
                    return UnsafePointer(dst)
                }
                var tail = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
                let full = width / edgeChunk
                for y in rows {
                    let above = lumaRow(max(y - 1, 0)), below = lumaRow(min(y + 1, last)), at = lumaRow(y)
                    let out = outBuffer.baseAddress! + (y - rows.lowerBound) * width
                    if full > 0 { body(above, at, below, out, full) }
                    let done = full * edgeChunk
                    if done < width {
                        withUnsafeMutableBytes(of: &tail) { t in
                            let tp = t.baseAddress!.assumingMemoryBound(to: UInt8.self)
                            body(above + done, at + done, below + done, tp, 1)
                            (out + done).update(from: tp, count: width - done)
                        }
                    }
                }
            }
        }
    }
    return Band(width: width, channels: 1, imageHeight: input.imageHeight, firstRow: rows.lowerBound,
                pixels: pixels)
}

/// Pixels per vector chunk of the luma operators.
let edgeChunk = 16

/// One input row to luma, the shared `luma()` rule: `(77 R + 150 G + 29 B + 128) >> 8` for
/// RGB and RGBA, channel 0 for gray and gray+alpha.
@inline(__always)
func edgeLuma(_ src: UnsafePointer<UInt8>, channels: Int, width: Int, into dst: UnsafeMutablePointer<Int16>) {
    switch channels {
    case 1: for x in 0..<width { dst[x] = Int16(src[x]) }
    case 2: for x in 0..<width { dst[x] = Int16(src[2 &* x]) }
    case 3: for x in 0..<width { let p = src + 3 &* x; dst[x] = Int16(luma(p[0], p[1], p[2])) }
    default: for x in 0..<width { let p = src + 4 &* x; dst[x] = Int16(luma(p[0], p[1], p[2])) }
    }
}

/// Loads `edgeChunk` consecutive luma values starting at `p`.
@inline(__always)
func edgeLoad(_ p: UnsafePointer<Int16>) -> SIMD16<Int16> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int16>.self)
}
