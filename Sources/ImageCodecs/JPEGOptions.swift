import ImageCore
import CCodecs
import CStatus

/// The libjpeg settings a JPEG can be written with, beyond the ones bandsaw uses: for tests
/// and benchmarks that need files as other encoders write them (other samplings, restart
/// intervals, optimised tables, progressive).
@_spi(Testing) public struct JPEGEncodeOptions: Sendable {
    /// 1...100.
    public var quality = JPEGCodec.defaultQuality
    /// The luma sampling factors of colour files: (2, 2) is 4:2:0, (2, 1) 4:2:2, (1, 2) 4:4:0, (1, 1) 4:4:4.
    public var sampling = (h: 2, v: 2)
    /// A restart marker every this many MCU rows (0: none).
    public var restartRows = 0
    /// Or every this many MCUs, when `restartRows` is 0 (0: none).
    public var restartBlocks = 0
    /// Huffman tables fitted to the image.
    public var optimize = false
    /// A progressive file.
    public var progressive = false

    public init(quality: Int = JPEGCodec.defaultQuality, sampling: (h: Int, v: Int) = (2, 2), restartRows: Int = 0,
                restartBlocks: Int = 0, optimize: Bool = false, progressive: Bool = false) {
        self.quality = quality; self.sampling = sampling; self.restartRows = restartRows
        self.restartBlocks = restartBlocks; self.optimize = optimize; self.progressive = progressive
    }

    /// bandsaw's own: what ``JPEGCodec/encode(_:quality:)`` writes.
    public static func bandsaw(quality: Int = JPEGCodec.defaultQuality) -> JPEGEncodeOptions {
        JPEGEncodeOptions(quality: quality, restartRows: 1)
    }
}

extension JPEGCodec {
    /// Encodes gray or RGB (alpha dropped) with libjpeg in one serial pass and `options`.
    @_spi(Testing) public static func encode(_ image: Image, options: JPEGEncodeOptions) throws(ImageError) -> [UInt8] {
        try CCodec.requireSides(image, max: 65500, format: "JPEG")
        let opaque = image.withoutAlpha()
        var raw = ccodec_jpeg_options(quality: Int32(options.quality), h_samp: Int32(options.sampling.h),
                                      v_samp: Int32(options.sampling.v), restart_rows: Int32(options.restartRows),
                                      restart_blocks: Int32(options.restartBlocks), optimize: options.optimize ? 1 : 0,
                                      progressive: options.progressive ? 1 : 0)
        return try CCodec.encode(format: "JPEG") { out, count, msg, len in
            opaque.pixels.withUnsafeBufferPointer {
                ccodec_jpeg_encode_options($0.baseAddress, UInt32(opaque.width), UInt32(opaque.height),
                                           Int32(opaque.channels), &raw, &out, &count, msg, len)
            }
        }
    }
}
