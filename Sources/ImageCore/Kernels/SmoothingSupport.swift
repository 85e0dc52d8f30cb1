// Helpers shared by the smoothing kernels.

/// Copies one row into `out` with `radius` copies of the first pixel before it and of the last
/// pixel after it: the replicate border rule for columns, done once per row so that the inner
/// loops need no clamping. `out` holds `(width + 2 radius) * channels` samples.
func replicatePadded(row: UnsafePointer<UInt8>, width: Int, channels c: Int, radius r: Int,
                     into out: UnsafeMutablePointer<UInt8>) {
    (out + r * c).update(from: row, count: width * c)
    let last = row + (width - 1) * c, right = out + (r + width) * c
    for k in 0..<r {
        (out + k * c).update(from: row, count: c)
        (right + k * c).update(from: last, count: c)
    }
}

/// The image row index `y` clamped to `0..<height`: the replicate border rule for rows.
@inline(__always)
func clampRow(_ y: Int, height: Int) -> Int { Swift.min(height - 1, Swift.max(0, y)) }

/// Pointers to the image rows `range` of `input` (whose pixels start at `base`), each clamped to
/// the image: what a C kernel gets instead of knowing where the image ends.
func clampedRowPointers(_ range: Range<Int>, of input: Band, base: UnsafePointer<UInt8>) -> [UnsafePointer<UInt8>] {
    range.map { base + (clampRow($0, height: input.imageHeight) - input.firstRow) * input.rowBytes }
}
