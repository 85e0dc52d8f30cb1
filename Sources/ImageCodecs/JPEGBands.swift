import ImageCore
import CCodecs
import CStatus

/// What a JPEG's markers say about decoding it by bands, read on rank 0 (``probe(_:path:maxPixels:autorotate:)``)
/// and sent to the other ranks as ``wire``.
///
/// Either way a band is decoded, its rows equal the same rows of ``JPEGCodec/decode(_:path:maxPixels:autorotate:)``
/// (libjpeg-turbo's whole-image decode, accurate IDCT, fancy upsampling), exactly.
public struct JPEGLayout: Sendable, Equatable {
    /// How the ranks can share the decode.
    public enum Strategy: Sendable, Equatable {
        /// A restart marker ends every ``JPEGLayout/segmentRows`` MCU rows: each band decodes
        /// from the compressed bytes of its own segments and one MCU row on each side.
        case restart
        /// A sequential file without usable restart markers: each band decodes from the whole
        /// file, libjpeg skipping (entropy-decoding only) the rows above it.
        case skip
        /// Only a whole decode is sure (progressive, CMYK, rotated by EXIF, markers that do
        /// not add up, ...): the reason, for the record.
        case whole(String)
    }

    /// How the ranks can share the decode.
    public var strategy: Strategy
    /// Columns, rows and channels once decoded (1 gray, 3 RGB).
    public var width: Int, height: Int, channels: Int
    /// Pixel rows per MCU row (8 times the largest vertical sampling factor).
    public var mcuHeight: Int
    /// Restart: MCU rows per segment; 0 otherwise.
    public var segmentRows: Int
    /// Restart: how many segments the scan has; 0 otherwise.
    public var segments: Int
    /// Bytes of headers (SOI through SOS) every band stream starts with.
    public var headerLength: Int
    /// Restart, on rank 0 only: where each segment's bytes start and end in the file (its
    /// restart marker not included).
    public var segmentStarts: [Int] = [], segmentEnds: [Int] = []
    /// Where the SOF's height field is, and where the scan ends (its EOI).
    var sofHeightAt: Int, dataEnd: Int

    /// Whether only a whole decode will do.
    public var isWhole: Bool {
        if case .whole = strategy { return true }
        return false
    }

    /// The name the JSON report gives this way of decoding.
    public var decodeName: String {
        switch strategy {
        case .restart: return "jpeg-restart"
        case .skip: return "jpeg-skip"
        case .whole: return "whole"
        }
    }

    /// Reads `bytes`'s markers. EXIF orientation other than upright (with `autorotate`) makes
    /// the decode whole, since the rows of the picture are then not the rows of the file.
    ///
    /// - Throws: what ``JPEGCodec/decode(_:path:maxPixels:autorotate:)`` throws for a header
    ///   that does not read or an image over `maxPixels`; nothing for a file that can only
    ///   be decoded whole (``Strategy/whole(_:)``).
    public static func probe(_ bytes: [UInt8], path: String, maxPixels: Int, autorotate: Bool = true) throws(ImageError) -> JPEGLayout {
        var raw = ccodec_jpeg_layout()
        var message = CodecMessage()
        var starts: UnsafeMutablePointer<UInt64>? = nil, ends: UnsafeMutablePointer<UInt64>? = nil
        let limit = max(maxPixels, 0)
        let status = message.withBuffer { msg, len in
            bytes.withUnsafeBufferPointer {
                ccodec_jpeg_layout_read($0.baseAddress, $0.count, UInt64(limit), &raw, &starts, &ends, msg, len)
            }
        }
        defer { ccodec_free(starts); ccodec_free(ends) }
        try CCodec.check(status, message, path: path, format: "JPEG", size: (Int(raw.width), Int(raw.height), limit))
        var layout = JPEGLayout(raw: raw)
        switch Int32(raw.kind) {
        case CCODEC_JPEG_RESTART:
            layout.strategy = .restart
            let n = Int(raw.segments)
            layout.segmentStarts = (0..<n).map { Int(starts![$0]) }
            layout.segmentEnds = (0..<n).map { Int(ends![$0]) }
        case CCODEC_JPEG_SKIP: layout.strategy = .skip
        default: layout.strategy = .whole(message.text)
        }
        if autorotate, !layout.isWhole {
            let orientation = ExifOrientation(jpeg: bytes)
            if orientation != .up { layout.strategy = .whole("EXIF orientation \(orientation.rawValue)") }
        }
        return layout
    }

