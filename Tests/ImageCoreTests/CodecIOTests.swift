import Foundation
import ImageCore
import ImageCodecs
import PropertyBased
import TestSupport
import Testing

@Suite("Image I/O")
struct CodecIOTests {
    // MARK: - Reading and sniffing

    @Test("bad inputs throw the expected error", arguments: [
        ("bad/empty.png", ImageError.empty(path: "")),
        ("bad/signature-only.png", .truncated(path: "")),
        ("bad/truncated.png", .truncated(path: "")),
        ("bad/truncated.ppm", .truncated(path: "")),
        ("bad/tiny.gif", .unsupportedFormat(path: "", format: "GIF")),
        ("bad/ascii.pgm", .unsupportedFormat(path: "", format: "ASCII PGM (P2)")),
        ("bad/notes.txt", .notAnImage(path: "")),
        ("bad/bomb.png", .tooLarge(path: "", width: 100_000, height: 100_000, limit: ImageLimits.defaultMaxPixels)),
    ])
    func badInput(file: String, expected: ImageError) {
        let path = CodecFixtures.path(file)
        #expect(throws: expected.with(path: path)) { try readImage(path: path) }
    }

    @Test("damaged PNG data is corrupt, with libpng's reason", arguments: ["bad/bad-crc.png", "bad/garbage-idat.png"])
    func corrupt(file: String) {
        expectImageError({ _ = try readImage(path: CodecFixtures.path(file)) }) {
            if case .corrupt(_, let detail) = $0 { !detail.isEmpty } else { false }
        }
    }

    @Test("the bomb is refused at the header, fast")
    func bombIsCheap() {
        let elapsed = ContinuousClock().measure {
            for _ in 0..<100 { _ = try? readImage(path: CodecFixtures.path("bad/bomb.png")) }
        }
        #expect(elapsed < .seconds(1))
    }

    @Test("a raised pixel limit still refuses what the PNG cannot back up")
    func bombWithHugeLimit() {
        expectImageError({ _ = try readImage(path: CodecFixtures.path("bad/bomb.png"), maxPixels: 1 << 20) }) {
            $0 == .tooLarge(path: CodecFixtures.path("bad/bomb.png"), width: 100_000, height: 100_000, limit: 1 << 20)
        }
    }

