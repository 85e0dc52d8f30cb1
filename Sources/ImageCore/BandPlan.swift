/// How an image's rows are split over the ranks: a pure function of height, rank count and halo.
///
/// Rank `r` owns a contiguous run of rows; by default the remainder of `height / ranks` goes
/// one row each to the first ranks, so no row is dropped and sizes differ by at most one. With more ranks
/// than rows the last ranks own nothing and need nothing; they still take part in every
/// collective with zero counts.
public struct BandPlan: Equatable, Sendable {
    /// One rank's share.
    public struct Share: Equatable, Sendable {
        /// Rows this rank computes and sends back.
        public var owned: Range<Int>
        /// Rows it must hold to compute `owned`: owned plus the halo above and below,
        /// clamped at the image edges (empty when `owned` is).
        public var needed: Range<Int>
        /// Halo rows above `owned` (fewer than the halo at the top edge).
        public var haloAbove: Int { owned.lowerBound - needed.lowerBound }
        /// Halo rows below `owned`.
        public var haloBelow: Int { needed.upperBound - owned.upperBound }
    }

    public let height: Int
    public let halo: Int
    public let shares: [Share]

    public init(height: Int, ranks: Int, halo: Int) {
        precondition(height >= 0 && ranks >= 1 && halo >= 0, "bad band plan input")
        let base = height / ranks, extra = height % ranks
        self.init(height: height, ownedCounts: (0..<ranks).map { base + ($0 < extra ? 1 : 0) }, halo: halo)
    }

    /// A plan with the given owned row counts, in rank order (they must sum to `height`),
    /// such as whole restart segments per rank (ImageCodecs' `RestartLayout.rankRowCounts(ranks:)`).
    public init(height: Int, ownedCounts: [Int], halo: Int) {
        precondition(height >= 0 && !ownedCounts.isEmpty && halo >= 0 && ownedCounts.allSatisfy { $0 >= 0 }
                     && ownedCounts.reduce(0, +) == height, "bad band plan input")
        self.height = height
        self.halo = halo
        var start = 0
        shares = ownedCounts.map { count in
            let owned = start..<(start + count)
            start += count
            let needed = owned.isEmpty ? owned
                : max(0, owned.lowerBound - halo)..<min(height, owned.upperBound + halo)
            return Share(owned: owned, needed: needed)
        }
    }

    /// Number of ranks.
    public var ranks: Int { shares.count }

    /// Owned row counts, per rank: the scatter and gather counts in rows.
    public var ownedCounts: [Int] { shares.map(\.owned.count) }
    /// Owned row offsets, per rank: the scatter and gather displacements in rows.
    public var ownedDisplacements: [Int] { shares.map(\.owned.lowerBound) }

    /// The rows rank `receiver` needs that rank `owner` owns (empty for the same rank):
    /// what one step of a halo exchange moves from `owner` to `receiver`.
    public func transfer(from owner: Int, to receiver: Int) -> Range<Int> {
        guard owner != receiver else { return 0..<0 }
        let need = shares[receiver].needed, own = shares[owner].owned
        let lo = max(need.lowerBound, own.lowerBound), hi = min(need.upperBound, own.upperBound)
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// The largest rank distance over which any halo rows move: a halo exchange needs that
    /// many neighbour steps (1 unless bands are thinner than the halo).
    public var exchangeReach: Int {
        var reach = 0
        for r in 0..<ranks {
            for d in 1..<max(ranks, 1) {
                if r + d < ranks, !transfer(from: r + d, to: r).isEmpty { reach = max(reach, d) }
                if r - d >= 0, !transfer(from: r - d, to: r).isEmpty { reach = max(reach, d) }
            }
        }
        return reach
    }
}
