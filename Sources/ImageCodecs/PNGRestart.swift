import ImageCore
import CPNG

/// How a PNG's rows are cut into restart segments: the mARK chunk's default segmentation
/// (libspng's PNG Restart Marker proposal, method 0). `segments` parts of `height / segments`
/// rows, the first taller by the remainder. docs/png-restart-points.md has the whole format.
public struct RestartLayout: Equatable, Sendable {
    public let height: Int
    public let segments: Int

    /// Rows a segment aims at when bandsaw writes a PNG. About 1.5 MB of RGB pixels at 4096
    /// wide: the flush and the Sub filter on each segment's first row cost a few bytes per
    /// segment, and 32 segments at 16 MP split evenly enough over up to 8 ranks.
    public static let targetRows = 128

    public init(height: Int, segments: Int) {
        precondition(segments >= 1 && segments <= max(height, 1), "bad restart layout")
        self.height = height
        self.segments = segments
    }

    /// The layout bandsaw writes for an image `height` rows tall, or nil when it is too short
    /// for two segments (the proposal requires 2 <= N < height).
    public static func forWriting(height: Int) -> RestartLayout? {
        let n = min(height / targetRows, height - 1)
        return n >= 2 ? RestartLayout(height: height, segments: n) : nil
    }

    /// First row of segment `k` (k = segments gives the height).
    public func start(of k: Int) -> Int {
        k == 0 ? 0 : height % segments + k * (height / segments)
    }

    /// The rows of segment `k`.
    public func rows(of k: Int) -> Range<Int> { start(of: k)..<start(of: k + 1) }

    /// The segments split over `ranks`: owned row counts per rank, each rank whole
    /// segments. Ranks get equal numbers of segments; the spare ones go to the last ranks,
    /// since rank 0 also reads the file and sends the others their data. With fewer segments
    /// than ranks, the first ranks take one each and the rest own nothing (empty bands come
    /// last, as everywhere else).
    public func rankRowCounts(ranks: Int) -> [Int] {
        precondition(ranks >= 1, "no ranks")
        let base = segments / ranks, extra = segments % ranks
        var counts: [Int] = []
        var next = 0
        for r in 0..<ranks {
            let n = base == 0 ? (r < segments ? 1 : 0) : base + (r >= ranks - extra ? 1 : 0)
            counts.append(start(of: next + n) - start(of: next))
            next += n
        }
        return counts
    }

    /// Segment starts inside `rows`, other than row 0: where a band's encoder must restart.
    public func restartRows(in rows: Range<Int>) -> [Int] {
        (1..<segments).map(start(of:)).filter(rows.contains)
    }
}

/// A PNG that can be decoded by segments, as found by ``PNGRestart/probe(_:maxPixels:)``.
public struct RestartablePNG: Sendable {
    public let width: Int, height: Int, channels: Int
    public let layout: RestartLayout
    /// Every IDAT's data end to end: the zlib stream.
    public let stream: [UInt8]
    /// Where each segment's deflate data begins in `stream`; the last entry is where the
    /// Adler-32 trailer begins.
    public let starts: [Int]

    /// The Adler-32 the stream's trailer records for the filtered bytes.
    public var adler: UInt32 {
        stream[(stream.count - 4)...].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The byte range of `stream` that holds the segments of `rows` (which must be
    /// segment-aligned): empty for no rows.
    public func bytes(for rows: Range<Int>) -> Range<Int> {
        guard !rows.isEmpty else { return 0..<0 }
        let first = (0..<layout.segments).first { layout.start(of: $0) == rows.lowerBound }!
        let last = (0..<layout.segments).first { layout.start(of: $0 + 1) == rows.upperBound }!
        return starts[first]..<starts[last + 1]
    }
}

/// Decoding PNGs with restart points, a band at a time.
public enum PNGRestart {
    /// The file's restart layout and zlib stream, or nil when it cannot be decoded by
    /// segments (no mARK, or anything about it or the file that the ordinary decoder should
    /// judge). Never throws: an unusable file goes to ``decodeImage(bytes:path:maxPixels:)``.
    public static func probe(_ bytes: [UInt8], maxPixels: Int) -> RestartablePNG? {
        var info = cpng_restart_info()
        let found = bytes.withUnsafeBufferPointer { data in
            cpng_restart_probe(data.baseAddress, data.count, UInt64(max(maxPixels, 0)), &info)
        }
        guard found == CSTATUS_OK else { return nil }
        let segments = Int(info.segments), length = Int(info.stream_len)
        var starts = [UInt64](repeating: 0, count: segments + 1)
        var status = CSTATUS_NO_RESTART
        let stream = [UInt8](unsafeUninitializedCapacity: length) { out, n in
            status = bytes.withUnsafeBufferPointer { data in
                cpng_restart_stream(data.baseAddress, data.count, &info, out.baseAddress, &starts)
            }
            n = length
        }
        guard status == CSTATUS_OK else { return nil }
        return RestartablePNG(width: Int(info.width), height: Int(info.height), channels: Int(info.channels),
                              layout: RestartLayout(height: Int(info.height), segments: segments),
                              stream: stream, starts: starts.map { Int($0) })
    }

    /// Why a band could not be decoded by segments.
    public struct Refusal: Error, Sendable { public var reason: String }

    /// Inflates and unfilters whole segments into `out`.
    ///
    /// - Parameters:
    ///   - data: The segments' deflate data followed by two writable bytes (the decoder
    ///     ends a piece that stops at a full flush with an empty final block there); the
    ///     data alone is `data[0..<count]`.
    ///   - atTop: The first row is the image's first row.
    ///   - toEnd: The data runs to the stream's final block.
    ///   - out: Room for `rows * (rowBytes + 1)` bytes; the rows land in the first
    ///     `rows * rowBytes`.
    /// - Returns: The Adler-32 of the filtered bytes, to check against the stream's.
    public static func decode(_ data: UnsafeMutableRawBufferPointer, count: Int, atTop: Bool, toEnd: Bool,
                              into out: UnsafeMutableRawBufferPointer, rows: Int, rowBytes: Int,
                              channels: Int) throws(Refusal) -> UInt32 {
        precondition(toEnd || data.count >= count + 2, "no room for the final block")
        precondition(out.count >= rows * (rowBytes + 1), "output too small")
        var adler: UInt32 = 1
        var message = CodecMessage()
        let status = message.withBuffer { text, length in
            cpng_restart_decode(data.baseAddress?.assumingMemoryBound(to: UInt8.self), count, atTop ? 1 : 0, toEnd ? 1 : 0,
                                out.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(rows), rowBytes,
                                Int32(channels), &adler, text, length)
        }
        guard status == CSTATUS_OK else { throw Refusal(reason: message.text) }
        return adler
    }

    /// The Adler-32 of bytes A then B, from each one's and B's length (zlib's combine).
    public static func combine(_ a: UInt32, _ b: UInt32, lengthOfB: Int) -> UInt32 {
        lengthOfB == 0 ? a : cpng_adler32_combine(a, b, UInt64(lengthOfB))
    }
}
