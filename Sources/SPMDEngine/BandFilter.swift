import ImageCodecs
import ImageCore
import ImageFilters

extension ImageRun {
    /// This rank's band through the pipeline; returns its owned output rows and, per non-local
    /// stage, the message exchanges its hysteresis took. Wide: part by part (``Pipeline/parts``), each
    /// part's local stages in one go on its halo, widening again after each non-local stage.
    /// Per stage: a halo exchange before every stage but the first.
    func filter(_ input: Band, plan: BandPlan, pipeline: Pipeline) throws -> (Band, [Int]) {
        let owned = plan.shares[rank].owned
        var current = input
        var rounds: [Int] = []
        func run(_ stage: any Kernel, on input: Band) throws -> Band {
            guard let nonLocal = stage as? any NonLocalKernel else {
                return time(.compute) { stage.apply(input, rows: owned) }
            }
            let states = time(.compute) { nonLocal.edgeStates(input, rows: owned) }
            let (edges, n) = try settleHysteresis(states, plan: plan)
            rounds.append(n)
            return edges
        }
        switch settings.haloMode {
        case .wide:
            for (p, part) in pipeline.parts.enumerated() {
                if p > 0 { current = try widen(current, plan: plan, halo: part.totalHalo) }
                guard let last = part.stages.last as? any NonLocalKernel else {
                    let band = current
                    current = time(.compute) { part.apply(band, rows: owned) }
                    continue
                }
                // The local stages compute the rows the non-local stage reads, then it runs.
                let local = Pipeline(Array(part.stages.dropLast())), band = current
                let prepared = time(.compute) { local.apply(band, rows: band.rowsNeeded(for: owned, halo: last.halo)) }
                current = try run(last, on: prepared)
            }
        case .perStage:
            for (i, stage) in pipeline.stages.enumerated() {
                if i > 0 { current = try widen(current, plan: plan, halo: stage.halo) }
                current = try run(stage, on: current)
            }
        }
        return (current, rounds)
    }

    /// Grows a band of owned rows by `halo` rows from the neighbours (after a non-local stage,
    /// or before each stage in per-stage mode).
    private func widen(_ band: Band, plan base: BandPlan, halo: Int) throws -> Band {
        let plan = BandPlan(height: band.imageHeight, ownedCounts: base.ownedCounts, halo: halo)
        let share = plan.shares[rank]
        var pixels = [UInt8](repeating: 0, count: share.needed.count * band.rowBytes)
        let offset = share.haloAbove * band.rowBytes
        time(.halo) { pixels.replaceSubrange(offset..<(offset + band.pixels.count), with: band.pixels) }
        return try self.band(filling: consume pixels, plan: plan, width: band.width, channels: band.channels)
    }
}
