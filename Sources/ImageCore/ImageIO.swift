#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Public API

/// Bounds applied to every decoded image.
public enum ImageLimits {
    /// Largest `width * height` read by default: 2^28, about 268 megapixels (1 GiB as RGBA).
    /// A header over the limit is refused before any pixel memory is allocated.
    public static let defaultMaxPixels = 1 << 28
}

/// The formats bandsaw reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
    /// PNG, 8-bit, through libpng.
    case png
    /// Binary PGM (`P5`) or PPM (`P6`), chosen by channel count.
    case pnm
    /// JPEG (JFIF), through libjpeg-turbo: gray or RGB, alpha dropped; lossy (`--quality`).
    case jpeg
    /// TIFF, through libtiff: Deflate-compressed, lossless, every channel layout kept.
    case tiff
    /// WebP, through libwebp: lossless, or lossy with `--quality`; gray written as RGB.
    case webp

    /// The file extensions of each format, the first the usual one (lower case, no dot).
    public var extensions: [String] {
        switch self {
        case .png: return ["png"]
        case .pnm: return ["pgm", "ppm", "pnm"]
        case .jpeg: return ["jpg", "jpeg"]
        case .tiff: return ["tif", "tiff"]
        case .webp: return ["webp"]
        }
    }

    /// Every extension bandsaw reads and writes (what a folder input is filtered by).
    public static let allExtensions: [String] = allCases.flatMap(\.extensions)

    /// What reading and writing the format keeps and drops, one line (for `bandsaw ops`).
    public var summary: String {
        switch self {
        case .png: return "every colour type and bit depth read (16-bit scaled to 8); written 8-bit, alpha kept, lossless"
        case .pnm: return "binary P5/P6, maxval up to 65535 read (scaled to 8 bits); written 8-bit; alpha dropped"
        case .jpeg: return "baseline/progressive, gray, YCbCr, CMYK/YCCK (to RGB), EXIF orientation applied; "
            + "written gray or RGB at --quality (90), alpha dropped; metadata not kept"
        case .tiff: return "first page; 8/16-bit gray, gray+alpha, RGB, RGBA, 8-bit palette; strips or tiles; BigTIFF; "
            + "written 8-bit Deflate, alpha kept, lossless; metadata not kept"
        case .webp: return "lossy and lossless, alpha kept; written lossless (gray as RGB), or lossy with --quality"
        }
    }

    /// "PNG, PGM, PPM, JPEG, TIFF and WebP", for messages.
    public static let readableNames = "PNG, PGM, PPM, JPEG, TIFF and WebP"

    /// ".png, .pgm, ... or .webp", for messages.
    static var outputExtensionList: String {
        let all = allExtensions.map { "." + $0 }
        return all.dropLast().joined(separator: ", ") + " or " + all.last!
    }

    /// The format named by the extension of `path`'s last component, ignoring case:
    /// `.png`; `.pgm`, `.ppm`, `.pnm`; `.jpg`, `.jpeg`; `.tif`, `.tiff`; `.webp`.
    ///
    /// - Throws: `.unknownOutputFormat` for any other extension, or none.
    public static func forOutput(path: String) throws(ImageError) -> ImageFormat {
        let name = fileName(of: path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else {
            throw .unknownOutputFormat(path: path)
        }
        let ext = name[name.index(after: dot)...].lowercased()
        guard let format = allCases.first(where: { $0.extensions.contains(ext) }) else {
            throw .unknownOutputFormat(path: path)
        }
        return format
    }
}

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

// MARK: - Files

/// The last path component.
private func fileName(of path: String) -> Substring {
    guard let slash = path.lastIndex(of: "/") else { return path[...] }
    return path[path.index(after: slash)...]
}

/// A short, lower-case reason for an errno value, for `.io` details.
private func reason(_ code: Int32) -> String {
    switch code {
    case ENOENT: return "no such file"
    case EACCES, EPERM: return "permission denied"
    case EISDIR: return "is a directory"
    case ENOTDIR: return "a parent is not a directory"
    case ENOSPC: return "no space left on device"
    case EROFS: return "read-only file system"
    default: return String(cString: strerror(code))
    }
}

