import ImageCore

// MARK: - What the SPMD engine asks of the codecs to share an image's decode or encode

extension PNMCodec {
    /// The header of a binary PGM/PPM at `path` that ranks can read by rows (the samples at a
    /// fixed offset, every row there), nil for any other file, which is read whole as usual.
    /// Reads at most the file's first 64 KiB.
    ///
    /// - Throws: What the whole-file decoder would throw for a bad header, or `.truncated` for
    ///   a file that ends before its last sample.
    public static func rowReadableHeader(path: String, maxPixels: Int) throws(ImageError) -> Header? {
        let (prefix, size) = try readFilePrefix(path: path, limit: 1 << 16)
        guard prefix.count >= 2, prefix[0] == UInt8(ascii: "P"),
              prefix[1] == UInt8(ascii: "5") || prefix[1] == UInt8(ascii: "6") else {
            return nil
        }
        let found: Header
        do throws(ImageError) {
            found = try header(prefix, path: path, maxPixels: maxPixels)
        } catch .truncated where size > prefix.count {
            return nil  // a header longer than the prefix (comments): the whole-file reader takes it
        }
        guard size - found.dataOffset >= found.height * found.fileRowBytes else { throw .truncated(path: path) }
        return found
    }
}

extension TIFFCodec {
    /// The first page of the TIFF at `path`, opened and checked (layout and size), nil when
    /// the file does not start like a TIFF.
    public static func openIfTIFF(path: String, maxPixels: Int) throws(ImageError) -> Reader? {
        guard hasSignature(try readFilePrefix(path: path, limit: 4).bytes) else { return nil }
        return try Reader(path: path, maxPixels: maxPixels)
    }
}

extension PNGRestart {
    /// The Adler-32 of consecutive pieces from each piece's own Adler-32 and length.
    public static func combine(_ pieces: [(adler: UInt32, length: Int)]) -> UInt32 {
        pieces.reduce(1) { combine($0, $1.adler, lengthOfB: $1.length) }
    }
}

extension PNGBandEncoder {
    /// One PNG from the deflated bands of consecutive row ranges, as ranks produce them
    /// (``deflate(_:previousRow:restartRows:compressionLevel:)``): `compressed` holds the
    /// pieces end to end, `sizes` their lengths, and `restartOffsets[k]` where piece `k`'s
    /// segments start inside it. The restart layout is the one bandsaw writes for `height`.
    public static func stitch(width: Int, height: Int, channels: Int, compressed: [UInt8], sizes: [Int],
                              adlers: [UInt32], rawLengths: [UInt64], restartOffsets: [[Int]]) -> [UInt8] {
        var segmentStarts: [Int] = []
        var pieceStart = 0
        for (size, offsets) in zip(sizes, restartOffsets) {
            segmentStarts += offsets.map { pieceStart + $0 }
            pieceStart += size
        }
        return assemble(width: width, height: height, channels: channels, compressed: compressed, adlers: adlers,
                        rawLengths: rawLengths, restart: RestartLayout.forWriting(height: height),
                        segmentStarts: segmentStarts)
    }
}
