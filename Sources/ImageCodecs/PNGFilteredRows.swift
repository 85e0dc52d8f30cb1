import ImageCore
import CPNG

/// A PNG inflated but not yet unfiltered: rank 0 inflates (the part of a PNG decode no rank
/// can share without restart points), and every rank unfilters its own rows.
public struct FilteredRows: Sendable {
    public let width: Int, height: Int, channels: Int
    /// `height` rows of a filter-type byte and `rowBytes` filtered bytes each.
    public private(set) var rows: [UInt8]

    public var rowBytes: Int { width * channels }

    /// Whether row `y` can be unfiltered without the row above: its filter is None or Sub.
    public func isIndependent(_ y: Int) -> Bool { rows[y * (rowBytes + 1)] <= 1 }

    /// The rows, leaving this value empty: the caller then owns the only reference and can
    /// change them in place without a copy.
    public mutating func takeRows() -> [UInt8] {
        defer { rows = [] }
        return rows
    }
}

/// Row-parallel unfiltering of PNGs that carry no restart points.
public enum PNGRows {
    /// Inflates a PNG that the fast decoder takes (8-bit gray, gray+alpha, RGB, RGBA, not
    /// interlaced, no tRNS): nil for any other file and for any fault, which the whole
    /// decoder (``decodeImage(bytes:path:maxPixels:)``) then reports in its own words.
    public static func inflate(_ bytes: [UInt8], maxPixels: Int) -> FilteredRows? {
        var width: UInt32 = 0, height: UInt32 = 0, channels: Int32 = 0
        var message = CodecMessage()
        let header = bytes.withUnsafeBufferPointer { data in
            message.withBuffer { cpng_read_header(data.baseAddress, data.count, &width, &height, &channels, $0, $1) }
        }
        let w = Int(width), h = Int(height), c = Int(channels)
        let (area, overflow) = w.multipliedReportingOverflow(by: h)
        guard header == CSTATUS_OK, !overflow, area <= maxPixels, (1...4).contains(c), w > 0, h > 0 else { return nil }
        let count = h * (w * c + 1)
        var status = CSTATUS_FAST_DECLINED
        let rows = [UInt8](unsafeUninitializedCapacity: count) { out, n in
            status = bytes.withUnsafeBufferPointer { data in
                message.withBuffer { cpng_inflate_fast(data.baseAddress, data.count, UInt64(maxPixels), out.baseAddress, count, $0, $1) }
            }
            n = status == CSTATUS_OK ? count : 0
        }
        guard status == CSTATUS_OK else { return nil }
        return FilteredRows(width: w, height: h, channels: c, rows: rows)
    }

    /// Unfilters `rows` filtered rows at the start of `buffer` in place: row `y` ends up at
    /// `y * rowBytes`. `above` is the unfiltered row above the first (nil for the image's
    /// first row). False when a row's filter type is unknown (corrupt data).
    public static func unfilter(_ buffer: UnsafeMutableRawBufferPointer, rows: Int, rowBytes: Int, channels: Int,
                                above: UnsafeRawBufferPointer?) -> Bool {
        guard rows > 0 else { return true }
        precondition(buffer.count >= rows * (rowBytes + 1) && (above == nil || above!.count >= rowBytes), "short buffer")
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        return cpng_unfilter_band(base, base, above?.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                  UInt32(rows), rowBytes, Int32(channels)) < 0
    }

    /// Owned row counts for `ranks` bands whose boundaries are moved, where possible, onto rows
    /// that do not read the row above, so each rank unfilters without waiting for the band
    /// above it. Each boundary stays within `window` rows of the equal split's (default:
    /// 1/8 of a band, at most 64 rows) and strictly between its neighbours; where no such row
    /// is near, the equal split's boundary stays and that rank waits for the row above.
    public static func split(height: Int, ranks: Int, window: Int? = nil, independent: (Int) -> Bool) -> [Int] {
        let equal = BandPlan(height: height, ranks: ranks, halo: 0).shares.map(\.owned)
        let reach = window ?? max(1, min(64, height / max(1, 8 * ranks)))
        var bounds = [0]
        for r in 1..<max(ranks, 1) {
            let ideal = equal[r].lowerBound, below = bounds.last!
            let above = r + 1 < ranks ? equal[r + 1].lowerBound : height
            guard ideal < height, ideal > below else { bounds.append(max(ideal, below)); continue }
            var chosen = ideal
            for d in 0...reach {
                if ideal - d > below, independent(ideal - d) { chosen = ideal - d; break }
                if ideal + d < above, independent(ideal + d) { chosen = ideal + d; break }
            }
            bounds.append(chosen)
        }
        bounds.append(height)
        return zip(bounds, bounds.dropFirst()).map { $1 - $0 }
    }
}