/// The whole contents of the file at `path`, undecoded (for decoders that split the work,
/// such as ``PNGRestart``).
///
/// - Throws: `.io` when the file cannot be read, with a detail such as "no such file".
public func readFileBytes(path: String) throws(ImageError) -> [UInt8] {
    let (fd, size) = try openForReading(path)
    defer { close(fd) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(size)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { return bytes }
        if n < 0 {
            if errno == EINTR { continue }
            throw .io(path: path, detail: "cannot read: \(reason(errno))")
        }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it into place;
/// removes the temporary file on any failure.
public func writeFileAtomically(_ bytes: [UInt8], path: String) throws(ImageError) {
    try commitTemporary(writeTemporaryFile(bytes, for: path), to: path)
}

/// The first half of ``writeFileAtomically(_:path:)``: writes and syncs `bytes` to the
/// temporary file beside `path` (``temporaryPath(for:)``) and returns its name; removes it on
/// failure. ``commitTemporary(_:to:)`` finishes, or the caller unlinks it.
public func writeTemporaryFile(_ bytes: [UInt8], for path: String) throws(ImageError) -> String {
    let temporary = temporaryPath(for: path)

    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw .io(path: path, detail: "cannot write: \(reason(errno))") }
    var failure: Int32 = 0
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            done += n
        }
    }
    if failure == 0, fsync(fd) != 0 { failure = errno }
    if close(fd) != 0, failure == 0 { failure = errno }
    if failure != 0 {
        unlink(temporary)
        throw .io(path: path, detail: "cannot write: \(reason(failure))")
    }
    return temporary
}

/// The temporary file an output is written to before it is renamed into place:
/// `.<name>.tmp-<pid>` beside `path`.
public func temporaryPath(for path: String) -> String {
    let name = fileName(of: path)
    let directory = path.dropLast(name.count)  // "" or ends with "/"
    return "\(directory).\(name).tmp-\(getpid())"
}

/// Renames a finished temporary file over `path`; removes it when that fails.
public func commitTemporary(_ temporary: String, to path: String) throws(ImageError) {
    guard rename(temporary, path) == 0 else {
        let failure = errno
        unlink(temporary)
        throw .io(path: path, detail: "cannot write: \(reason(failure))")
    }
}

/// Creates (or empties) the file at `path` for writing, then closes it.
public func createEmptyFile(_ path: String) throws(ImageError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw .io(path: path, detail: "cannot write: \(reason(errno))") }
    close(fd)
}

/// The first `limit` bytes of the file at `path` (fewer when it is shorter) and its size.
public func readFilePrefix(path: String, limit: Int) throws(ImageError) -> (bytes: [UInt8], size: Int) {
    let (fd, size) = try openForReading(path)
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: limit)
    var done = 0
    while done < limit {
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, limit - done, off_t(done)) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }
            throw .io(path: path, detail: "cannot read: \(reason(errno))")
        }
        done += n
    }
    return (Array(bytes[0..<done]), size)
}

/// Opens a file to read and returns the descriptor and the file's size; refuses a directory.
private func openForReading(_ path: String) throws(ImageError) -> (fd: Int32, size: Int) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, detail: "cannot read: \(reason(errno))") }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
        let failure = errno
        close(fd)
        throw .io(path: path, detail: "cannot read: \(reason(failure))")
    }
    // open(2) succeeds on a directory; say so rather than fail later with EISDIR from read(2).
    guard info.st_mode & 0o170000 != 0o040000 else {
        close(fd)
        throw .io(path: path, detail: "cannot read: is a directory")
    }
    return (fd, max(Int(info.st_size), 0))
}

/// Whether this process can open `path` for reading (`write`: for writing), without changing it.
public func canOpen(_ path: String, write: Bool = false) -> Bool {
    let fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC)
    guard fd >= 0 else { return false }
    close(fd)
    return true
}
