import Foundation
import ImageCore
@testable import ImageFilters
import PropertyBased
import TestSupport
import Testing

/// Every kernel path this CPU supports must give the portable (baseline) kernels' bits, for every
/// filter, on random shapes, channel counts, parameters and band cuts. CI runs on a machine with
/// AVX2, so there this suite compares the AVX2 kernels against the Swift reference.
@Suite("Exactness: every SIMD path == the portable path")
struct SIMDPathTests {
    /// The non-baseline paths this machine runs (empty elsewhere: then only the detection test runs).
    static let vectorPaths = SIMDPath.supported.filter { $0 != .baseline }

    @Test("the CPU's AVX2 is detected (so the comparisons below really run)")
    func detection() throws {
        #if arch(x86_64)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let hasAVX2 = flags.split(separator: " ").contains("avx2")
        #expect(SIMDPath.avx2.isSupported == hasAVX2, "/proc/cpuinfo says avx2: \(hasAVX2)")
        #endif
        #expect(SIMDPath.supported.first == .baseline)
        #expect(SIMDPath.supported.contains(SIMDPath.active))
    }

    @Test("BANDSAW_SIMD values: a supported path, unset, unknown and unsupported")
    func environmentValues() throws {
        #expect(try SIMDPath.requested(by: nil) == nil)
        #expect(try SIMDPath.requested(by: "") == nil)
        #expect(try SIMDPath.requested(by: "baseline") == .baseline)
        #expect(throws: SIMDPathError.unknown("sse9")) { try SIMDPath.requested(by: "sse9") }
        if !SIMDPath.avx2.isSupported {
            #expect(throws: SIMDPathError.unsupported(.avx2)) { try SIMDPath.requested(by: "avx2") }
        }
    }

    /// One random case from `seed`: image, band count, and parameters with the halo bounded.
    static func check(_ descriptor: FilterDescriptor, seed: UInt64, maxSide: Int, maxHalo: Int) {
        var rng = SeededRandom(seed: seed)
        let shape = Shape.random(using: &rng, maxSide: maxSide)
        let image = TestImages.random(width: shape.width, height: shape.height, channels: shape.channels, using: &rng)
        let parameters = descriptor.randomParameters(using: &rng, maxHalo: maxHalo)
        let kernel = descriptor.make(parameters)
        let reference = Pipeline([kernel.using(.baseline)]).apply(image)
        for path in vectorPaths {
            let pipeline = Pipeline([kernel.using(path)])
            let whole = pipeline.apply(image)
            let context = "\(descriptor.label(parameters)) on \(image.width)x\(image.height)x\(image.channels) (seed \(seed))"
            #expect(whole == reference, "\(path.rawValue), whole: \(context): \(firstDifference(whole, reference))")
        }
    }

    @Test("every filter, random shapes and parameters (small windows)", arguments: Filters.all.map(\.name))
    func everyFilter(name: String) async {
        let descriptor = Filters.named(name)!
        await propertyCheck(count: 150, input: TestImages.seeds) { seed in
            Self.check(descriptor, seed: seed, maxSide: 300, maxHalo: 6)
        }
    }

    @Test("every windowed filter, large windows", arguments: Filters.all.filter { !$0.parameters.isEmpty }.map(\.name))
    func largeWindows(name: String) async {
        let descriptor = Filters.named(name)!
        await propertyCheck(count: 25, input: TestImages.seeds) { seed in
            Self.check(descriptor, seed: seed, maxSide: 200, maxHalo: 130)
        }
    }

    @Test("the median networks (3 x 3, 5 x 5) and the box's division, every width 1...70 and channel count")
    func networksEveryWidth() {
        var rng = SeededRandom(seed: 0x5EED)
        for width in 1...70 {
            for channels in 1...4 {
                let image = TestImages.random(width: width, height: Int.random(in: 1...9, using: &rng), channels: channels, using: &rng)
                for kernel: any Kernel in [MedianKernel(size: 3), MedianKernel(size: 5), BoxKernel(size: 3), BoxKernel(size: 15)] {
                    let reference = Pipeline([kernel.using(.baseline)]).apply(image)
                    for path in Self.vectorPaths {
                        let out = Pipeline([kernel.using(path)]).apply(image)
                        #expect(out == reference, "\(kernel) \(path.rawValue) on \(width)x\(image.height)x\(channels): \(firstDifference(out, reference))")
                    }
                }
            }
        }
    }

    @Test("random pipelines on every path equal the portable pipeline")
    func pipelines() async {
        await propertyCheck(count: 100, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let shape = Shape.random(using: &rng, maxSide: 160)
            let image = TestImages.random(width: shape.width, height: shape.height, channels: shape.channels, using: &rng)
            let pipeline = Pipeline((0..<Int.random(in: 1...4, using: &rng)).map { _ in
                let d = Filters.all.randomElement(using: &rng)!
                return d.make(d.randomParameters(using: &rng, maxHalo: 4))
            })
            let reference = pipeline.using(.baseline).apply(image)
            for path in Self.vectorPaths {
                let out = pipeline.using(path).apply(image)
                #expect(out == reference, "\(path.rawValue) (seed \(seed)): \(firstDifference(out, reference))")
            }
        }
    }

    @Test("canny's states before hysteresis (Sobel, magnitude, suppression, thresholds): random images, thresholds, L1 and L2")
    func cannyStates() async {
        await propertyCheck(count: 300, input: Gen.uint64().withoutShrink()) { seed in
            var rng = SeededRandom(seed: seed)
            let shape = Shape.random(using: &rng, maxSide: 200)
            var image = TestImages.random(width: shape.width, height: shape.height, channels: shape.channels, using: &rng)
            if Bool.random(using: &rng) {
                // Few levels: many equal magnitudes, so every tie rule of the suppression is hit.
                image.pixels = image.pixels.map { $0 & 0xC0 }
            }
            let low = [0, 1, 20, 50, 200, 1000].randomElement(using: &rng)! + Int.random(in: 0...3, using: &rng)
            let high = low + [0, 1, 30, 100, 900].randomElement(using: &rng)!
            let l2 = Bool.random(using: &rng)
            let kernel = try! FilterSpec(parsing: "canny:low=\(low),high=\(high),l2=\(l2)").makeKernel() as! any NonLocalKernel
            let rows = 0..<image.height
            let reference = (kernel.using(.baseline) as! any NonLocalKernel).edgeStates(image.asBand, rows: rows)
            for path in Self.vectorPaths {
                let states = (kernel.using(path) as! any NonLocalKernel).edgeStates(image.asBand, rows: rows)
                let same = states == reference
                #expect(same, "\(path.rawValue), low \(low) high \(high) l2 \(l2) on \(shape) (seed \(seed))")
            }
        }
    }
}
