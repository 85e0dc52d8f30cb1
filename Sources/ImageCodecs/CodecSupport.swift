import ImageCore
import CCodecs
import CStatus

// MARK: - Messages from the C doors

/// The fixed-size buffer the C doors (`cpng_`, `ccodec_`) copy a library's error message into.
struct CodecMessage {
    private var bytes = [CChar](repeating: 0, count: 256)

    /// Runs `body` with the buffer's address and capacity, as the C functions take them.
    mutating func withBuffer<R>(_ body: (UnsafeMutablePointer<CChar>, Int) -> R) -> R {
        bytes.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    }

    /// The message as text (the C side always NUL-terminates it).
    var text: String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

// MARK: - Status codes

/// A status code of the C doors: the one `CSTATUS_*` family (`cstatus.h`) every `cpng_` and
/// `ccodec_` function returns, and the one mapping from it to ``ImageError``.
struct CodecStatus: RawRepresentable, Equatable, Sendable {
    var rawValue: Int32
    init(rawValue: Int32) { self.rawValue = rawValue }

    /// `CSTATUS_OK`.
    static let ok = CodecStatus(rawValue: CSTATUS_OK)
    /// `CSTATUS_NOT_FORMAT`: the bytes are not in the format asked for.
    static let notFormat = CodecStatus(rawValue: CSTATUS_NOT_FORMAT)
    /// `CSTATUS_TRUNCATED`: the data ends before the image does.
    static let truncated = CodecStatus(rawValue: CSTATUS_TRUNCATED)
    /// `CSTATUS_CORRUPT`: a damaged header or data.
    static let corrupt = CodecStatus(rawValue: CSTATUS_CORRUPT)
    /// `CSTATUS_TOO_LARGE`: over the pixel limit.
    static let tooLarge = CodecStatus(rawValue: CSTATUS_TOO_LARGE)
    /// `CSTATUS_NO_MEMORY`: an allocation failed.
    static let noMemory = CodecStatus(rawValue: CSTATUS_NO_MEMORY)
    /// `CSTATUS_WRITE_FAILED`: the encoder could not produce its output.
    static let writeFailed = CodecStatus(rawValue: CSTATUS_WRITE_FAILED)
    /// `CSTATUS_BAD_ARGUMENT`: an impossible argument.
    static let badArgument = CodecStatus(rawValue: CSTATUS_BAD_ARGUMENT)
    /// `CSTATUS_UNSUPPORTED`: a valid file in a layout bandsaw does not read.
    static let unsupported = CodecStatus(rawValue: CSTATUS_UNSUPPORTED)
    /// `CSTATUS_FAST_DECLINED`: not a layout the PNG fast path takes (libpng decodes it).
    static let fastDeclined = CodecStatus(rawValue: CSTATUS_FAST_DECLINED)
    /// `CSTATUS_NO_RESTART`: not decodable by restart segments (decoded whole instead).
    static let noRestart = CodecStatus(rawValue: CSTATUS_NO_RESTART)

