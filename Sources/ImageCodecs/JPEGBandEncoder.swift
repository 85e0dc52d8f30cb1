import ImageCore
import CCodecs
import CStatus

/// JPEG encoded by bands: every rank encodes its own MCU rows with libjpeg-turbo, and the
/// pieces join into exactly the file a serial encode of the whole image writes
/// (``JPEGCodec/encode(_:quality:)``: 4:2:0, standard Huffman tables, a restart marker after
/// every MCU row). The cost of those markers over a file without them is a few bytes per MCU
/// row (the marker and the pad to a byte; every row's first DC values coded in full).
public enum JPEGBandEncoder {
    /// One band's share of the file: its bytes, which start with the file's headers.
    public struct Piece: Sendable, Equatable {
        /// The headers (SOI to SOS, the frame's height the whole image's), then the band's
        /// entropy-coded segments and the marker that follows them in the file (a restart
        /// marker, or EOI for the last band).
        public var bytes: [UInt8]
        /// How many of `bytes` are the headers (identical in every piece).
        public var headerLength: Int

        public init(bytes: [UInt8], headerLength: Int) {
            self.bytes = bytes
            self.headerLength = headerLength
        }

        /// The band's part of the file, without the headers.
        public var body: ArraySlice<UInt8> { bytes[headerLength...] }
    }

    /// Pixel rows per MCU row of the output: bands start on multiples of this, and all but
    /// the last hold a multiple of it. 16 for colour (4:2:0), 8 for gray; alpha is dropped.
    public static func mcuRows(channels: Int) -> Int { Int(ccodec_jpeg_band_rows(Int32(channels <= 2 ? 1 : 3))) }

    /// Encodes `band`'s rows `rows` (image rows, inside the band) as its piece of the JPEG of
    /// the whole image (`band.imageHeight` rows).
    ///
    /// - Throws: `.io` (empty path) when the rows are not whole MCU rows of the image, a side
    ///   is over 65500, or the encoder fails.
    public static func encode(_ band: Band, rows: Range<Int>, quality: Int = JPEGCodec.defaultQuality) throws(ImageError) -> Piece {
        guard band.width > 0, !rows.isEmpty, rows.lowerBound >= band.firstRow, rows.upperBound <= band.rows.upperBound,
              band.width <= 65500, band.imageHeight <= 65500 else {
            throw .io(path: "", detail: "\(band.width)x\(band.imageHeight) is too large for JPEG (at most 65500 pixels a side) or the band is empty")
        }
        // The band's own rows are encoded where they are (no copy of the pixels).
        let slice = rows == band.rows ? band : band.slice(rows: rows)
        let opaque = Image(width: slice.width, height: slice.rowCount, channels: slice.channels, pixels: slice.pixels).withoutAlpha()
        var header = 0
        let bytes = try CCodec.encode(format: "JPEG") { out, count, msg, len in
            opaque.pixels.withUnsafeBufferPointer {
                ccodec_jpeg_encode_band($0.baseAddress, UInt32(opaque.width), UInt32(opaque.height), Int32(opaque.channels),
                                        Int32(min(max(quality, 1), 100)), UInt32(band.imageHeight), UInt32(rows.lowerBound),
                                        &out, &count, &header, msg, len)
            }
        }
        return Piece(bytes: bytes, headerLength: header)
    }

    /// The file from every band's piece, in order: the first piece whole, then each later
    /// piece's body.
    public static func assemble(_ pieces: [Piece]) -> [UInt8] {
        guard let first = pieces.first else { return [] }
        var file = first.bytes
        file.reserveCapacity(pieces.reduce(0) { $0 + $1.bytes.count - $1.headerLength } + first.headerLength)
        for piece in pieces.dropFirst() { file += piece.body }
        return file
    }

    /// The file from the first piece's headers and the bodies of every piece, as a gather
    /// brings them (one buffer, in band order).
    public static func assemble(header: ArraySlice<UInt8>, bodies: ArraySlice<UInt8>) -> [UInt8] {
        var file = [UInt8]()
        file.reserveCapacity(header.count + bodies.count)
        file += header
        file += bodies
        return file
    }
}
