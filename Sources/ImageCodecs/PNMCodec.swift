import ImageCore

/// Binary PGM (`P5`, gray) and PPM (`P6`, RGB) reading and writing, in pure Swift.
///
/// Reading accepts any maxval from 1 to 65535 (two big-endian bytes per sample above
/// 255) and scales samples to 8 bits with rounding, `round(v * 255 / maxval)`, the same
/// rule PNG 16-bit input gets. Header comments (`#` to end of line) are skipped. Only the
/// first image of a multi-image file is read. ASCII PNM (`P1`-`P3`) and PBM bitmaps
/// (`P4`) are not read; ``decodeImage(bytes:path:maxPixels:)`` reports them as
/// `.unsupportedFormat` before they get here.
public enum PNMCodec {
    /// Decodes a `P5` or `P6` image held in memory.
    ///
    /// `width * height` is checked against `maxPixels` before the pixel buffer is allocated.
    ///
    /// - Parameter path: Names the source in any error thrown.
    /// - Throws: `.empty` for no bytes, `.notAnImage` without a `P5`/`P6` magic number,
    ///   `.truncated` when the header or samples end early, `.corrupt` for a malformed
    ///   header or a sample above maxval, `.tooLarge` over the limit.
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int) throws(ImageError) -> Image {
        let header = try Self.header(bytes, path: path, maxPixels: maxPixels)
        let samples = header.width * header.height * header.channels
        let start = header.dataOffset
        guard bytes.count - start >= samples * header.bytesPerSample else { throw .truncated(path: path) }

        let pixels: [UInt8]
        if header.maxval == 255 {
            pixels = Array(bytes[start..<(start + samples)])
        } else {
            pixels = try scaledSamples(bytes, from: start, count: samples, maxval: header.maxval, path: path)
        }
        return Image(width: header.width, height: header.height, channels: header.channels, pixels: pixels)
    }

    /// A PNM file's header: the image's shape, its sample format, and where the samples begin.
    public struct Header: Equatable, Sendable {
        public var width: Int, height: Int, channels: Int, maxval: Int
        /// Offset of the first sample byte in the file.
        public var dataOffset: Int
        /// 1 up to maxval 255, else 2 (big-endian).
        public var bytesPerSample: Int { maxval > 255 ? 2 : 1 }
        /// Bytes of one row in the file.
        public var fileRowBytes: Int { width * channels * bytesPerSample }

        public init(width: Int, height: Int, channels: Int, maxval: Int, dataOffset: Int) {
            self.width = width; self.height = height; self.channels = channels
            self.maxval = maxval; self.dataOffset = dataOffset
        }
    }

    /// Reads the header at the start of `bytes` (the whole file, or only its first bytes),
    /// checking it as ``decode(_:path:maxPixels:)`` does before any sample is read.
    ///
    /// - Throws: `.empty`, `.notAnImage`, `.truncated` when `bytes` ends inside the header,
    ///   `.corrupt` for a malformed header, `.tooLarge` over `maxPixels`.
    public static func header(_ bytes: [UInt8], path: String, maxPixels: Int) throws(ImageError) -> Header {
        guard !bytes.isEmpty else { throw .empty(path: path) }
        var header = PNMHeaderReader(bytes: bytes, path: path)
        let channels = try header.readMagic()
        let width = try header.readNumber("width")
        let height = try header.readNumber("height")
        let maxval = try header.readNumber("maxval")
        try header.readSeparator()

        guard width > 0, height > 0 else {
            throw .corrupt(path: path, detail: "PNM size \(width)x\(height) is empty")
        }
        guard (1...65535).contains(maxval) else {
            throw .corrupt(path: path, detail: "PNM maxval \(maxval) is outside 1...65535")
        }
        let limit = max(maxPixels, 0)
        let (area, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, area <= limit else {
            throw .tooLarge(path: path, width: width, height: height, limit: limit)
        }
        return Header(width: width, height: height, channels: channels, maxval: maxval, dataOffset: header.offset)
    }

    /// Samples read straight from a file at `maxval` (1 or 2 bytes each), scaled to 8 bits
    /// as ``decode(_:path:maxPixels:)`` scales them. Nil when a sample exceeds maxval.
    public static func scale(_ raw: [UInt8], maxval: Int) -> [UInt8]? {
        let count = maxval > 255 ? raw.count / 2 : raw.count
        return try? scaledSamples(raw, from: 0, count: count, maxval: maxval, path: "")
    }

    /// The header ``encode(_:)`` writes for an image of this shape.
    public static func headerBytes(width: Int, height: Int, channels: Int) -> [UInt8] {
        Array("P\(channels <= 2 ? 5 : 6)\n\(width) \(height)\n255\n".utf8)
    }

    /// The samples ``encode(_:)`` writes for these pixels (alpha dropped from 2 and 4 channels).
    public static func samples(_ pixels: [UInt8], channels: Int) -> [UInt8] {
        let colours = channels <= 2 ? 1 : 3
        guard colours != channels else { return pixels }
        let count = pixels.count / channels
        return [UInt8](unsafeUninitializedCapacity: count * colours) { out, n in
            pixels.withUnsafeBufferPointer { src in
                for p in 0..<count {
                    for c in 0..<colours { out[p * colours + c] = src[p * channels + c] }
                }
            }
            n = count * colours
        }
    }

    /// Encodes an image as binary PNM with maxval 255: 1 channel as `P5`, 3 as `P6`.
    ///
    /// PNM has no alpha, so gray+alpha is written as `P5` and RGBA as `P6`, with the alpha
    /// channel dropped (not composited). The choice follows the channel count, not the
    /// file extension: an RGB image written to `x.pgm` is a `P6`.
    ///
    /// - Throws: `.io` for an empty image (PNM readers refuse a zero width or height).
    ///   Errors carry an empty path; ``writeImage(_:path:options:)`` fills it in.
    public static func encode(_ image: Image) throws(ImageError) -> [UInt8] {
        try requireWritable(image, path: "")
        return headerBytes(width: image.width, height: image.height, channels: image.channels)
            + samples(image.pixels, channels: image.channels)
    }

    /// Samples at a maxval other than 255 (one byte each up to 255, two big-endian bytes
    /// above), scaled to 0...255 with rounding; a sample above maxval makes the file corrupt.
    private static func scaledSamples(_ bytes: [UInt8], from start: Int, count: Int,
                                      maxval: Int, path: String) throws(ImageError) -> [UInt8] {
        let wide = maxval > 255
        var tooBig = false
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialised in
            bytes.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let v = wide ? Int(src[start + 2 * i]) << 8 | Int(src[start + 2 * i + 1]) : Int(src[start + i])
                    if v > maxval { tooBig = true }
                    out[i] = UInt8(truncatingIfNeeded: (min(v, maxval) * 255 + maxval / 2) / maxval)
                }
            }
            initialised = count
        }
        guard !tooBig else { throw .corrupt(path: path, detail: "PNM sample exceeds maxval \(maxval)") }
        return pixels
    }
}

