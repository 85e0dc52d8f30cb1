// The hysteresis rounds run in one process: the tests' banded reference for canny.
import ImageCore
import ImageFilters

extension HysteresisBand {
    /// The distributed rounds run in one process over consecutive bands with rows (a model of
    /// what the SPMD driver does over MPI, and the banded reference of the tests). Returns the
    /// number of exchange rounds: 0 for one band.
    public static func settle(_ bands: inout [HysteresisBand]) -> Int {
        precondition(zip(bands, bands.dropFirst()).allSatisfy { $0.owned.upperBound == $1.owned.lowerBound && !$0.owned.isEmpty },
                     "bands must be consecutive and hold rows")
        for i in bands.indices { bands[i].growFromOwnEdges() }
        guard bands.count > 1 else { return 0 }
        var rounds = 0, changed = true
        while changed {
            for i in bands.indices.dropLast() {
                let last = bands[i].owned.upperBound - 1, first = bands[i + 1].owned.lowerBound
                bands[i].setGhostRow(first, to: bands[i + 1].row(first))
                bands[i + 1].setGhostRow(last, to: bands[i].row(last))
            }
            rounds += 1
            changed = false
            for i in bands.indices { changed = bands[i].growFromGhostRows() || changed }
        }
        return rounds
    }
}
