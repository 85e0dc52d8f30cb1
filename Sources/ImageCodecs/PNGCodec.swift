import ImageCore
import CPNG

/// PNG reading and writing, over libpng through the `CPNG` C target.
///
/// Every libpng call (and every `setjmp`) stays in C; this type only moves bytes across
/// and turns `CSTATUS_*` codes into ``ImageError`` values (``CodecStatus``).
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
    /// The common layouts (8-bit gray, gray+alpha, RGB, RGBA; not interlaced; no `tRNS`)
    /// take a fast path: rank 0 decodes alone while every other rank waits, and libpng's
    /// inflate and row-by-row unfiltering dominated that serial step, so `cpng_decode_fast`
    /// inflates the whole stream at once with libdeflate instead, about twice as fast. It
    /// gives the same pixels and the same errors as libpng, which decodes everything else.
    ///
    /// - Parameters:
    ///   - path: Names the source in any error thrown.
    ///   - allowFastPath: `false` decodes with libpng even where the fast path applies
    ///     (to compare the two, as the tests do).
    /// - Throws: `.notAnImage` without a PNG signature, `.truncated` when the data ends
    ///   early, `.corrupt` for a damaged header, CRC or compressed stream, `.tooLarge`
    ///   over the limit, `.io` when memory runs out.
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int,
                              allowFastPath: Bool = true) throws(ImageError) -> Image {
        let header = try readHeader(bytes, path: path, maxPixels: maxPixels)
        if allowFastPath, let image = try decodeFast(bytes, header, path: path) { return image }
        let run = runDecoder(header) { out, count, message in
            bytes.withUnsafeBufferPointer { data in
                message.withBuffer {
                    cpng_decode(data.baseAddress, data.count, UInt64(header.limit), out, count, $0, $1)
                }
            }
        }
        return try image(from: run, header, path: path)
    }

    /// Decodes with the fast path alone: `nil` where it does not apply (where
    /// ``decode(_:path:maxPixels:allowFastPath:)`` would fall back to libpng).
    /// For tests that must know which decoder answered.
    @_spi(Testing)
    public static func decodeFastPathOnly(_ bytes: [UInt8], path: String, maxPixels: Int) throws(ImageError) -> Image? {
        try decodeFast(bytes, readHeader(bytes, path: path, maxPixels: maxPixels), path: path)
    }

    /// A PNG's size and normalised channel count, checked against the pixel limit.
    private struct Header {
        var width: Int, height: Int, channels: Int, limit: Int
    }

    /// Reads the header with libpng (nothing proportional to the image is allocated) and
    /// refuses what cannot be decoded within `maxPixels`.
    private static func readHeader(_ bytes: [UInt8], path: String, maxPixels: Int) throws(ImageError) -> Header {
        let limit = max(maxPixels, 0)
        var width: UInt32 = 0, height: UInt32 = 0, channels: Int32 = 0
        var message = CodecMessage()
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
        return Header(width: w, height: h, channels: c, limit: limit)
    }

    /// The fast path's image, or `nil` when it answers `CSTATUS_FAST_DECLINED`.
    private static func decodeFast(_ bytes: [UInt8], _ header: Header, path: String) throws(ImageError) -> Image? {
        // One spare byte per row lets the C side inflate straight into the pixel buffer.
        let run = runDecoder(header, spare: header.height) { out, count, message in
            bytes.withUnsafeBufferPointer { data in
                message.withBuffer {
                    cpng_decode_fast(data.baseAddress, data.count, UInt64(header.limit), out, count, $0, $1)
                }
            }
        }
        if run.status == CSTATUS_FAST_DECLINED { return nil }
        return try image(from: run, header, path: path)
    }

    /// The output of one `cpng_` decoder call.
    private struct DecoderRun {
        var status: Int32, message: CodecMessage, pixels: [UInt8]
    }

    /// Runs a `cpng_` decoder into a fresh pixel buffer of the header's size (left empty
    /// unless the decoder succeeds); `spare` more bytes of capacity are the decoder's scratch.
    private static func runDecoder(
        _ header: Header, spare: Int = 0,
        _ decoder: (UnsafeMutablePointer<UInt8>?, Int, inout CodecMessage) -> Int32
    ) -> DecoderRun {
        let count = header.width * header.height * header.channels
        var message = CodecMessage()
        var status: Int32 = CSTATUS_OK
        let pixels = [UInt8](unsafeUninitializedCapacity: count + spare) { out, initialised in
            status = decoder(out.baseAddress, count + spare, &message)
            initialised = status == CSTATUS_OK ? count : 0
        }
        return DecoderRun(status: status, message: message, pixels: pixels)
    }

    /// The decoded image, or the ``ImageError`` for the run's status.
    private static func image(from run: DecoderRun, _ header: Header, path: String) throws(ImageError) -> Image {
        try check(run.status, run.message, path: path, width: header.width, height: header.height, limit: header.limit)
        return Image(width: header.width, height: header.height, channels: header.channels, pixels: run.pixels)
    }

    /// Encodes an image as a non-interlaced 8-bit PNG (gray, gray+alpha, RGB or RGBA by
    /// channel count) with libpng's default filter choice.
    ///
    /// - Parameter compressionLevel: zlib level, 0 (none, fastest) to 9 (smallest);
    ///   values outside are clamped.
    /// - Throws: `.io` when the image is empty (PNG needs at least 1x1) or the encoder fails.
    ///   Errors carry an empty path; ``writeImage(_:path:options:)`` fills it in.
    public static func encode(_ image: Image, compressionLevel: Int = 6) throws(ImageError) -> [UInt8] {
        try requireWritable(image, path: "")
        guard let width = UInt32(exactly: image.width), let height = UInt32(exactly: image.height) else {
            throw .io(path: "", detail: "\(image.width)x\(image.height) is too large for PNG")
        }
        let level = Int32(min(max(compressionLevel, 0), 9))
        var message = CodecMessage()
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

    /// Maps a `cpng_` status to the matching ``ImageError``; returns on `CSTATUS_OK`.
    private static func check(_ status: Int32, _ message: CodecMessage, path: String,
                              width: Int, height: Int, limit: Int) throws(ImageError) {
        try CodecStatus(rawValue: status).check(message, path: path, format: "PNG", size: (width, height, limit),
                                                formatInDetail: false)
    }
}

/// Refuses to write an image no format here can hold: PNG and PNM both need 1x1 or more.
func requireWritable(_ image: Image, path: String) throws(ImageError) {
    guard image.width > 0, image.height > 0 else {
        throw .io(path: path, detail: "cannot write an empty \(image.width)x\(image.height) image")
    }
}
