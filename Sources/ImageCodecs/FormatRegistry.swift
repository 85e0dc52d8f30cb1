import ImageCore

// MARK: - Public API

/// How images are encoded, beyond the format: what the command line's options set.
public struct EncodeOptions: Sendable, Equatable {
    /// zlib level 0...9 for PNG (clamped); the other formats ignore it.
    public var compressionLevel: Int
    /// JPEG quality 1...100 (nil: ``JPEGCodec/defaultQuality``); for WebP, lossy at this
    /// quality instead of lossless. PNG, PNM and TIFF are lossless and ignore it.
    public var quality: Int?

    public init(compressionLevel: Int = 6, quality: Int? = nil) {
        self.compressionLevel = compressionLevel
        self.quality = quality
    }
}

/// Reads and decodes the image file at `path`, whatever its extension says.
///
/// The format is sniffed from the first bytes: PNG, binary PGM/PPM (`P5`/`P6`), JPEG, TIFF
/// (classic and BigTIFF) and WebP are read; other recognised formats (GIF, BMP, ASCII PNM,
/// ...) are reported by name.
///
/// - Throws: `.io` when the file cannot be read (detail such as "no such file",
///   "permission denied", "is a directory"), and everything
///   ``decodeImage(bytes:path:maxPixels:)`` throws.
public func readImage(path: String, maxPixels: Int = ImageLimits.defaultMaxPixels,
                      autorotate: Bool = true) throws(ImageError) -> Image {
    try decodeImage(bytes: readFileBytes(path: path), path: path, maxPixels: maxPixels, autorotate: autorotate)
}

/// Decodes an image held in memory, sniffing its format from the first bytes.
///
/// - Parameters:
///   - path: Names the source in any error thrown.
///   - autorotate: Apply a JPEG's EXIF orientation (``JPEGCodec/decode(_:path:maxPixels:autorotate:)``).
/// - Throws: `.empty` for no bytes; `.unsupportedFormat` naming a recognised format that
///   bandsaw does not read; `.notAnImage` for anything unrecognised; `.truncated`,
///   `.corrupt`, `.unsupportedLayout` or `.tooLarge` from the decoders.
public func decodeImage(bytes: [UInt8], path: String, maxPixels: Int = ImageLimits.defaultMaxPixels,
                        autorotate: Bool = true) throws(ImageError) -> Image {
    guard !bytes.isEmpty else { throw .empty(path: path) }
    switch sniffFormat(bytes) {
    case .png: return try PNGCodec.decode(bytes, path: path, maxPixels: maxPixels)
    case .pnm: return try PNMCodec.decode(bytes, path: path, maxPixels: maxPixels)
    case .jpeg: return try JPEGCodec.decode(bytes, path: path, maxPixels: maxPixels, autorotate: autorotate)
    case .tiff: return try TIFFCodec.decode(bytes, path: path, maxPixels: maxPixels)
    case .webp: return try WebPCodec.decode(bytes, path: path, maxPixels: maxPixels)
    case .unsupported(let name): throw .unsupportedFormat(path: path, format: name)
    case .unknown: throw .notAnImage(path: path)
    }
}

/// Encodes an image in memory.
///
/// - Throws: `.io` (with an empty path) for an empty image, one too large for the format, or
///   an encoder failure.
public func encodeImage(_ image: Image, format: ImageFormat, options: EncodeOptions = EncodeOptions()) throws(ImageError) -> [UInt8] {
    switch format {
    case .png: return try PNGCodec.encode(image, compressionLevel: options.compressionLevel)
    case .pnm: return try PNMCodec.encode(image)
    case .jpeg: return try JPEGCodec.encode(image, quality: options.quality ?? JPEGCodec.defaultQuality)
    case .tiff: return try TIFFCodec.encode(image)
    case .webp: return try WebPCodec.encode(image, quality: options.quality)
    }
}

/// Encodes an image in memory with PNG's zlib level `compressionLevel` (0...9, clamped).
public func encodeImage(_ image: Image, format: ImageFormat, compressionLevel: Int) throws(ImageError) -> [UInt8] {
    try encodeImage(image, format: format, options: EncodeOptions(compressionLevel: compressionLevel))
}

/// Encodes an image in the format its extension names and writes it to `path` atomically.
///
/// The bytes go to a temporary file `.<name>.tmp-<pid>` in the same directory, which is
/// synced and then renamed over `path`; on any failure the temporary file is removed, so
/// a failed write never leaves a partial or half-replaced output.
///
/// - Throws: `.unknownOutputFormat` for an extension no format has (``ImageFormat/forOutput(path:)``);
///   `.io` when encoding fails or the system refuses the write.
public func writeImage(_ image: Image, path: String, options: EncodeOptions = EncodeOptions()) throws(ImageError) {
    let format = try ImageFormat.forOutput(path: path)
    let bytes: [UInt8]
    do {
        bytes = try encodeImage(image, format: format, options: options)
    } catch .io(_, let detail) {
        throw .io(path: path, detail: detail)
    }
    try writeFileAtomically(bytes, path: path)
}

// MARK: - Format sniffing

private enum SniffedFormat: Equatable {
    case png, pnm, jpeg, tiff, webp
    case unsupported(String)
    case unknown
}

private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

/// Formats recognised only to be refused by name: (name, byte offset, magic bytes).
private let refusedFormats: [(name: String, offset: Int, magic: [UInt8])] = [
    ("GIF", 0, Array("GIF8".utf8)),
    ("BMP", 0, Array("BM".utf8)),
    ("JPEG XL", 0, [0xFF, 0x0A]),
    ("JPEG XL", 0, [0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]),
    ("JPEG 2000", 0, [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]),
    ("AVIF", 4, Array("ftypavif".utf8)),
    ("HEIF", 4, Array("ftypheic".utf8)),
    ("QOI", 0, Array("qoif".utf8)),
    ("PSD", 0, Array("8BPS".utf8)),
    ("ASCII PBM (P1)", 0, Array("P1".utf8)),
    ("ASCII PGM (P2)", 0, Array("P2".utf8)),
    ("ASCII PPM (P3)", 0, Array("P3".utf8)),
    ("PBM bitmap (P4)", 0, Array("P4".utf8)),
    ("PAM (P7)", 0, Array("P7".utf8)),
]

/// Names the format of `bytes` from its magic number.
private func sniffFormat(_ bytes: [UInt8]) -> SniffedFormat {
    func has(_ magic: [UInt8], at offset: Int) -> Bool {
        bytes.count >= offset + magic.count && bytes[offset..<(offset + magic.count)].elementsEqual(magic)
    }
    // A signature cut short still goes to the PNG decoder, which reports it as truncated.
    if has(pngSignature, at: 0) || (bytes.count >= 4 && bytes.count < 8 && pngSignature.starts(with: bytes)) {
        return .png
    }
    if has(Array("P5".utf8), at: 0) || has(Array("P6".utf8), at: 0) { return .pnm }
    if has([0xFF, 0xD8, 0xFF], at: 0) { return .jpeg }
    if TIFFCodec.hasSignature(bytes) { return .tiff }
    if has(Array("RIFF".utf8), at: 0) && has(Array("WEBP".utf8), at: 8) { return .webp }
    for format in refusedFormats where has(format.magic, at: format.offset) {
        return .unsupported(format.name)
    }
    return .unknown
}