    init(raw: ccodec_jpeg_layout) {
        strategy = .whole("")
        width = Int(raw.width); height = Int(raw.height); channels = Int(raw.channels)
        mcuHeight = Int(raw.mcu_height); segmentRows = Int(raw.segment_rows); segments = Int(raw.segments)
        headerLength = Int(raw.header_len); sofHeightAt = Int(raw.sof_height_at); dataEnd = Int(raw.data_end)
    }

    /// The layout as the C door takes it.
    var raw: ccodec_jpeg_layout {
        var raw = ccodec_jpeg_layout()
        raw.width = UInt32(width); raw.height = UInt32(height); raw.channels = Int32(channels)
        switch strategy {
        case .restart: raw.kind = CCODEC_JPEG_RESTART
        case .skip: raw.kind = CCODEC_JPEG_SKIP
        case .whole: raw.kind = CCODEC_JPEG_WHOLE
        }
        raw.mcu_height = UInt32(mcuHeight)
        raw.mcu_rows = UInt32((height + mcuHeight - 1) / max(mcuHeight, 1))
        raw.segment_rows = UInt32(segmentRows); raw.segments = UInt32(segments)
        raw.header_len = headerLength; raw.sof_height_at = sofHeightAt; raw.data_end = dataEnd
        return raw
    }

    /// Everything but the segment index (which only rank 0 needs), for a broadcast.
    public var wire: [Int64] {
        let kind: Int64
        switch strategy {
        case .restart: kind = 1
        case .skip: kind = 2
        case .whole: kind = 0
        }
        return [kind, Int64(width), Int64(height), Int64(channels), Int64(mcuHeight), Int64(segmentRows), Int64(segments),
                Int64(headerLength), Int64(sofHeightAt), Int64(dataEnd)]
    }

    /// How many values ``wire`` has.
    public static let wireCount = 10

    /// Whether the headers before the first scan hold a DRI marker (a restart interval): a
    /// quick look that skips the index's scan of the data for files without one.
    public static func hasRestartInterval(_ bytes: [UInt8]) -> Bool {
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let code = bytes[at + 1]
            if code == 0xFF { at += 1; continue }  // a fill byte before the marker
            if code == 0xDD { return true }
            if code == 0xDA || code == 0xD9 { return false }
            at += 2 + (Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
        }
        return false
    }

    /// A layout from ``wire`` (nil for a wire of the wrong length or impossible values).
    public init?(wire: [Int64]) {
        guard wire.count == Self.wireCount, wire.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else { return nil }
        let v = wire.map { Int($0) }
        strategy = v[0] == 1 ? .restart : v[0] == 2 ? .skip : .whole("")
        width = v[1]; height = v[2]; channels = v[3]; mcuHeight = v[4]; segmentRows = v[5]; segments = v[6]
        headerLength = v[7]; sofHeightAt = v[8]; dataEnd = v[9]
        guard mcuHeight > 0, width > 0, height > 0 else { return nil }
    }

    /// Pixel rows per restart segment (restart only).
    public var segmentHeight: Int { segmentRows * mcuHeight }

    /// The segments a band decoding `rows` needs: those holding its rows and the MCU row
    /// above and below them (fancy upsampling reads them), clamped to the image.
    public func segments(for rows: Range<Int>) -> Range<Int> {
        precondition(strategy == .restart && !rows.isEmpty && rows.upperBound <= height)
        let top = max(rows.lowerBound - mcuHeight, 0), bottom = min(rows.upperBound + mcuHeight, height)
        return (top / segmentHeight)..<((bottom + segmentHeight - 1) / segmentHeight)
    }

    /// Where the bytes of `segments` lie in the file (rank 0, restart only): from the first's
    /// start to the last's end, the restart markers between them included.
    public func bytes(of segments: Range<Int>) -> Range<Int> {
        segmentStarts[segments.lowerBound]..<segmentEnds[segments.upperBound - 1]
    }
}

