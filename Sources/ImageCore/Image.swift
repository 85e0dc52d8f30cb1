/// An 8-bit image with interleaved channels, stored row after row with no padding.
///
/// Every input is normalised to this one layout on load (palette, 16-bit, interlaced and
/// low-bit-depth PNGs included), so the kernels need to handle exactly one sample type.
/// Channel counts: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
public struct Image: Equatable, Sendable {
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Interleaved samples per pixel: 1...4.
    public var channels: Int
    /// `height` rows of `width * channels` bytes.
    public var pixels: [UInt8]

    /// Bytes in one row.
    @inlinable public var rowBytes: Int { width * channels }

    /// Wraps existing samples; `pixels.count` must be `width * height * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && (1...4).contains(channels), "bad image shape")
        precondition(pixels.count == width * height * channels, "pixel count does not match shape")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A zero-filled image.
    public init(width: Int, height: Int, channels: Int) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: 0, count: width * height * channels))
    }

    /// The whole image as a band starting at row 0, the form the kernels take.
    public var asBand: Band {
        Band(width: width, channels: channels, imageHeight: height, firstRow: 0, pixels: pixels)
    }

    /// The rows `rows` as a band of this image (no copy beyond the slice).
    public func band(rows: Range<Int>) -> Band {
        let lo = rows.lowerBound * rowBytes, hi = rows.upperBound * rowBytes
        return Band(width: width, channels: channels, imageHeight: height,
                    firstRow: rows.lowerBound, pixels: Array(pixels[lo..<hi]))
    }
}

/// A run of consecutive rows of an image, with the image's full height kept alongside.
///
/// The kernels work on bands, not images: the full height tells them where the real image
/// edges are (where the border rule applies) as opposed to the band's own cut edges (where
/// halo rows must be present). That one distinction is what makes banded output equal
/// whole-image output bit for bit.
public struct Band: Equatable, Sendable {
    /// Columns (the same for every band of an image).
    public var width: Int
    /// Interleaved samples per pixel: 1...4.
    public var channels: Int
    /// Height of the whole image this band belongs to.
    public var imageHeight: Int
    /// Image row index of the band's first row.
    public var firstRow: Int
    /// `rowCount` rows of `width * channels` bytes.
    public var pixels: [UInt8]

    public init(width: Int, channels: Int, imageHeight: Int, firstRow: Int, pixels: [UInt8]) {
        precondition(width >= 0 && (1...4).contains(channels), "bad band shape")
        precondition(width == 0 || pixels.count % (width * channels) == 0, "ragged band")
        self.width = width
        self.channels = channels
        self.imageHeight = imageHeight
        self.firstRow = firstRow
        self.pixels = pixels
        precondition(firstRow >= 0 && firstRow + rowCount <= max(imageHeight, firstRow),
                     "band rows outside the image")
    }

    /// Bytes in one row.
    @inlinable public var rowBytes: Int { width * channels }
    /// Rows held.
    @inlinable public var rowCount: Int { rowBytes == 0 ? 0 : pixels.count / rowBytes }
    /// Image rows held.
    @inlinable public var rows: Range<Int> { firstRow..<(firstRow + rowCount) }

    /// The rows `range` (which must lie inside `rows`) as a new band.
    public func slice(rows range: Range<Int>) -> Band {
        precondition(range.isEmpty || (range.lowerBound >= firstRow && range.upperBound <= rows.upperBound),
                     "slice outside band")
        if range.isEmpty {
            return Band(width: width, channels: channels, imageHeight: imageHeight,
                        firstRow: range.lowerBound, pixels: [])
        }
        let lo = (range.lowerBound - firstRow) * rowBytes, hi = (range.upperBound - firstRow) * rowBytes
        return Band(width: width, channels: channels, imageHeight: imageHeight,
                    firstRow: range.lowerBound, pixels: Array(pixels[lo..<hi]))
    }

    /// A whole image, when the band holds every row.
    public var asImage: Image {
        precondition(firstRow == 0 && rowCount == imageHeight, "band is not the whole image")
        return Image(width: width, height: imageHeight, channels: channels, pixels: pixels)
    }
}
