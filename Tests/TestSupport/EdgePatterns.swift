import ImageCore

/// Gray images whose Canny edges are long chains of weak pixels that start from one strong
/// spot and snake through every band border many times: the worst case for hysteresis across
/// ranks, for the tests.
///
/// A corridor `pitch / 2` pixels wide at level ``pathLevel`` on a black background follows a
/// path; its first square is at ``seedLevel``. With canny's defaults (low 50, high 150) the
/// corridor's sides are weak (a step of 24 gives an L1 Sobel magnitude of 96) and only the
/// seed's are strong (384), so every edge pixel far from the seed is there only because the
/// chain from the seed reached it.
public enum EdgePatterns {
    /// The corridor's level over the black background.
    public static let pathLevel: UInt8 = 24
    /// The level of the corridor's first square, the only strong edges.
    public static let seedLevel: UInt8 = 96

    /// Vertical stripes joined alternately at the bottom and the top (a boustrophedon): each
    /// stripe crosses every horizontal band border once, in turn.
    public static func serpentine(width: Int, height: Int, pitch: Int = 6) -> Image {
        let thickness = pitch / 2
        let top = 1, bottom = height - 1 - thickness
        var points: [(Int, Int)] = []
        var x = 1, down = true
        while x + thickness < width - 1 {
            points += down ? [(x, top), (x, bottom)] : [(x, bottom), (x, top)]
            down.toggle()
            x += pitch
        }
        return corridor(width: width, height: height, along: points, thickness: thickness)
    }

    /// A comb: a spine along the top with teeth hanging from it to the bottom. The corridor's
    /// outline is one chain that runs down and up every tooth, so it crosses every horizontal
    /// band border twice per tooth while the corridor itself stays connected along the spine.
    public static func comb(width: Int, height: Int, pitch: Int = 6) -> Image {
        let thickness = pitch / 2
        let top = 1, bottom = height - 1 - thickness
        var points: [(Int, Int)] = []
        var x = 1
        // Along the spine, down each tooth and back up the same way (a path may retrace itself).
        while x + thickness < width - 1 {
            points += [(x, top), (x, bottom), (x, top)]
            x += pitch
        }
        return corridor(width: width, height: height, along: points, thickness: thickness)
    }

    /// A rectangular spiral from the top left corner inwards: every turn crosses each band
    /// border twice (down the right side, up the left).
    public static func spiral(width: Int, height: Int, pitch: Int = 6) -> Image {
        let thickness = pitch / 2
        var (left, top, right, bottom) = (1, 1, width - 1 - thickness, height - 1 - thickness)
        var points = [(left, top)]
        while right - left >= pitch && bottom - top >= pitch {
            points += [(right, top), (right, bottom), (left, bottom)]
            top += pitch
            points.append((left, top))
            left += pitch; right -= pitch; bottom -= pitch
        }
        return corridor(width: width, height: height, along: points, thickness: thickness)
    }

    /// Draws the corridor: each leg between consecutive points as a `thickness`-wide rectangle
    /// from the one point to the other, then the seed square at the first point.
    private static func corridor(width: Int, height: Int, along points: [(Int, Int)], thickness: Int) -> Image {
        precondition(width >= 4 && height >= 4 && thickness >= 1, "pattern too small")
        var image = Image(width: width, height: height, channels: 1)
        func fill(_ xs: Range<Int>, _ ys: Range<Int>, _ level: UInt8) {
            for y in ys.clamped(to: 0..<height) {
                for x in xs.clamped(to: 0..<width) { image.pixels[y * width + x] = level }
            }
        }
        for (a, b) in zip(points, points.dropFirst()) {
            fill(min(a.0, b.0)..<(max(a.0, b.0) + thickness), min(a.1, b.1)..<(max(a.1, b.1) + thickness), pathLevel)
        }
        if let (x, y) = points.first { fill(x..<(x + thickness), y..<(y + thickness), seedLevel) }
        return image
    }
}
