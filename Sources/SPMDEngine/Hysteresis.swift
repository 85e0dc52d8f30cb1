import ImageCore
import ImageFilters
import MPIKit

extension SPMDRunner {
    /// A non-local stage's hysteresis across the ranks (``HysteresisBand``): every rank grows
    /// edges from its own; then, in rounds, the ranks exchange their boundary rows' states
    /// (`MPI_Sendrecv` with each neighbour, one row each way), grow from the neighbours' edges,
    /// and agree in one `MPI_Allreduce` whether any boundary row gained an edge; they stop
    /// after a round in which none did. Returns this rank's own rows of the result (0 or 255)
    /// and the number of rounds, the same on every rank (0 when one rank holds every row).
    func settleHysteresis(_ states: Band, plan: BandPlan, clock: inout PhaseClock) throws -> (Band, Int) {
        var band = HysteresisBand(states: states)
        clock.time(.compute) { _ = band.growFromOwnEdges() }
        guard plan.shares.filter({ !$0.owned.isEmpty }).count > 1 else { return (band.edges(), 0) }
        // The ghost rows are a halo of one row around each rank's owned rows.
        let ghosts = BandPlan(height: plan.height, ownedCounts: plan.ownedCounts, halo: 1)
        precondition(ghosts.shares[world.rank].needed == band.held, "ghost rows disagree with the band plan")
        let width = states.width, held = band.held
        var rounds = 0
        while true {
            try clock.time(.halo) {
                try Datatype.withContiguous(width, of: .byte) { rowType in
                    try band.states.pixels.withUnsafeMutableBytes { buffer in
                        try world.exchangeRows(buffer: buffer, held: held, rowBytes: width, rowType: rowType,
                                               reach: ghosts.exchangeReach, transfer: ghosts.transfer)
                    }
                }
            }
            rounds += 1
            let changed = clock.time(.compute) { band.growFromGhostRows() }
            let anywhere = try clock.time(.halo) { try world.allReduce([changed ? 1 : 0], op: .max)[0] }
            if anywhere == 0 { break }
        }
        return (band.edges(), rounds)
    }
}