    /// Returns on `.ok`; throws the ``ImageError`` the status means otherwise.
    ///
    /// - Parameters:
    ///   - message: The library's message, copied out by the C door.
    ///   - format: Names the format in messages ("PNG", "JPEG", "TIFF", "WebP").
    ///   - size: The image's size and the limit, for `.tooLarge`.
    ///   - formatInDetail: Prefix a corrupt file's detail with the format's name. libpng's
    ///     messages speak in PNG's own terms (chunks, CRCs) and are shown as they are.
    func check(_ message: CodecMessage, path: String, format: String,
               size: (width: Int, height: Int, limit: Int) = (0, 0, 0), formatInDetail: Bool = true) throws(ImageError) {
        switch self {
        case .ok: return
        case .notFormat: throw .notAnImage(path: path)
        case .truncated: throw .truncated(path: path)
        case .tooLarge: throw .tooLarge(path: path, width: size.width, height: size.height, limit: size.limit)
        case .noMemory: throw .io(path: path, detail: "out of memory (\(message.text))")
        case .writeFailed: throw .io(path: path, detail: "\(format) encoding failed: \(message.text)")
        // Decoders and encoders both refuse impossible requests (a band without its context
        // rows): say what was refused, not that an encode failed.
        case .badArgument: throw .io(path: path, detail: "\(format) codec refused the request: \(message.text)")
        case .unsupported: throw .unsupportedLayout(path: path, detail: message.text)
        default: throw .corrupt(path: path, detail: formatInDetail ? "\(format): \(message.text)" : message.text)
        }
    }
}

/// Calls into the CCodecs C target, shared by the JPEG, WebP and TIFF codecs: the status
/// check, the header check against the pixel limit, and the buffers that cross the door.
enum CCodec {
    /// Maps a `ccodec_` status to the matching ``ImageError`` (``CodecStatus/check(_:path:format:size:formatInDetail:)``);
    /// returns on `CSTATUS_OK`.
    static func check(_ status: Int32, _ message: CodecMessage, path: String, format: String,
                      size: (width: Int, height: Int, limit: Int) = (0, 0, 0)) throws(ImageError) {
        try CodecStatus(rawValue: status).check(message, path: path, format: format, size: size)
    }

    /// Reads a header with `reader` and refuses it when its `width * height` is over
    /// `maxPixels` (checked in 64 bits before anything the size of the image is allocated).
    static func header(path: String, format: String, maxPixels: Int,
                       _ reader: (inout ccodec_info, UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImageError) -> ccodec_info {
        var info = ccodec_info()
        var message = CodecMessage()
        let status = message.withBuffer { reader(&info, $0, $1) }
        let limit = max(maxPixels, 0)
        let w = Int(info.width), h = Int(info.height)
        try check(status, message, path: path, format: format, size: (w, h, limit))
        let (area, overflow) = w.multipliedReportingOverflow(by: h)
        guard !overflow, area <= limit else { throw .tooLarge(path: path, width: w, height: h, limit: limit) }
        guard w > 0, h > 0, (1...4).contains(Int(info.channels)) else {
            throw .corrupt(path: path, detail: "\(format) header describes an empty or odd image")
        }
        return info
    }

    /// The image a `ccodec_` decoder writes into a fresh buffer of `info`'s size (with
    /// `channels` per pixel), or the ``ImageError`` for its status.
    static func decode(_ info: ccodec_info, channels: Int? = nil, path: String, format: String, limit: Int,
                       _ decoder: (UnsafeMutablePointer<UInt8>?, Int, UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImageError) -> Image {
        let width = Int(info.width), height = Int(info.height), c = channels ?? Int(info.channels)
        let count = width * height * c
        var message = CodecMessage()
        var status = CodecStatus.ok.rawValue
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialised in
            status = message.withBuffer { decoder(out.baseAddress, count, $0, $1) }
            initialised = status == CodecStatus.ok.rawValue ? count : 0
        }
        try check(status, message, path: path, format: format, size: (width, height, limit))
        return Image(width: width, height: height, channels: c, pixels: pixels)
    }

    /// The bytes a `ccodec_` encoder returns (a malloc'd buffer, released here), or the
    /// ``ImageError`` for its status (with an empty path: the writer fills it in).
    static func encode(format: String,
                       _ encoder: (inout UnsafeMutablePointer<UInt8>?, inout Int, UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImageError) -> [UInt8] {
        var message = CodecMessage()
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = message.withBuffer { encoder(&output, &length, $0, $1) }
        defer { ccodec_free(output) }
        try check(status, message, path: "", format: format)
        guard let output else { throw .io(path: "", detail: "\(format) encoder produced no output") }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }

    /// Checks that an image fits a format's side limit before it is handed to the encoder.
    static func requireSides(_ image: Image, max side: Int, format: String) throws(ImageError) {
        try requireWritable(image, path: "")
        guard image.width <= side, image.height <= side else {
            throw .io(path: "", detail: "\(image.width)x\(image.height) is too large for \(format) (at most \(side) pixels a side)")
        }
    }
}
