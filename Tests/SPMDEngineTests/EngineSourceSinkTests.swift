import Foundation
import ImageCodecs
import ImageCore
import ImageFilters
import PropertyBased
@testable import SPMDEngine
import TestSupport
import Testing

/// Every band source and every band sink with the real driver: N in-process ranks write the
/// bytes one rank writes, the pixels equal the pipeline on the whole decoded image, and the
/// report names the source that served the file.
@Suite("Engine sources and sinks")
struct EngineSourceSinkTests {
    /// One way in: how the input is written and the settings and rank count that pick the source.
    struct Way: CustomStringConvertible, Sendable {
        var source: String
        var format: ImageFormat
        var settings: @Sendable ([FilterSpec]) -> RunSettings = { RunSettings(specs: $0) }
        var description: String { source }
    }

    static let ways: [Way] = [
        Way(source: "whole", format: .tiff, settings: { RunSettings(specs: $0, decoding: .whole) }),
        Way(source: "rows", format: .png),
        Way(source: "segments", format: .png),
        Way(source: "tiff", format: .tiff),
        Way(source: "mpiio", format: .pnm, settings: { RunSettings(specs: $0, io: .mpiio) }),
    ]

    /// The outputs each sink writes, with the settings that pick it.
    static let outputs: [(sink: String, name: String, settings: @Sendable (RunSettings) -> RunSettings)] = [
        ("pieces", "out.png", { $0 }),
        ("gather png", "out.png", { var s = $0; s.encoding = .serial; return s }),
        ("gather tiff", "out.tif", { $0 }),
        ("rows", "out.pnm", { var s = $0; s.io = .mpiio; return s }),
    ]

    /// An input for `way`: a PNG with restart points comes from the engine's own parallel PNG
    /// output (tall enough for two segments); PGM/PPM inputs have 1 or 3 channels.
    static func input(_ image: Image, way: Way, in harness: EngineHarness) throws -> String {
        guard way.source == "segments" else { return try harness.write(image, as: "in.\(way.format.rawValue)", format: way.format) }
        let plain = try harness.write(image, as: "plain.png", format: .png)
        let restartable = harness.path("in.png")
        let outcome = harness.run([ImageJob(input: plain, output: restartable)], ranks: 2,
                                  settings: RunSettings(specs: [try FilterSpec(parsing: "invert")]))
        precondition(outcome.allEnded(.success), "could not write a restartable PNG")
        return restartable
    }

    @Test("every source into every sink, random shapes and rank counts", arguments: ways)
    func everySource(way: Way) async {
        await propertyCheck(count: 12, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let tall = way.source == "segments"
            let channels = way.format == .pnm ? [1, 3].randomElement(using: &rng)! : Int.random(in: 1...4, using: &rng)
            let width = Int.random(in: 1...90, using: &rng)
            let height = tall ? Int.random(in: 256...420, using: &rng) : Int.random(in: 1...120, using: &rng)
            let image = TestImages.random(width: width, height: height, channels: channels, using: &rng)
            let specs = [try! FilterSpec(parsing: ["sobel", "gaussian:sigma=1.5", "median:size=3", "grayscale"]
                .randomElement(using: &rng)!)]
            let ranks = Int.random(in: 2...7, using: &rng)
            let harness = try! EngineHarness("sources")
            defer { harness.remove() }
            let input = try! Self.input(image, way: way, in: harness)
            let decoded = try! readImage(path: input, maxPixels: 1 << 28)
            // libpng's PNGs the fast inflater does not take (it refuses some) are decoded whole.
            let source = way.source == "rows" && PNGRows.inflate(try! readFileBytes(path: input), maxPixels: 1 << 28) == nil
                ? "whole" : way.source
            let expected = Pipeline(specs: specs).apply(decoded)
            for output in Self.outputs {
                let settings = output.settings(way.settings(specs))
                let context = "\(way.source) -> \(output.sink), \(width)x\(height)x\(channels), \(specs[0]), \(ranks) ranks (seed \(seed))"
                let one = harness.path("one-" + output.name), many = harness.path("many-" + output.name)
                let (_, first) = harness.process(input, to: one, ranks: 1, settings: settings)
                let (out, outcome) = harness.process(input, to: many, ranks: ranks, settings: settings)
                #expect(first.allEnded(.success) && outcome.allEnded(.success), "\(context): \(outcome.thrown) \(outcome.failures)")
                #expect(outcome.report?.images.first?.decode == source, "\(context): decoded \(outcome.report?.images.first?.decode ?? "-")")
                // Parallel PNG pieces are deflated band by band, so their bytes follow the band
                // boundaries (the pixels do not); every other sink writes one rank's bytes.
                let sameBytes = output.sink == "pieces" || FileManager.default.contentsEqual(atPath: one, andPath: many)
                #expect(sameBytes, "\(context): the bytes differ from one rank's (\(output.name))")
                // PNM drops alpha on output: compare what the format keeps.
                let kept = output.sink == "rows" ? expected.withoutAlpha() : expected
                #expect(out == kept, "\(context): \(out.map { firstDifference($0, kept) } ?? "no output")")
            }
        }
    }

