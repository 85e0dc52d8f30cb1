/// Why an image could not be read or written.
///
/// Each case is one line for the user; the executable maps them all to exit code 3.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file has no bytes.
    case empty(path: String)
    /// The file ends before the image does.
    case truncated(path: String)
    /// The header or data is damaged; `detail` says what the decoder saw.
    case corrupt(path: String, detail: String)
    /// A known image format that bandsaw does not read (JPEG, GIF, ...).
    case unsupportedFormat(path: String, format: String)
    /// A file of a format bandsaw reads, in a layout it does not (a CMYK TIFF, an animated
    /// WebP, ...); `detail` names the layout.
    case unsupportedLayout(path: String, detail: String)
    /// The bytes are not any image format bandsaw recognises.
    case notAnImage(path: String)
    /// The header announces more pixels than the limit (a decompression bomb guard).
    case tooLarge(path: String, width: Int, height: Int, limit: Int)
    /// The output extension names no format bandsaw writes.
    case unknownOutputFormat(path: String)
    /// The operating system refused a read or write.
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case .empty(let p): return "\(p): file is empty"
        case .truncated(let p): return "\(p): file is truncated"
        case .corrupt(let p, let d): return "\(p): corrupt image (\(d))"
        case .unsupportedFormat(let p, let f): return "\(p): unsupported format \(f) (bandsaw reads \(ImageFormat.readableNames))"
        case .unsupportedLayout(let p, let d): return "\(p): \(d)"
        case .notAnImage(let p): return "\(p): not an image (bandsaw reads \(ImageFormat.readableNames))"
        case .tooLarge(let p, let w, let h, let l):
            return "\(p): \(w)x\(h) is \(w * h) pixels, over the limit of \(l) (raise it with --max-pixels)"
        case .unknownOutputFormat(let p): return "\(p): unknown output format (use \(ImageFormat.outputExtensionList))"
        case .io(let p, let d): return "\(p): \(d)"
        }
    }
}
