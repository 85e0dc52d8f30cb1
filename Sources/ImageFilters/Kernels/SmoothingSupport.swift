// Helpers shared by the smoothing kernels.
import ImageCore

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

extension Band {
    /// The output band for `rows` (same channels), filled by `body` from pointers to the input rows
    /// `radius` above the first output row to `radius` below the last, each clamped to the image:
    /// how the C kernels see a window, with the replicate border for rows already applied.
    func filledFromClampedRows(_ rows: Range<Int>, radius: Int,
                               _ body: (UnsafeBufferPointer<UnsafePointer<UInt8>>, UnsafeMutablePointer<UInt8>) -> Void) -> Band {
        pixels.withUnsafeBufferPointer { src in
            let pointers = ((rows.lowerBound - radius)..<(rows.upperBound + radius)).map {
                src.baseAddress! + (clampRow($0, height: imageHeight) - firstRow) * rowBytes
            }
            return makeOutput(rows: rows, channels: channels) { dst in pointers.withUnsafeBufferPointer { body($0, dst) } }
        }
    }
}
