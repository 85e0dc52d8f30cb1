/// What one place decides from every band's border components (``HysteresisBand``): which
/// reach an edge through the components of other bands they touch, across any number of
/// borders at once (union-find over all the bands' components).
public enum BorderMerge {
    /// One band's part: its number of border components including 0 (its edges, on), the band
    /// above it (an index into the same list; nil for the first band with rows, and for bands
    /// without rows), and the pairs (this band's component, that band's) that touch, flattened
    /// as ``HysteresisBand/touching(rowAbove:)`` gives them.
    public struct Links: Sendable, Equatable {
        public var components: Int
        public var above: Int?
        public var pairs: [Int32]

        public init(components: Int, above: Int?, pairs: [Int32]) {
            self.components = components; self.above = above; self.pairs = pairs
        }
    }

    /// Per band, which of its components are on: those joined, through any chain of touching
    /// pairs, to some band's component 0.
    public static func resolve(_ bands: [Links]) -> [[Bool]] {
        var offsets: [Int] = [], total = 0
        for band in bands { offsets.append(total); total += band.components }
        precondition(total < Int(Int32.max), "too many border components")
        var parent = [Int32](unsafeUninitializedCapacity: total) { p, n in
            for i in 0..<total { p[i] = Int32(truncatingIfNeeded: i) }
            n = total
        }
        for (b, band) in bands.enumerated() {
            guard let above = band.above else {
                precondition(band.pairs.isEmpty, "pairs with no band above")
                continue
            }
            let mine = Int32(truncatingIfNeeded: offsets[b]), theirs = Int32(truncatingIfNeeded: offsets[above])
            precondition(band.pairs.count % 2 == 0, "pairs come in twos")
            for k in stride(from: 0, to: band.pairs.count, by: 2) {
                let a = band.pairs[k], c = band.pairs[k + 1]
                precondition(a >= 0 && a < band.components && c >= 0 && c < bands[above].components,
                             "a pair names no border component")
                unite(mine + a, theirs + c, in: &parent)
            }
        }
        var rootOn = [Bool](repeating: false, count: total)
        for (b, band) in bands.enumerated() where band.components > 0 {
            rootOn[Int(find(Int32(truncatingIfNeeded: offsets[b]), in: &parent))] = true
        }
        return bands.indices.map { b in
            (0..<bands[b].components).map { c in rootOn[Int(find(Int32(truncatingIfNeeded: offsets[b] + c), in: &parent))] }
        }
    }

    /// The root of `i`, halving the path on the way (a root is its own parent).
    private static func find(_ i: Int32, in parent: inout [Int32]) -> Int32 {
        var i = i
        while parent[Int(i)] != i {
            let grand = parent[Int(parent[Int(i)])]
            parent[Int(i)] = grand
            i = grand
        }
        return i
    }

    /// Joins the sets of `a` and `b`.
    private static func unite(_ a: Int32, _ b: Int32, in parent: inout [Int32]) {
        let ra = find(a, in: &parent), rb = find(b, in: &parent)
        if ra < rb { parent[Int(rb)] = ra } else if rb < ra { parent[Int(ra)] = rb }
    }
}
