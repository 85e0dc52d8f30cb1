import ImageCore

// MARK: - Channel layouts for formats that lack one

extension Image {
    /// The image without its alpha channel (gray+alpha becomes gray, RGBA becomes RGB), for
    /// formats with no alpha (JPEG); itself when it has none.
    public func withoutAlpha() -> Image {
        guard channels == 2 || channels == 4 else { return self }
        let kept = channels - 1
        var out = [UInt8](repeating: 0, count: width * height * kept)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    for c in 0..<kept { dst[i * kept + c] = src[i * channels + c] }
                }
            }
        }
        return Image(width: width, height: height, channels: kept, pixels: out)
    }

    /// The image in colour (gray becomes RGB, gray+alpha becomes RGBA), for formats with no
    /// gray (WebP); itself when it is in colour already.
    public func withColour() -> Image {
        guard channels <= 2 else { return self }
        let wide = channels + 2
        var out = [UInt8](repeating: 0, count: width * height * wide)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    let v = src[i * channels]
                    dst[i * wide] = v; dst[i * wide + 1] = v; dst[i * wide + 2] = v
                    if wide == 4 { dst[i * wide + 3] = src[i * channels + 1] }
                }
            }
        }
        return Image(width: width, height: height, channels: wide, pixels: out)
    }
}
