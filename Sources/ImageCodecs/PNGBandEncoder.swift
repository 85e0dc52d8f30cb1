import ImageCore
import CPNG

/// One band's rows, PNG-filtered and deflated into a piece of a shared zlib stream.
public struct DeflatedBand: Sendable, Equatable {
    /// Raw deflate data ending in a full flush (byte-aligned, no references past its end).
    public var bytes: [UInt8]
    /// Adler-32 of the filtered bytes this piece encodes.
    public var adler: UInt32
    /// Count of those filtered bytes (rows x (row bytes + 1)).
    public var rawLength: UInt64
    /// Where in `bytes` each restart row asked of ``PNGBandEncoder/deflate(_:previousRow:restartRows:compressionLevel:)`` begins.
    public var restartOffsets: [Int]

    public init(bytes: [UInt8], adler: UInt32, rawLength: UInt64, restartOffsets: [Int] = []) {
        self.bytes = bytes; self.adler = adler; self.rawLength = rawLength; self.restartOffsets = restartOffsets
    }
}

/// PNG encoding split by bands, so the deflate work (the largest serial cost after decoding)
/// is shared by every rank instead of done by rank 0 alone.
///
/// Each band is filtered and deflated on its own (`deflate(_:previousRow:compressionLevel:)`),
/// ending with a full flush so the pieces concatenate; `assemble` then writes one PNG: the
/// zlib header, the pieces in row order, an empty final block, and the Adler-32 combined
/// from the pieces'. The result decodes to exactly the pixels of the serial encoder's output
/// (the compressed bytes differ: the flush points cost a few bytes per band).
public enum PNGBandEncoder {
    /// Filters and deflates every row of `band`. `previousRow` is the image row just above
    /// the band (nil for the first band): the Up, Average and Paeth filters read it.
    /// `restartRows` (image rows inside the band, increasing) start restart segments: the
    /// stream is fully flushed before each and the row does not read the row above, so a
    /// reader can decode from there (``RestartLayout``); their offsets come back in
    /// ``DeflatedBand/restartOffsets``.
    public static func deflate(_ band: Band, previousRow: [UInt8]?, restartRows: [Int] = [],
                               compressionLevel: Int = 6) throws(ImageError) -> DeflatedBand {
        precondition(previousRow == nil || previousRow!.count == band.rowBytes, "previous row has the wrong width")
        precondition(restartRows.allSatisfy(band.rows.contains), "restart row outside the band")
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0, adler: UInt32 = 1, raw: UInt64 = 0
        let restarts = restartRows.map { $0 - band.firstRow }
        var offsets = [UInt64](repeating: 0, count: restarts.count)
        let status = band.pixels.withUnsafeBufferPointer { rows in
            withOptionalBuffer(previousRow) { previous in
                cpng_deflate_rows(rows.baseAddress, previous, band.rowBytes, band.rowCount, Int32(band.channels),
                                  Int32(compressionLevel), restarts, restarts.count, &offsets,
                                  &out, &length, &adler, &raw)
            }
        }
        guard status == CSTATUS_OK else {
            throw .io(path: "<band \(band.rows)>", detail: status == CSTATUS_NO_MEMORY ? "out of memory" : "deflate failed")
        }
        defer { cpng_free(out) }
        let bytes = length == 0 ? [] : Array(UnsafeBufferPointer(start: out, count: length))
        return DeflatedBand(bytes: bytes, adler: adler, rawLength: raw, restartOffsets: offsets.map { Int($0) })
    }

    /// Stitches pieces, in row order, into one PNG. `compressed` holds the pieces' bytes end
    /// to end (as a gather delivers them); `adlers` and `rawLengths` describe each piece.
    ///
    /// With a `restart` layout of N segments, `segmentStarts` gives where in `compressed`
    /// segments 1...N-1 begin (rows deflated with those restart rows); the PNG then carries a
    /// mARK chunk and one IDAT per segment, so bandsaw (and any reader of the proposal)
    /// can decode it by segments. Other decoders ignore the chunk and read the same pixels.
    public static func assemble(width: Int, height: Int, channels: Int, compressed: [UInt8],
                                adlers: [UInt32], rawLengths: [UInt64],
                                restart: RestartLayout? = nil, segmentStarts: [Int] = []) -> [UInt8] {
        precondition(adlers.count == rawLengths.count, "one Adler-32 and length per piece")
        var adler: UInt32 = 1  // Adler-32 of no bytes
        for (a, n) in zip(adlers, rawLengths) where n > 0 { adler = cpng_adler32_combine(adler, a, n) }

        var png: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        png.reserveCapacity(compressed.count + 128)
        let colourType: UInt8 = [1: 0, 2: 4, 3: 2, 4: 6][channels]!
        appendChunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, colourType, 0, 0, 0], to: &png)
        // zlib header (deflate, 32 KiB window, default level; (0x78 << 8 | 0x9C) % 31 == 0),
        // the pieces, an empty final fixed-Huffman block (0x03 0x00), and the Adler-32.
        var stream: [UInt8] = [0x78, 0x9C]
        stream.reserveCapacity(compressed.count + 8)
        stream += compressed
        stream += [0x03, 0x00]
        stream += bigEndian(adler)
        // IDAT chunks are limited to 2^31 - 1 bytes; 1 GiB per chunk keeps well inside. With
        // restart points, each segment is one IDAT (mARK type 1): the chunk boundaries are
        // the segment starts, shifted by the zlib header.
        var cuts: [Int] = []
        if let restart, restart.segments >= 2 {
            precondition(segmentStarts.count == restart.segments - 1, "one start per segment after the first")
            let bounds = [0] + segmentStarts.map { $0 + 2 } + [stream.count]
            if zip(bounds, bounds.dropFirst()).allSatisfy({ $1 > $0 && $1 - $0 <= 1 << 30 }) {
                appendChunk("mARK", [0, 1] + bigEndian(UInt32(restart.segments)), to: &png)
                cuts = Array(bounds.dropFirst())
            }
        }
        if cuts.isEmpty { cuts = Array(stride(from: 1 << 30, to: stream.count, by: 1 << 30)) + [stream.count] }
        var offset = 0
        for end in cuts {
            appendChunk("IDAT", stream[offset..<end], to: &png)
            offset = end
        }
        appendChunk("IEND", [], to: &png)
        return png
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    private static func appendChunk<C: Collection>(_ type: String, _ data: C, to png: inout [UInt8]) where C.Element == UInt8 {
        let typeBytes = Array(type.utf8)
        png += bigEndian(UInt32(data.count))
        let start = png.count
        png += typeBytes
        png += data
        let crc = png.withUnsafeBufferPointer { cpng_crc32(0, $0.baseAddress! + start, png.count - start) }
        png += bigEndian(crc)
    }

    private static func withOptionalBuffer<R>(_ bytes: [UInt8]?, _ body: (UnsafePointer<UInt8>?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
