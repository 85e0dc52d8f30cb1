import ImageCore
import CCodecs

/// TIFF reading and writing, over libtiff through the `CCodecs` C target.
///
/// Read: the first page of the file (a multi-page TIFF's other pages are ignored), 8- or
/// 16-bit gray (min-is-black or min-is-white), gray+alpha, RGB and RGBA, and 8-bit palette;
/// strips or tiles; classic or BigTIFF; any compression libtiff decodes (none, LZW, Deflate,
/// PackBits, ...). 16-bit samples become `round(v * 255 / 65535)`, as for PNG. Associated
/// (premultiplied) alpha is kept as stored. Other layouts (separate sample planes, CMYK,
/// YCbCr, 1-bit, float) are refused by name.
public enum TIFFCodec {
    /// Whether `bytes` start like a TIFF: classic (42) or BigTIFF (43), either byte order.
    public static func hasSignature(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        let head = Array(bytes.prefix(4))
        return head == [0x49, 0x49, 0x2A, 0x00] || head == [0x4D, 0x4D, 0x00, 0x2A]
            || head == [0x49, 0x49, 0x2B, 0x00] || head == [0x4D, 0x4D, 0x00, 0x2B]
    }

    /// Decodes the first page of a TIFF held in memory.
    ///
    /// - Throws: `.corrupt` (libtiff's message), `.unsupportedLayout`, `.tooLarge` (checked
    ///   from the header, before pixel memory is allocated), `.io` when memory runs out.
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int) throws(ImageError) -> Image {
        try bytes.withUnsafeBufferPointer { (data) throws(ImageError) -> Image in
            let reader = try Reader(path: path, maxPixels: maxPixels) { limit, handle, info, msg, len in
                ccodec_tiff_open_memory(path, data.baseAddress, data.count, limit, &handle, &info, msg, len)
            }
            defer { reader.close() }
            let pixels = try reader.rows(0..<reader.height)
            return Image(width: reader.width, height: reader.height, channels: reader.channels, pixels: pixels)
        }
    }

    /// Encodes an image as a single-page TIFF, Deflate-compressed with the horizontal
    /// predictor, in strips of about 256 KiB. Gray (+alpha) is min-is-black; alpha is
    /// unassociated. Lossless: decoding gives the image back.
    ///
    /// - Parameter bigTIFF: Write BigTIFF (64-bit offsets) or classic TIFF; nil (the default)
    ///   chooses BigTIFF when the pixels take 3.75 GiB or more, so the file never outgrows
    ///   classic TIFF's 4 GiB.
    /// - Throws: `.io` (with an empty path) for an empty image or an encoder failure.
    public static func encode(_ image: Image, bigTIFF: Bool? = nil) throws(ImageError) -> [UInt8] {
        try CCodec.requireSides(image, max: Int(UInt32.max), format: "TIFF")
        return try CCodec.encode(format: "TIFF") { out, count, msg, len in
            image.pixels.withUnsafeBufferPointer {
                ccodec_tiff_encode($0.baseAddress, UInt32(image.width), UInt32(image.height), Int32(image.channels),
                                   bigTIFF.map { $0 ? 1 : 0 } ?? -1, &out, &count, msg, len)
            }
        }
    }

    /// An open TIFF whose rows are decoded on demand, reading only the strips or tiles that
    /// hold them: how each rank reads its own band of a large TIFF. Not thread-safe; call
    /// ``close()`` once done.
    public final class Reader {
        private var handle: OpaquePointer?
        /// Names the file in errors.
        public let path: String
        public let width: Int, height: Int
        /// Channels of the decoded pixels (palette becomes RGB): 1...4.
        public let channels: Int
        /// Bits per sample in the file (8 or 16).
        public let bits: Int
        /// Whether the file is tiled (else stripped), and the tile's (or strip's) size.
        public let tiled: Bool
        public let tileWidth: Int, tileHeight: Int

        /// Opens the TIFF file at `path` (the first page) and checks its layout and size.
        ///
        /// - Throws: `.io` when the file cannot be opened, and what ``TIFFCodec/decode`` throws.
        public convenience init(path: String, maxPixels: Int) throws(ImageError) {
            _ = try readFilePrefix(path: path, limit: 0)  // `.io` with the reason when it cannot be opened
            try self.init(path: path, maxPixels: maxPixels) { limit, handle, info, msg, len in
                ccodec_tiff_open_file(path, limit, &handle, &info, msg, len)
            }
        }

        fileprivate init(path: String, maxPixels: Int,
                         _ open: (UInt64, inout OpaquePointer?, inout ccodec_info, UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImageError) {
            var opened: OpaquePointer? = nil
            let info = try CCodec.header(path: path, format: "TIFF", maxPixels: maxPixels) { info, msg, len in
                open(UInt64(max(maxPixels, 0)), &opened, &info, msg, len)
            }
            handle = opened
            self.path = path
            width = Int(info.width); height = Int(info.height); channels = Int(info.channels); bits = Int(info.bits)
            tiled = info.tiled != 0; tileWidth = Int(info.tile_width); tileHeight = Int(info.tile_height)
        }

        deinit { ccodec_tiff_close(handle) }

        /// Releases libtiff's handle (and the file) now rather than at deinit.
        public func close() {
            ccodec_tiff_close(handle)
            handle = nil
        }

        /// The decoded 8-bit pixels of `rows` (which must lie inside the image).
        ///
        /// - Throws: `.corrupt` when a strip or tile holding them cannot be decoded.
        public func rows(_ rows: Range<Int>) throws(ImageError) -> [UInt8] {
            precondition(rows.lowerBound >= 0 && rows.upperBound <= height, "rows outside the TIFF")
            guard let handle else { throw .io(path: path, detail: "TIFF reader is closed") }
            if rows.isEmpty { return [] }
            let count = rows.count * width * channels
            var message = CodecMessage()
            var status = CodecStatus.ok.rawValue
            let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialised in
                status = message.withBuffer {
                    ccodec_tiff_read_rows(handle, UInt32(rows.lowerBound), UInt32(rows.count), out.baseAddress, count, $0, $1)
                }
                initialised = status == CodecStatus.ok.rawValue ? count : 0
            }
            try CCodec.check(status, message, path: path, format: "TIFF")
            return pixels
        }
    }
}
