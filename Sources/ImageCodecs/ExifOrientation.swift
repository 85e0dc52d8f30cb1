import ImageCore

// MARK: - EXIF orientation

/// The EXIF orientation of a photo (TIFF tag 274): how the stored pixels must be turned to
/// show the picture upright. Cameras store the sensor's rows and set this flag instead of
/// rotating the pixels.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    /// 1: stored upright.
    case up = 1
    /// 2: mirrored left to right.
    case mirrored = 2
    /// 3: upside down.
    case down = 3
    /// 4: mirrored top to bottom.
    case downMirrored = 4
    /// 5: mirrored along the main diagonal (transpose).
    case leftMirrored = 5
    /// 6: turned 90 degrees counter-clockwise; shown turned 90 degrees clockwise.
    case right = 6
    /// 7: mirrored along the other diagonal (transverse).
    case rightMirrored = 7
    /// 8: turned 90 degrees clockwise; shown turned 90 degrees counter-clockwise.
    case left = 8

    /// The orientation a JPEG's EXIF block (APP1 `Exif`) states, or `.up` when it has none or
    /// it cannot be read. Reads only the markers before the first scan, bounds-checked.
    public init(jpeg bytes: [UInt8]) {
        self = Self.read(bytes) ?? .up
    }

    private static func read(_ b: [UInt8]) -> ExifOrientation? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var pos = 2
        while pos + 4 <= b.count {
            guard b[pos] == 0xFF else { return nil }
            let marker = b[pos + 1]
            if marker == 0xFF { pos += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { pos += 2; continue }
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan, end of image
            let length = Int(b[pos + 2]) << 8 | Int(b[pos + 3])
            let data = pos + 4, end = pos + 2 + length
            guard length >= 2, end <= b.count else { return nil }
            let exif: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
            if marker == 0xE1, end - data >= 6, b[data..<(data + 6)].elementsEqual(exif) {
                return tiffOrientation(b, start: data + 6, end: end)
            }
            pos = end
        }
        return nil
    }

    /// Tag 274 of IFD0 of the TIFF structure in `b[start..<end]`.
    private static func tiffOrientation(_ b: [UInt8], start: Int, end: Int) -> ExifOrientation? {
        guard end - start >= 8 else { return nil }
        let little: Bool
        switch (b[start], b[start + 1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= start, at + 2 <= end else { return nil }
            return little ? Int(b[at]) | Int(b[at + 1]) << 8 : Int(b[at]) << 8 | Int(b[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let lo = u16(little ? at : at + 2), let hi = u16(little ? at + 2 : at) else { return nil }
            return hi << 16 | lo
        }
        guard u16(start + 2) == 42, let ifd = u32(start + 4), let entries = u16(start + ifd) else { return nil }
        for i in 0..<entries {
            let entry = start + ifd + 2 + 12 * i
            guard let tag = u16(entry) else { return nil }
            // SHORT (type 3), one value, held in the first two bytes of the value field.
            if tag == 274, u16(entry + 2) == 3, let value = u16(entry + 8) { return ExifOrientation(rawValue: value) }
        }
        return nil
    }
}

extension Image {
    /// The image turned and mirrored upright from `orientation` (as a viewer shows it; what
    /// Pillow's `ImageOps.exif_transpose` gives). Orientations 5...8 swap width and height.
    public func oriented(_ orientation: ExifOrientation) -> Image {
        if orientation == .up { return self }
        let w = width, h = height, c = channels
        let swaps = orientation.rawValue >= 5
        let ow = swaps ? h : w, oh = swaps ? w : h
        // Where output pixel (x, y) comes from in the stored image.
        let source: (Int, Int) -> Int
        switch orientation {
        case .up: source = { x, y in y * w + x }
        case .mirrored: source = { x, y in y * w + (w - 1 - x) }
        case .down: source = { x, y in (h - 1 - y) * w + (w - 1 - x) }
        case .downMirrored: source = { x, y in (h - 1 - y) * w + x }
        case .leftMirrored: source = { x, y in x * w + y }
        case .right: source = { x, y in (h - 1 - x) * w + y }
        case .rightMirrored: source = { x, y in (h - 1 - x) * w + (w - 1 - y) }
        case .left: source = { x, y in x * w + (w - 1 - y) }
        }
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let from = source(x, y) * c, to = (y * ow + x) * c
                        for k in 0..<c { dst[to + k] = src[from + k] }
                    }
                }
            }
        }
        return Image(width: ow, height: oh, channels: c, pixels: out)
    }
}