    @Test("other formats are named by their magic bytes", arguments: [
        (Array("BM\u{0}\u{0}".utf8), "BMP"), (Array("GIF89a".utf8), "GIF"),
        (Array("P1\n1 1\n0\n".utf8), "ASCII PBM (P1)"), (Array("P4\n8 1\n\u{0}".utf8), "PBM bitmap (P4)"),
    ] as [([UInt8], String)])
    func sniffed(bytes: [UInt8], format: String) {
        #expect(throws: ImageError.unsupportedFormat(path: "m", format: format)) {
            try decodeImage(bytes: bytes, path: "m")
        }
    }

    @Test("RIFF that is not WebP is not an image")
    func riffWave() {
        #expect(throws: ImageError.notAnImage(path: "m")) {
            try decodeImage(bytes: Array("RIFF\u{1}\u{0}\u{0}\u{0}WAVEfmt ".utf8), path: "m")
        }
    }

    @Test("sniffing ignores the extension")
    func sniffNotExtension() throws {
        try withCodecTemporaryDirectory { dir in
            let bytes = try encodeImage(TestImages.noise(width: 3, height: 2, channels: 3), format: .pnm)
            let path = dir + "/actually-ppm.png"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try readImage(path: path).channels == 3)
        }
    }

    @Test("a missing file, a directory and an unreadable path are .io with a clear detail")
    func unreadable() throws {
        let missing = CodecFixtures.path("no-such-file.png")
        #expect(throws: ImageError.io(path: missing, detail: "cannot read: no such file")) { try readImage(path: missing) }
        let dir = CodecFixtures.path("variants")
        #expect(throws: ImageError.io(path: dir, detail: "cannot read: is a directory")) { try readImage(path: dir) }
        let under = CodecFixtures.path("README.md/x.png")
        #expect(throws: ImageError.io(path: under, detail: "cannot read: a parent is not a directory")) { try readImage(path: under) }
    }

    // MARK: - Output formats

    @Test("output format follows the extension, ignoring case", arguments: [
        ("out.png", ImageFormat.png), ("OUT.PNG", .png), ("a/b.c/x.Pgm", .pnm), ("x.ppm", .pnm), ("x.PNM", .pnm),
    ])
    func outputFormat(path: String, format: ImageFormat) throws {
        #expect(try ImageFormat.forOutput(path: path) == format)
    }

    @Test("unknown extensions are refused", arguments: ["out.gif", "out", "dir.png/out", ".png", "out.png.bak", "out."])
    func unknownOutput(path: String) {
        #expect(throws: ImageError.unknownOutputFormat(path: path)) { try ImageFormat.forOutput(path: path) }
        let target = "/nonexistent-bandsaw/" + path
        #expect(throws: ImageError.unknownOutputFormat(path: target)) {
            try writeImage(TestImages.noise(width: 1, height: 1, channels: 1), path: target)
        }
    }

    // MARK: - Writing

    @Test("writeImage round trips through every output extension", arguments: ["o.png", "o.pgm", "o.ppm", "o.pnm", "o.tif", "O.TIFF", "o.webp"], 1...4)
    func writeRoundTrip(name: String, channels: Int) throws {
        try withCodecTemporaryDirectory { dir in
            let image = TestImages.noise(width: 13, height: 7, channels: channels)
            let path = dir + "/" + name
            try writeImage(image, path: path)
            let back = try readImage(path: path)
            if name.hasSuffix(".webp") {
                // WebP has no gray: gray comes back as RGB, every pixel exact (lossless).
                #expect(back == image.withColour())
            } else if name.hasSuffix(".png") || name.lowercased().contains(".tif") || channels % 2 == 1 {
                #expect(back == image)
            } else {
                #expect(back.pixels == codecChannels(image, 0..<(channels - 1)))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [name])
        }
    }

    @Test("every lossless format gives back generated images of any shape and channel count")
    func losslessRoundTrips() async {
        await propertyCheck(count: 60, input: TestImages.cases(maxSide: 96)) { generated in
            let image = generated.image
            // PNG and TIFF keep every layout; PNM drops alpha; WebP (lossless) has no gray.
            let expected: [(ImageFormat, Image)] = [(.png, image), (.tiff, image), (.pnm, image.withoutAlpha()),
                                                    (.webp, image.withColour())]
            for (format, want) in expected {
                do {
                    let back = try decodeImage(bytes: encodeImage(image, format: format), path: "generated")
                    #expect(back == want, "\(format.rawValue): \(generated)")
                } catch {
                    Issue.record("\(format.rawValue): \(generated): \(error)")
                }
            }
        }
    }

    @Test("writeImage replaces an existing file and leaves no temporary file")
    func replaces() throws {
        try withCodecTemporaryDirectory { dir in
            let path = dir + "/out.png"
            try writeImage(TestImages.noise(width: 4, height: 4, channels: 3), path: path)
            let second = TestImages.noise(width: 2, height: 9, channels: 1, seed: 7)
            try writeImage(second, path: path, options: EncodeOptions(compressionLevel: 9))
            #expect(try readImage(path: path) == second)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.png"])
        }
    }

    @Test("a failed rename leaves neither output nor temporary file")
    func failedRename() throws {
        try withCodecTemporaryDirectory { dir in
            // The target is a directory, so the temporary file is written and the rename fails.
            let path = dir + "/taken.png"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            #expect(throws: ImageError.io(path: path, detail: "cannot write: is a directory")) {
                try writeImage(TestImages.noise(width: 3, height: 3, channels: 3), path: path)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken.png"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: path).isEmpty)
        }
    }

    @Test("an unwritable or missing directory throws .io and leaves nothing")
    func unwritable() throws {
        let image = TestImages.noise(width: 3, height: 3, channels: 3)
        let missing = "/nonexistent-bandsaw-dir/out.png"
        #expect(throws: ImageError.io(path: missing, detail: "cannot write: no such file")) {
            try writeImage(image, path: missing)
        }
        // Mode bits do not stop root, so the locked-directory case only means something for others.
        if geteuid() != 0 {
            try withCodecTemporaryDirectory { dir in
                let locked = dir + "/locked"
                try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
                try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked)
                defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked) }
                #expect(throws: ImageError.io(path: locked + "/out.png", detail: "cannot write: permission denied")) {
                    try writeImage(image, path: locked + "/out.png")
                }
                #expect(try FileManager.default.contentsOfDirectory(atPath: locked).isEmpty)
            }
        }
        // /proc refuses new files even to root.
        expectImageError({ try writeImage(image, path: "/proc/bandsaw-out.png") }) {
            if case .io = $0 { true } else { false }
        }
    }

    @Test("encodeImage and decodeImage work in memory", arguments: [ImageFormat.png, .pnm])
    func inMemory(format: ImageFormat) throws {
        let image = TestImages.noise(width: 8, height: 3, channels: 3)
        #expect(try decodeImage(bytes: encodeImage(image, format: format), path: "m") == image)
    }

    @Test("errors read as one line naming the file")
    func messages() {
        let error = ImageError.io(path: "x.png", detail: "cannot read: no such file")
        #expect(error.description == "x.png: cannot read: no such file")
    }
}

extension ImageError {
    /// The same error about another file (the fixture table is written before paths are known).
    func with(path: String) -> ImageError {
        switch self {
        case .empty: .empty(path: path)
        case .truncated: .truncated(path: path)
        case .corrupt(_, let d): .corrupt(path: path, detail: d)
        case .unsupportedFormat(_, let f): .unsupportedFormat(path: path, format: f)
        case .notAnImage: .notAnImage(path: path)
        case .unsupportedLayout(_, let d): .unsupportedLayout(path: path, detail: d)
        case .tooLarge(_, let w, let h, let l): .tooLarge(path: path, width: w, height: h, limit: l)
        case .unknownOutputFormat: .unknownOutputFormat(path: path)
        case .io(_, let d): .io(path: path, detail: d)
        }
    }
}
