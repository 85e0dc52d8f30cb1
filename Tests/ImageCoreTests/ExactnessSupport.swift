import ImageCore
import ImageFilters
import TestSupport

extension FilterDescriptor {
    /// Parameters drawn uniformly from each spec's range (odd where required), narrowed toward
    /// the lower bound until the kernel's halo is at most `maxHalo`, which keeps big windows
    /// (and the test's run time) modest.
    func randomParameters(using rng: inout SeededRandom, maxHalo: Int = 4) -> FilterParameters {
        var uppers = parameters.map(\.range.upperBound)
        var refused = 0
        while true {
            var values: [String: Double] = [:]
            for (spec, upper) in zip(parameters, uppers) {
                switch spec.kind {
                case .int:
                    var v = Int.random(in: Int(spec.range.lowerBound)...Int(upper), using: &rng)
                    if spec.mustBeOdd && v % 2 == 0 { v += v + 1 <= Int(spec.range.upperBound) ? 1 : -1 }
                    values[spec.name] = Double(v)
                case .double:
                    values[spec.name] = Double.random(in: spec.range.lowerBound...upper, using: &rng)
                case .bool:
                    values[spec.name] = Bool.random(using: &rng) ? 1 : 0
                }
            }
            // Bound through the public parser, which also checks the draw against the spec; a
            // draw that breaks a rule across parameters (canny's low <= high, sigma 0 or >= 0.1)
            // is drawn again, and after many such draws in a row (narrowed ranges can leave no
            // valid draw: canny's sigma below 0.1) the defaults are taken, always valid.
            let text = name + (values.isEmpty ? "" : ":" + values.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
            guard let bound = try? FilterSpec(parsing: text).parameters else {
                refused += 1
                if refused >= 100 { return defaults }
                continue
            }
            refused = 0
            let narrowed = zip(parameters, uppers).map { spec, upper in
                let lo = spec.range.lowerBound
                return spec.kind == .int ? max(lo, ((lo + upper) / 2).rounded(.down)) : lo + (upper - lo) / 2
            }
            if make(bound).halo <= maxHalo || narrowed == uppers { return bound }
            uppers = narrowed
        }
    }

    /// `name:k=v,...` for failure messages.
    func label(_ parameters: FilterParameters) -> String {
        let kv = parameters.values.keys.sorted().map { "\($0)=\(parameters.values[$0]!)" }
        return kv.isEmpty ? name : "\(name):\(kv.joined(separator: ","))"
    }
}

/// The pipeline run the way the distributed driver runs it: rows split by `BandPlan` with the
/// pipeline's total halo, each share computed from its needed rows alone, results concatenated.
func bandedApply(_ pipeline: Pipeline, to image: Image, ranks: Int) -> Image {
    guard pipeline.isLocal else {
        return pipeline.parts.reduce(image) { bandedPart($1, to: $0, ranks: ranks).image }
    }
    let plan = BandPlan(height: image.height, ranks: ranks, halo: pipeline.totalHalo)
    let channels = pipeline.outputChannels(forInput: image.channels)
    var pixels: [UInt8] = []
    pixels.reserveCapacity(image.width * image.height * channels)
    for share in plan.shares where !share.owned.isEmpty {
        let out = pipeline.apply(image.band(rows: share.needed), rows: share.owned)
        precondition(out.rows == share.owned && out.channels == channels, "band came back with the wrong shape")
        pixels += out.pixels
    }
    return Image(width: image.width, height: image.height, channels: channels, pixels: pixels)
}

/// One part of a pipeline (``Pipeline/parts``) in bands as the SPMD driver runs it: the local
/// stages and the non-local stage's edge states on each band with the part's halo, then the
/// hysteresis rounds between the bands (``HysteresisBand/settle(_:)``). Also returns the rounds.
func bandedPart(_ part: Pipeline, to image: Image, ranks: Int) -> (image: Image, rounds: Int) {
    guard let last = part.stages.last as? any NonLocalKernel else { return (bandedApply(part, to: image, ranks: ranks), 0) }
    let plan = BandPlan(height: image.height, ranks: ranks, halo: part.totalHalo)
    let local = Pipeline(Array(part.stages.dropLast()))
    var bands = plan.shares.filter { !$0.owned.isEmpty }.map { share in
        let input = image.band(rows: share.needed)
        let prepared = local.apply(input, rows: input.rowsNeeded(for: share.owned, halo: last.halo))
        return HysteresisBand(states: last.edgeStates(prepared, rows: share.owned))
    }
    let rounds = HysteresisBand.settle(&bands)
    let pixels = bands.flatMap { $0.edges().pixels }
    return (Image(width: image.width, height: image.height, channels: 1, pixels: pixels), rounds)
}

/// The pipeline run one stage at a time, each stage banded with its own halo: the mode where
/// ranks exchange halos between stages.
func perStageBandedApply(_ pipeline: Pipeline, to image: Image, ranks: Int) -> Image {
    pipeline.stages.reduce(image) { bandedApply(Pipeline([$1]), to: $0, ranks: ranks) }
}

/// Where two images first differ, for failure messages.
func firstDifference(_ a: Image, _ b: Image) -> String {
    guard a.width == b.width, a.height == b.height, a.channels == b.channels else {
        return "shapes \(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)"
    }
    guard let i = zip(a.pixels, b.pixels).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else {
        return "none"
    }
    let pixel = i / a.channels
    return "row \(pixel / a.width), column \(pixel % a.width), channel \(i % a.channels): \(a.pixels[i]) vs \(b.pixels[i])"
}