/// Walks a PNM header: magic number, then whitespace- and comment-separated decimal fields.
private struct PNMHeaderReader {
    let bytes: [UInt8]
    let path: String
    /// Index of the next unread byte; after ``readSeparator()``, the first sample byte.
    private(set) var offset = 0

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Reads `P5` or `P6` and returns the channel count it implies.
    mutating func readMagic() throws(ImageError) -> Int {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else { throw .notAnImage(path: path) }
        offset = 2
        switch bytes[1] {
        case UInt8(ascii: "5"): return 1
        case UInt8(ascii: "6"): return 3
        default: throw .notAnImage(path: path)
        }
    }

    /// Skips whitespace and comments, then reads one unsigned decimal number.
    mutating func readNumber(_ field: String) throws(ImageError) -> Int {
        skipWhitespaceAndComments()
        guard offset < bytes.count else { throw .truncated(path: path) }
        guard Self.isDigit(bytes[offset]) else {
            throw .corrupt(path: path, detail: "PNM header: expected \(field)")
        }
        var value = 0
        while offset < bytes.count, Self.isDigit(bytes[offset]) {
            value = value * 10 + Int(bytes[offset] - UInt8(ascii: "0"))
            guard value <= Int(Int32.max) else {
                throw .corrupt(path: path, detail: "PNM header: \(field) is too large")
            }
            offset += 1
        }
        guard offset < bytes.count else { throw .truncated(path: path) }
        guard Self.isWhitespace(bytes[offset]) || bytes[offset] == UInt8(ascii: "#") else {
            throw .corrupt(path: path, detail: "PNM header: bad character after \(field)")
        }
        return value
    }

    /// Consumes the single whitespace byte that separates maxval from the samples.
    mutating func readSeparator() throws(ImageError) {
        guard offset < bytes.count else { throw .truncated(path: path) }
        guard Self.isWhitespace(bytes[offset]) else {
            throw .corrupt(path: path, detail: "PNM header: expected whitespace after maxval")
        }
        offset += 1
    }

    private mutating func skipWhitespaceAndComments() {
        while offset < bytes.count {
            if Self.isWhitespace(bytes[offset]) {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "#") {
                while offset < bytes.count, bytes[offset] != UInt8(ascii: "\n"), bytes[offset] != UInt8(ascii: "\r") {
                    offset += 1
                }
            } else {
                return
            }
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }

    /// Space, tab, LF, VT, FF, CR: the PNM spec's whitespace.
    private static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
}
