import Foundation
@_spi(Testing) import ImageCodecs
import ImageCore
import ImageFilters
import PropertyBased
@testable import SPMDEngine
import TestSupport
import Testing

/// JPEG by bands in the real driver on in-process ranks: the restart and skip sources decode
/// every sampling and restart interval to the whole decode's pixels, the piece sink writes the
/// serial encode's bytes whatever the source's plan, and a damaged file falls back to rank 0's
/// whole decode, whose verdict stands.
@Suite("Engine: JPEG by bands")
struct EngineJPEGTests {
    /// A JPEG with `options` of a random image, and how the engine should decode it.
    static func input(_ image: Image, options: JPEGEncodeOptions, in harness: EngineHarness) throws -> String {
        let file = harness.path("in.jpg")
        try Data(JPEGCodec.encode(image, options: options)).write(to: URL(fileURLWithPath: file))
        return file
    }

    @Test("restart and skip sources into PNG, JPEG and TIFF sinks: the whole decode's pixels, the serial encode's bytes")
    func sourcesIntoSinks() async {
        await propertyCheck(count: 30, input: Gen.uint64().withoutShrink()) { seed in
            var rng = SeededRandom(seed: seed)
            let channels = [1, 3].randomElement(using: &rng)!
            let width = Int.random(in: 1...120, using: &rng), height = Int.random(in: 1...160, using: &rng)
            let image = TestImages.random(width: width, height: height, channels: channels, using: &rng)
            let sampling = [(1, 1), (2, 1), (2, 2), (1, 2)].randomElement(using: &rng)!
            let restart = [0, 1, 2].randomElement(using: &rng)!
            let options = JPEGEncodeOptions(quality: 90, sampling: sampling, restartRows: restart, optimize: rng.next() % 2 == 0)
            let specs = [try FilterSpec(parsing: ["sobel", "gaussian:sigma=2", "invert", "median:size=5"].randomElement(using: &rng)!)]
            let ranks = Int.random(in: 2...7, using: &rng)
            let harness = try EngineHarness("jpeg")
            defer { harness.remove() }
            let input = try Self.input(image, options: options, in: harness)
            let decoded = try JPEGCodec.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: input))), path: input,
                                               maxPixels: 1 << 28)
            let expected = Pipeline(specs: specs).apply(decoded)
            let source = restart == 0 ? "jpeg-skip" : "jpeg-restart"
            let context = "\(width)x\(height)x\(channels) \(sampling) restart \(restart), \(specs[0]), \(ranks) ranks (seed \(seed))"
            for name in ["out.png", "out.jpg", "out.tif"] {
                let (out, outcome) = harness.process(input, to: harness.path(name), ranks: ranks, settings: RunSettings(specs: specs))
                #expect(outcome.allEnded(.success), "\(context) -> \(name): \(outcome.thrown) \(outcome.failures)")
                #expect(outcome.report?.images.first?.decode == source, "\(context): \(outcome.report?.images.first?.decode ?? "-")")
                if name == "out.jpg" {
                    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: harness.path(name))))
                    #expect(bytes == (try JPEGCodec.encode(expected)), "\(context): not the serial encode's bytes")
                } else {
                    #expect(out == expected, "\(context) -> \(name): other pixels")
                }
            }
        }
    }

    @Test("the piece sink moves any source's bands onto MCU rows: bytes of the serial encode on 1-9 ranks")
    func sinkFromAnyPlan() throws {
        let harness = try EngineHarness("jpeg-sink")
        defer { harness.remove() }
        var rng = SeededRandom(seed: 24)
        for (width, height, channels) in [(37, 5, 3), (50, 61, 1), (23, 130, 4), (64, 17, 2)] {
            let image = TestImages.random(width: width, height: height, channels: channels, using: &rng)
            let input = try harness.write(image, as: "in.tif", format: .tiff)
            let specs = [try FilterSpec(parsing: "box:size=3")]
            let expected = try JPEGCodec.encode(Pipeline(specs: specs).apply(image))
            for ranks in 1...9 {
                for decoding in [SharedDecode.auto, .whole] {
                    let output = harness.path("out.jpg")
                    let (_, outcome) = harness.process(input, to: output, ranks: ranks,
                                                       settings: RunSettings(specs: specs, decoding: decoding))
                    #expect(outcome.allEnded(.success), "\(width)x\(height)x\(channels) on \(ranks): \(outcome.failures)")
                    #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: output))) == expected,
                            "\(width)x\(height)x\(channels) on \(ranks) ranks, \(decoding): other bytes")
                }
            }
        }
    }

    @Test("a damaged JPEG: every rank falls back to rank 0's whole decode, whose verdict stands")
    func damagedFallsBack() throws {
        let harness = try EngineHarness("jpeg-bad")
        defer { harness.remove() }
        var rng = SeededRandom(seed: 9)
        let image = TestImages.random(width: 70, height: 200, channels: 3, using: &rng)
        let settings = RunSettings(specs: [try FilterSpec(parsing: "sobel")])
        for restart in [1, 0] {
            let input = try Self.input(image, options: JPEGEncodeOptions(restartRows: restart), in: harness)
            let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input)))
            for flip in stride(from: good.count / 3, to: good.count - 2, by: good.count / 7) {
                var bytes = good
                bytes[flip] ^= 0x5A
                try Data(bytes).write(to: URL(fileURLWithPath: input))
                let (_, one) = harness.process(input, to: harness.path("one.jpg"), ranks: 1, settings: settings)
                let (_, many) = harness.process(input, to: harness.path("many.jpg"), ranks: 3, settings: settings)
                let context = "restart \(restart), byte \(flip) flipped"
                #expect(many.statuses == [RunStatus?](repeating: one.statuses[0], count: 3), "\(context)")
                #expect(many.failures == one.failures, "\(context): 3 ranks \(many.failures), 1 rank \(one.failures)")
                if one.statuses[0] == .success {
                    #expect(FileManager.default.contentsEqual(atPath: harness.path("one.jpg"), andPath: harness.path("many.jpg")),
                            "\(context): other bytes")
                }
            }
        }
    }
}
