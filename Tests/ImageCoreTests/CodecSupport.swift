import Foundation
import ImageCore
import ImageCodecs
import Testing

/// Locates and loads the committed fixtures in Tests/Fixtures (built by scripts/make-fixtures.py).
enum CodecFixtures {
    /// `Tests/Fixtures`, two levels up from this source file.
    static let root: String = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()   // ImageCoreTests
            .deletingLastPathComponent()   // Tests
            .appendingPathComponent("Fixtures").path
    }()

    /// Size of every image under `variants/`.
    static let variantWidth = 67, variantHeight = 45

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func load(_ relative: String) throws -> Image { try readImage(path: path(relative)) }

    /// The alpha plane the script writes into the alpha variants: (7x + 3y) mod 256.
    static func variantAlpha() -> [UInt8] {
        var alpha: [UInt8] = []
        for y in 0..<variantHeight {
            for x in 0..<variantWidth { alpha.append(UInt8((7 * x + 3 * y) % 256)) }
        }
        return alpha
    }
}

/// The samples of channels `range` of every pixel, interleaved (e.g. 0..<3 drops RGBA's alpha).
func codecChannels(_ image: Image, _ range: Range<Int>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(image.width * image.height * range.count)
    for p in 0..<(image.width * image.height) {
        for c in range { out.append(image.pixels[p * image.channels + c]) }
    }
    return out
}

/// A fresh, empty directory under the system temporary directory, removed by `body`'s end.
func withCodecTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("bandsaw-codec-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Expects `body` to throw an ImageError matching `matches`, e.g. `{ if case .corrupt = $0 { true } else { false } }`.
func expectImageError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation,
                      _ matches: (ImageError) -> Bool) {
    do {
        try body()
        Issue.record("expected an ImageError, got success", sourceLocation: sourceLocation)
    } catch let error as ImageError {
        #expect(matches(error), "unexpected \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an ImageError, got \(error)", sourceLocation: sourceLocation)
    }
}
