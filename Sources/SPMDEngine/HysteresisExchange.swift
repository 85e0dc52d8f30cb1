import ImageCore
import ImageFilters
import MPIKit

extension ImageRun {
    /// A non-local stage's hysteresis across the ranks, in the same few messages whatever the
    /// picture (``HysteresisBand``): every rank grows its band from its own edges and numbers
    /// the weak components still open at its first and last row; each band with rows sends
    /// its last row of component numbers to the next band with rows (the one exchange) and
    /// pairs its first row's components with the ones they touch above; rank 0 gathers every
    /// band's pairs, joins them across all borders at once (``BorderMerge``) and scatters back
    /// which components are on; every rank grows those. Returns this rank's own rows of the
    /// result (0 or 255) and the number of neighbour exchanges: 1, or 0 when one rank holds
    /// every row.
    func settleHysteresis(_ states: Band, plan: BandPlan) throws -> (Band, Int) {
        var band = HysteresisBand(states: states)
        time(.compute) { band.growFromOwnEdges() }
        let holders = plan.shares.indices.filter { !plan.shares[$0].owned.isEmpty }
        guard holders.count > 1 else { return (time(.compute) { band.edges() }, 0) }
        let place = holders.firstIndex(of: rank)
        let above = place.flatMap { $0 > 0 ? holders[$0 - 1] : nil }
        let below = place.flatMap { $0 + 1 < holders.count ? holders[$0 + 1] : nil }

        let components = time(.compute) { band.labelBorderComponents() }
        let width = states.width
        var rowAbove = [Int32](repeating: -1, count: above == nil ? 0 : width)
        try time(.halo) {
            try band.lastRowComponents.withUnsafeBytes { send in
                try rowAbove.withUnsafeMutableBytes { receive in
                    try world.sendReceive(send: send, sendCount: below == nil ? 0 : 1, to: below,
                                          receive: receive, receiveCount: above == nil ? 0 : 1, from: above,
                                          unit: width * MemoryLayout<Int32>.size)
                }
            }
        }
        let links = [Int32(truncatingIfNeeded: components)]
            + (above == nil ? [] : time(.compute) { band.touching(rowAbove: rowAbove) })
        let on = try mergeBorders(links, components: components, holders: holders)
        let edges = time(.compute) {
            band.settle(on: on)
            return band.edges()
        }
        return (edges, 1)
    }

    /// Rank 0 gathers every rank's `links` (its number of border components, then its pairs
    /// with the band above), decides which components are on and scatters each rank its
    /// verdicts: two gathers (the lengths, then the links) and one scatter.
    private func mergeBorders(_ links: [Int32], components: Int, holders: [Int]) throws -> [Bool] {
        let unit = MemoryLayout<Int32>.size
        let lengths = try time(.halo) { try world.gather([Int64(links.count)]) }.map { Int($0) }
        var gathered = [Int32](repeating: 0, count: lengths.reduce(0, +))
        let starts = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }.dropLast().map { $0 }
        try time(.halo) {
            try links.withUnsafeBytes { send in
                try gathered.withUnsafeMutableBytes { receive in
                    try world.gatherv(send: send, sendCount: links.count, unit: unit,
                                      receive: isRoot ? receive : nil, counts: lengths, displacements: starts, root: 0)
                }
            }
        }
        var verdicts: [UInt8] = [], counts: [Int] = [], offsets: [Int] = []
        if isRoot {
            time(.compute) {
                let bands = (0..<world.size).map { r -> BorderMerge.Links in
                    let place = holders.firstIndex(of: r)
                    return BorderMerge.Links(components: Int(gathered[starts[r]]),
                                             above: place.flatMap { $0 > 0 ? holders[$0 - 1] : nil },
                                             pairs: Array(gathered[(starts[r] + 1)..<(starts[r] + lengths[r])]))
                }
                let on = BorderMerge.resolve(bands)
                counts = on.map(\.count)
                offsets = counts.reduce(into: [0]) { $0.append($0.last! + $1) }.dropLast().map { $0 }
                verdicts = on.flatMap { $0.map { $0 ? 1 : 0 } }
            }
        }
        var mine = [UInt8](repeating: 0, count: components)
        try time(.halo) {
            try verdicts.withUnsafeBytes { send in
                try mine.withUnsafeMutableBytes { receive in
                    try world.scatterv(send: isRoot ? send : nil, counts: counts, displacements: offsets, unit: 1,
                                       receive: receive, receiveCount: components, root: 0)
                }
            }
        }
        return mine.map { $0 != 0 }
    }
}