/// Decoding one band of a JPEG's rows, and splitting the rows into bands.
public enum JPEGBands {
    /// Decodes image rows `rows` from the bytes of `segments` (``JPEGLayout/bytes(of:)`` of
    /// the file) and the file's headers, as the rows of the whole decode.
    ///
    /// - Throws: `.corrupt` for segments that do not decode or markers out of place (the
    ///   caller then decodes the file whole: its verdict stands), `.io` for rows the segments
    ///   do not cover with their context.
    public static func decode(rows: Range<Int>, segments: Range<Int>, data: UnsafeRawBufferPointer,
                              header: UnsafeRawBufferPointer, layout: JPEGLayout, path: String) throws(ImageError) -> [UInt8] {
        var raw = layout.raw
        return try decodeRows(rows, layout: layout, path: path) { out, count, msg, len in
            ccodec_jpeg_decode_segments(&raw, header.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                        UInt32(segments.lowerBound), UInt32(segments.count),
                                        data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1),
                                        data.count, UInt32(rows.lowerBound), UInt32(rows.count), out, count, msg, len)
        }
    }

    /// Decodes image rows `rows` of the whole JPEG `file`, libjpeg skipping the rows above
    /// the MCU row that holds the first, as the rows of the whole decode.
    ///
    /// - Throws: what the whole decode would throw for damage in the rows read or skipped.
    public static func decodeSkipping(rows: Range<Int>, file: UnsafeRawBufferPointer, layout: JPEGLayout,
                                      maxPixels: Int, path: String) throws(ImageError) -> [UInt8] {
        try decodeRows(rows, layout: layout, path: path) { out, count, msg, len in
            ccodec_jpeg_decode_rows(file.baseAddress?.assumingMemoryBound(to: UInt8.self), file.count,
                                    UInt64(max(maxPixels, 0)), UInt32(rows.lowerBound), UInt32(rows.count),
                                    out, count, msg, len)
        }
    }

    private static func decodeRows(_ rows: Range<Int>, layout: JPEGLayout, path: String,
                                   _ decoder: (UnsafeMutablePointer<UInt8>?, Int, UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImageError) -> [UInt8] {
        guard !rows.isEmpty, rows.lowerBound >= 0, rows.upperBound <= layout.height else {
            throw .io(path: path, detail: "JPEG rows \(rows) outside the image")
        }
        let count = rows.count * layout.width * layout.channels
        var message = CodecMessage()
        var status = CodecStatus.ok.rawValue
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialised in
            status = message.withBuffer { decoder(out.baseAddress, count, $0, $1) }
            initialised = status == CodecStatus.ok.rawValue ? count : 0
        }
        try CCodec.check(status, message, path: path, format: "JPEG")
        return pixels
    }

    /// Splits `height` rows into `ranks` bands, in order: every band but the last a multiple
    /// of `unit` rows (MCU rows, or restart segments), as even as that allows, the later bands
    /// shorter by the work their decode spends before their first row.
    ///
    /// A band starting at row `s` with `n` rows costs `skipCost * s + n` (a row skipped costs
    /// `skipCost` of a row decoded and filtered); the split makes those costs as equal as whole
    /// units allow. `skipCost` 0 gives an even split. Ranks beyond the rows get empty bands,
    /// at the end.
    public static func split(height: Int, ranks: Int, unit: Int, skipCost: Double = 0) -> [Int] {
        precondition(height >= 0 && ranks >= 1 && unit >= 1)
        let units = (height + unit - 1) / unit
        let a = min(max(skipCost, 0), 0.95)
        // Rank by rank, the continuous optimum for the ranks still to place: if every one
        // costs the same, their rows from here on shrink by (1 - a) a band, so the next band
        // gets units * a / (1 - (1 - a)^m) of the m ranks' `left` units; rounded, and solved
        // again for the rest, which absorbs the rounding.
        var counts: [Int] = []
        var left = units
        for r in 0..<ranks {
            let m = ranks - r
            let ideal = a == 0 ? Double(left) / Double(m) : Double(left) * a / (1 - pow1m(a, m))
            let n = m == 1 ? left : min(max(Int(ideal.rounded()), 0), left)
            counts.append(n)
            left -= n
        }
        // Rounding can leave a band empty between two others; empty bands go last, where the
        // engine expects them (a band's neighbours are then the ranks beside it).
        let ordered = counts.filter { $0 > 0 } + counts.filter { $0 == 0 }
        var first = 0
        return ordered.map { n in
            defer { first += n }
            return min(n * unit, max(height - first * unit, 0))
        }
    }

    /// (1 - a)^n without Foundation.
    private static func pow1m(_ a: Double, _ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n { result *= 1 - a }
        return result
    }
}

extension JPEGCodec {
    /// Whether `bytes` start as a JPEG does (SOI and the next marker's 0xFF), as the format
    /// sniffer reads them.
    public static func hasSignature(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }
}
