import ImageCore
import ImageFilters
import PropertyBased
import TestSupport
import Testing

/// Banded output must equal whole-image output bit for bit, for every registered filter, for
/// pipelines of them, and for any number of bands (more bands than rows included).
///
/// Each property check draws one seed; the case (shape, filters with parameters, band count) is
/// rebuilt from it and printed on failure, and PropertyBased prints the `.fixedSeed` that replays it.
@Suite("Exactness: banded == whole")
struct ExactnessTests {
    /// A case rebuilt from `seed`: an image and a band count from 1 to height + 3.
    static func caseImage(_ rng: inout SeededRandom, maxSide: Int = 300) -> (Image, Int) {
        let shape = Shape.random(using: &rng, maxSide: maxSide)
        let image = TestImages.random(width: shape.width, height: shape.height, channels: shape.channels, using: &rng)
        return (image, Int.random(in: 1...(shape.height + 3), using: &rng))
    }

    @Test("every filter, random parameters, banded == whole", arguments: Filters.all.map(\.name))
    func everyFilter(name: String) async {
        let descriptor = Filters.named(name)!
        await propertyCheck(count: 100, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let (image, ranks) = Self.caseImage(&rng)
            let parameters = descriptor.randomParameters(using: &rng)
            let pipeline = Pipeline([descriptor.make(parameters)])
            let whole = pipeline.apply(image)
            let banded = bandedApply(pipeline, to: image, ranks: ranks)
            let same = banded == whole
            #expect(same, """
                \(descriptor.label(parameters)) on \(image.width)x\(image.height)x\(image.channels) \
                in \(ranks) bands (seed \(seed)): first difference at \(firstDifference(banded, whole))
                """)
        }
    }

    @Test("random pipelines of 1-4 filters, one wide halo and per stage")
    func pipelines() async {
        await propertyCheck(count: 300, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let (image, ranks) = Self.caseImage(&rng, maxSide: 160)
            let chosen = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                let d = Filters.all.randomElement(using: &rng)!
                return (d, d.randomParameters(using: &rng, maxHalo: 3))
            }
            let pipeline = Pipeline(chosen.map { $0.0.make($0.1) })
            let label = chosen.map { $0.0.label($0.1) }.joined(separator: " | ")
            let context = "\(label) on \(image.width)x\(image.height)x\(image.channels) in \(ranks) bands (seed \(seed))"
            let whole = pipeline.apply(image)
            let banded = bandedApply(pipeline, to: image, ranks: ranks)
            let perStage = perStageBandedApply(pipeline, to: image, ranks: ranks)
            let sameWide = banded == whole, samePerStage = perStage == whole
            #expect(sameWide, "wide halo: \(context): \(firstDifference(banded, whole))")
            #expect(samePerStage, "per stage: \(context): \(firstDifference(perStage, whole))")
        }
    }

    @Test("every band count from 1 to height + 3 on one odd-sized image")
    func everyBandCount() {
        var rng = SeededRandom(seed: 7)
        let image = TestImages.random(width: 37, height: 11, channels: 3, using: &rng)
        let pipeline = Pipeline(Filters.all.filter { $0.make($0.defaults).halo <= 2 }.prefix(3)
            .map { $0.make($0.defaults) })
        let whole = pipeline.apply(image)
        for ranks in 1...(image.height + 3) {
            let wide = bandedApply(pipeline, to: image, ranks: ranks) == whole
            let perStage = perStageBandedApply(pipeline, to: image, ranks: ranks) == whole
            #expect(wide, "\(ranks) bands")
            #expect(perStage, "\(ranks) bands, per stage")
        }
    }
}
