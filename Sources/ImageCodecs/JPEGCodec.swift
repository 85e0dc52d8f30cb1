import ImageCore
import CCodecs

/// JPEG reading and writing, over libjpeg-turbo through the `CCodecs` C target (which owns
/// every libjpeg call and the `setjmp` its error exit needs).
public enum JPEGCodec {
    /// The quality JPEG output gets unless `--quality` says otherwise.
    public static let defaultQuality = 90

    /// Decodes a JPEG held in memory: baseline or progressive, with or without restart
    /// markers; gray stays gray (1 channel), YCbCr and RGB become RGB, CMYK and YCCK are
    /// converted to RGB. The decode uses libjpeg's accurate integer IDCT and fancy upsampling,
    /// as Pillow does, so the pixels equal Pillow's.
    ///
    /// The size is read from the header and checked against `maxPixels` before any pixel
    /// memory is allocated. Data cut short, or damaged entropy-coded data (which libjpeg would
    /// otherwise paper over with grey), is an error.
    ///
    /// - Parameter autorotate: Apply the EXIF orientation (a phone's "rotate 90" flag), so the
    ///   image is upright as a viewer shows it; `false` keeps the stored orientation.
    /// - Throws: `.truncated`, `.corrupt`, `.tooLarge`, `.io` when memory runs out.
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int,
                              autorotate: Bool = true) throws(ImageError) -> Image {
        let info = try CCodec.header(path: path, format: "JPEG", maxPixels: maxPixels) { info, msg, len in
            bytes.withUnsafeBufferPointer { ccodec_jpeg_header($0.baseAddress, $0.count, &info, msg, len) }
        }
        let limit = max(maxPixels, 0)
        let image = try CCodec.decode(info, path: path, format: "JPEG", limit: limit) { out, count, msg, len in
            bytes.withUnsafeBufferPointer {
                ccodec_jpeg_decode($0.baseAddress, $0.count, UInt64(limit), out, count, msg, len)
            }
        }
        return autorotate ? image.oriented(ExifOrientation(jpeg: bytes)) : image
    }

    /// Encodes an image as a baseline JFIF JPEG (4:2:0 chroma for colour) with libjpeg's
    /// standard Huffman tables and a restart marker after every MCU row, so that bands
    /// encoded apart (``JPEGBandEncoder``) give these same bytes, and bands of the file
    /// decode apart (``JPEGLayout``). JPEG has no alpha: gray+alpha is written as gray and
    /// RGBA as RGB, the alpha dropped.
    ///
    /// - Parameter quality: 1 (smallest) to 100 (best); values outside are clamped.
    /// - Throws: `.io` (with an empty path) for an empty image, a side over 65500, or an
    ///   encoder failure.
    public static func encode(_ image: Image, quality: Int = defaultQuality) throws(ImageError) -> [UInt8] {
        try CCodec.requireSides(image, max: 65500, format: "JPEG")
        let opaque = image.withoutAlpha()
        return try CCodec.encode(format: "JPEG") { out, count, msg, len in
            opaque.pixels.withUnsafeBufferPointer {
                ccodec_jpeg_encode($0.baseAddress, UInt32(opaque.width), UInt32(opaque.height), Int32(opaque.channels),
                                   Int32(min(max(quality, 1), 100)), &out, &count, msg, len)
            }
        }
    }
}
