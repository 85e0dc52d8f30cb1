import CPNG

/// PNG reading and writing, over libpng through the `CPNG` C target.
///
/// Every libpng call (and every `setjmp`) stays in C; this type only moves bytes across
/// and turns `CPNG_*` status codes into ``ImageError`` values.
public enum PNGCodec {
    /// Decodes a whole PNG held in memory, normalised to 8-bit samples.
    ///
    /// Palette images become RGB, or RGBA when they carry a `tRNS` chunk; gray and RGB
    /// images with `tRNS` gain an alpha channel; gray of 1, 2 or 4 bits is expanded to 8;
    /// 16-bit samples are scaled with rounding, `round(v * 255 / 65535)` (libpng's
    /// `png_set_scale_16`, not the truncating `png_set_strip_16`); Adam7 interlacing is
    /// undone. Gamma and colour profiles are ignored.
    ///
    /// The header is read first and `width * height` checked against `maxPixels` before
    /// the pixel buffer is allocated, so a decompression bomb costs nothing.
    ///
    /// - Parameter path: Names the source in any error thrown.
    /// - Throws: `.notAnImage` without a PNG signature, `.truncated` when the data ends
    ///   early, `.corrupt` for a damaged header, CRC or compressed stream, `.tooLarge`
    ///   over the limit, `.io` when memory runs out.
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int) throws(ImageError) -> Image {
        let limit = max(maxPixels, 0)
        var width: UInt32 = 0, height: UInt32 = 0, channels: Int32 = 0
        var message = CPNGMessage()
        let headerStatus = bytes.withUnsafeBufferPointer { data in
            message.withBuffer { cpng_read_header(data.baseAddress, data.count, &width, &height, &channels, $0, $1) }
        }
        try check(headerStatus, message, path: path, width: Int(width), height: Int(height), limit: limit)

        let w = Int(width), h = Int(height), c = Int(channels)
        // Checked in 64-bit before any allocation: a 100000x100000 header must not reach malloc.
        let (area, overflow) = w.multipliedReportingOverflow(by: h)
        guard !overflow, area <= limit else {
            throw .tooLarge(path: path, width: w, height: h, limit: limit)
        }
        guard (1...4).contains(c) else {
            throw .corrupt(path: path, detail: "unsupported PNG colour type")
        }
        let count = w * h * c
        var status: Int32 = CPNG_OK
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialised in
            status = bytes.withUnsafeBufferPointer { data in
                message.withBuffer {
                    cpng_decode(data.baseAddress, data.count, UInt64(limit), out.baseAddress, count, $0, $1)
                }
            }
            initialised = status == CPNG_OK ? count : 0
        }
        try check(status, message, path: path, width: w, height: h, limit: limit)
        return Image(width: w, height: h, channels: c, pixels: pixels)
    }

    /// Encodes an image as a non-interlaced 8-bit PNG (gray, gray+alpha, RGB or RGBA by
    /// channel count) with libpng's default filter choice.
    ///
    /// - Parameter compressionLevel: zlib level, 0 (none, fastest) to 9 (smallest);
    ///   values outside are clamped.
    /// - Throws: `.io` when the image is empty (PNG needs at least 1x1) or the encoder fails.
    ///   Errors carry an empty path; ``writeImage(_:path:compressionLevel:)`` fills it in.
    public static func encode(_ image: Image, compressionLevel: Int = 6) throws(ImageError) -> [UInt8] {
        try requireWritable(image, path: "")
        guard let width = UInt32(exactly: image.width), let height = UInt32(exactly: image.height) else {
            throw .io(path: "", detail: "\(image.width)x\(image.height) is too large for PNG")
        }
        let level = Int32(min(max(compressionLevel, 0), 9))
        var message = CPNGMessage()
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            message.withBuffer {
                cpng_encode(pixels.baseAddress, width, height, Int32(image.channels), level,
                            &output, &length, $0, $1)
            }
        }
        defer { cpng_free(output) }
        try check(status, message, path: "", width: image.width, height: image.height, limit: 0)
        guard let output else { throw .io(path: "", detail: "PNG encoder produced no output") }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }

    /// Maps a `CPNG_*` status to the matching ``ImageError``; returns on `CPNG_OK`.
    private static func check(_ status: Int32, _ message: CPNGMessage, path: String,
                              width: Int, height: Int, limit: Int) throws(ImageError) {
        switch status {
        case CPNG_OK: return
        case CPNG_NOT_PNG: throw .notAnImage(path: path)
        case CPNG_TRUNCATED: throw .truncated(path: path)
        case CPNG_TOO_LARGE: throw .tooLarge(path: path, width: width, height: height, limit: limit)
        case CPNG_NO_MEMORY: throw .io(path: path, detail: "out of memory (\(message.text))")
        case CPNG_WRITE_FAILED, CPNG_BAD_ARGUMENT: throw .io(path: path, detail: "PNG encoding failed: \(message.text)")
        default: throw .corrupt(path: path, detail: message.text)
        }
    }
}

/// The fixed-size buffer CPNG copies libpng's error message into.
private struct CPNGMessage {
    private var bytes = [CChar](repeating: 0, count: 256)

    /// Runs `body` with the buffer's address and capacity, as the `cpng_` functions take them.
    mutating func withBuffer<R>(_ body: (UnsafeMutablePointer<CChar>, Int) -> R) -> R {
        bytes.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    }

    /// The message as text (the C side always NUL-terminates it).
    var text: String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Refuses to write an image no format here can hold: PNG and PNM both need 1x1 or more.
func requireWritable(_ image: Image, path: String) throws(ImageError) {
    guard image.width > 0, image.height > 0 else {
        throw .io(path: path, detail: "cannot write an empty \(image.width)x\(image.height) image")
    }
}
