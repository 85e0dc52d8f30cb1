// The names of the formats bandsaw reads and writes, and the bounds on what it decodes: the
// vocabulary the errors, the codecs and the command line share (the codecs themselves are in
// ImageCodecs).

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

/// The last path component.
package func fileName(of path: String) -> Substring {
    guard let slash = path.lastIndex(of: "/") else { return path[...] }
    return path[path.index(after: slash)...]
}
