import ImageCodecs
import ImageCore
import ImageFilters

extension ImageRun {
    /// This rank's band through the pipeline; returns its owned output rows and, per non-local
    /// stage, the hysteresis rounds it took. Wide: part by part (``Pipeline/parts``), each
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

    /// A non-local stage's hysteresis across the ranks (``HysteresisBand``): every rank grows
    /// edges from its own; then, in rounds, the ranks exchange their boundary rows' states (one
    /// row each way with each neighbour), grow from the neighbours' edges, and agree in one
    /// all-reduce whether any boundary row gained an edge; they stop after a round in which
    /// none did. Returns this rank's own rows of the result (0 or 255) and the number of
    /// rounds, the same on every rank (0 when one rank holds every row).
    private func settleHysteresis(_ states: Band, plan: BandPlan) throws -> (Band, Int) {
        var band = HysteresisBand(states: states)
        time(.compute) { _ = band.growFromOwnEdges() }
        guard plan.shares.filter({ !$0.owned.isEmpty }).count > 1 else { return (band.edges(), 0) }
        // The ghost rows are a halo of one row around each rank's owned rows.
        let ghosts = BandPlan(height: plan.height, ownedCounts: plan.ownedCounts, halo: 1)
        precondition(ghosts.shares[rank].needed == band.held, "ghost rows disagree with the band plan")
        var rounds = 0
        while true {
            try exchangeHalo(&band.states.pixels, plan: ghosts, rowBytes: states.width)
            rounds += 1
            let changed = time(.compute) { band.growFromGhostRows() }
            let anywhere = try time(.halo) { try world.allReduce([changed ? 1 : 0], op: .max)[0] }
            if anywhere == 0 { break }
        }
        return (band.edges(), rounds)
    }
}