    @Test("a restart chunk that lies: every rank falls back to rank 0's whole decode, whose verdict stands")
    func lyingRestartChunk() throws {
        let harness = try EngineHarness("lying")
        defer { harness.remove() }
        var rng = SeededRandom(seed: 3)
        let image = TestImages.random(width: 40, height: 300, channels: 3, using: &rng)
        let input = try Self.input(image, way: Self.ways[2], in: harness)
        let settings = RunSettings(specs: [try FilterSpec(parsing: "sobel")])
        // A good file first: decoded by segments.
        let (_, good) = harness.process(input, to: harness.path("good.png"), ranks: 3, settings: settings)
        #expect(good.allEnded(.success) && good.report?.images.first?.decode == "segments")
        // Flip a byte inside the compressed data: the segment decode or the checksum fails on
        // some rank, and the whole decoder (libpng) judges the file.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input)))
        bytes[bytes.count / 2] ^= 0x5A
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        let one = harness.process(input, to: harness.path("one.png"), ranks: 1, settings: settings).1
        let (_, many) = harness.process(input, to: harness.path("many.png"), ranks: 3, settings: settings)
        #expect(many.statuses == [RunStatus?](repeating: one.statuses[0], count: 3))
        #expect(many.failures == one.failures, "3 ranks: \(many.failures), 1 rank: \(one.failures)")
        if one.statuses[0] == .success {
            #expect(many.report?.images.first?.decode == "whole")
            #expect(FileManager.default.contentsEqual(atPath: harness.path("one.png"), andPath: harness.path("many.png")))
        }
    }

    @Test("sources that do not apply: one rank, --decode whole, a PGM without --io mpiio")
    func sourceChoice() throws {
        let harness = try EngineHarness("choice")
        defer { harness.remove() }
        var rng = SeededRandom(seed: 5)
        let image = TestImages.random(width: 30, height: 20, channels: 1, using: &rng)
        let specs = [try FilterSpec(parsing: "box:size=3")]
        let cases: [(ImageFormat, Int, RunSettings, String)] = [
            (.png, 1, RunSettings(specs: specs), "whole"),
            (.png, 3, RunSettings(specs: specs, decoding: .whole), "whole"),
            (.tiff, 1, RunSettings(specs: specs), "whole"),
            (.pnm, 3, RunSettings(specs: specs), "whole"),
            (.pnm, 1, RunSettings(specs: specs, io: .mpiio), "mpiio"),
        ]
        for (format, ranks, settings, source) in cases {
            let input = try harness.write(image, as: "in.\(format.rawValue)", format: format)
            let (_, outcome) = harness.process(input, to: harness.path("out.png"), ranks: ranks, settings: settings)
            #expect(outcome.allEnded(.success) && outcome.report?.images.first?.decode == source,
                    "\(format) on \(ranks) ranks: \(outcome.report?.images.first?.decode ?? "-")")
        }
    }
}
