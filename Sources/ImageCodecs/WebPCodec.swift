import ImageCore
import CCodecs

/// WebP reading and writing, over libwebp through the `CCodecs` C target.
public enum WebPCodec {
    /// Decodes a still WebP held in memory, lossy or lossless, to RGB, or RGBA when it has
    /// alpha (WebP has no gray: a gray image comes back as RGB). libwebp's default fancy
    /// upsampling, as `dwebp` and Pillow decode.
    ///
    /// The size is read from the headers and checked against `maxPixels` before any pixel
    /// memory is allocated.
    ///
    /// - Throws: `.truncated`, `.corrupt`, `.unsupportedLayout` for an animated WebP,
    ///   `.tooLarge`, `.io` when memory runs out.
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int) throws(ImageError) -> Image {
        let info = try CCodec.header(path: path, format: "WebP", maxPixels: maxPixels) { info, msg, len in
            bytes.withUnsafeBufferPointer { ccodec_webp_header($0.baseAddress, $0.count, &info, msg, len) }
        }
        let limit = max(maxPixels, 0)
        return try CCodec.decode(info, path: path, format: "WebP", limit: limit) { out, count, msg, len in
            bytes.withUnsafeBufferPointer {
                ccodec_webp_decode($0.baseAddress, $0.count, UInt64(limit), info.channels, out, count, msg, len)
            }
        }
    }

    /// Encodes an image as WebP: losslessly (every pixel kept exactly, alpha included) when
    /// `quality` is nil, else lossy at `quality` 0...100 (clamped). Gray is written as RGB and
    /// gray+alpha as RGBA, the only layouts WebP has.
    ///
    /// - Throws: `.io` (with an empty path) for an empty image, a side over 16383, or an
    ///   encoder failure.
    public static func encode(_ image: Image, quality: Int? = nil) throws(ImageError) -> [UInt8] {
        try CCodec.requireSides(image, max: 16383, format: "WebP")
        let colour = image.withColour()
        let setting = quality.map { Int32(min(max($0, 0), 100)) } ?? -1
        return try CCodec.encode(format: "WebP") { out, count, msg, len in
            colour.pixels.withUnsafeBufferPointer {
                ccodec_webp_encode($0.baseAddress, UInt32(colour.width), UInt32(colour.height), Int32(colour.channels),
                                   setting, &out, &count, msg, len)
            }
        }
    }
}
