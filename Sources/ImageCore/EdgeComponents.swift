// Hysteresis by connected components: the candidates of a band labelled once, so the ranks
// settle canny's hysteresis in one exchange whatever the picture (SPMDEngine's BandFilter.swift
// runs the messages; ``BorderMerge`` is what rank 0 decides from them).

/// The candidate pixels (weak or edge) of one band of ``EdgeState`` bytes as 8-connected
/// components, which is how OpenCV's hysteresis grows them: a candidate is an edge exactly
/// when its component holds a strong pixel somewhere in the image.
///
/// The labelling is by runs: every maximal run of candidates in a row is one node, and a run
/// joins (union-find) each run of the row above that overlaps it or touches it diagonally. Two
/// passes over the runs, linear in the pixels, and memory in runs rather than pixels (canny's
/// candidates are thin lines, so a row has few runs).
///
/// Components are numbered so that the ones reaching the band's first or last row come first,
/// `0..<boundaryCount` (the only ones another band can extend); the rest are decided here, an
/// edge when they hold a strong pixel.
public struct EdgeComponents: Sendable {
    /// Columns.
    public let width: Int
    /// The band's rows.
    public let rows: Range<Int>
    /// Height of the whole image.
    public let imageHeight: Int
    /// Components reaching the first or last row: `0..<boundaryCount`.
    public private(set) var boundaryCount = 0
    /// Per component, whether it holds a strong pixel (``EdgeState/edge``).
    public private(set) var strong: [Bool] = []
    /// First and end column of every run, row after row.
    private var runStarts: [Int32] = [], runEnds: [Int32] = []
    /// Index of the first run of each row, and one past the last run of the last row.
    private var rowRuns: [Int] = [0]
    /// Per run, its component.
    private var components: [Int32] = []

    /// Labels the candidates of `states` (one ``EdgeState`` byte per pixel, one channel).
    public init(states: Band) {
        precondition(states.channels == 1, "edge states have one channel")
        width = states.width
        rows = states.rows
        imageHeight = states.imageHeight
        precondition(width < Int(Int32.max) && states.pixels.count < Int(Int32.max), "band too large for 32-bit runs")
        guard width > 0, !rows.isEmpty else { return }
        rowRuns.reserveCapacity(rows.count + 1)
        var parent: [Int32] = [], runStrong: [Bool] = []
        states.pixels.withUnsafeBufferPointer { pixels in
            for r in 0..<rows.count {
                let row = pixels.baseAddress! + r * width
                let previous = rowRuns[rowRuns.count - 1]
                let above = (r == 0 ? previous : rowRuns[rowRuns.count - 2])..<previous
                appendRuns(of: row, parent: &parent, strong: &runStrong)
                joinRuns(above, with: previous..<runStarts.count, parent: &parent)
                rowRuns.append(runStarts.count)
            }
        }
        number(parent: &parent, runStrong: runStrong)
    }

    /// Appends the runs of candidates of one row, each its own component so far, noting which
    /// hold an edge pixel.
    private mutating func appendRuns(of row: UnsafePointer<UInt8>, parent: inout [Int32], strong: inout [Bool]) {
        let width = self.width
        var x = 0
        while x < width {
            // Whole zero words at a time: most of a row is no candidate.
            while x + 8 <= width, UnsafeRawPointer(row + x).loadUnaligned(as: UInt64.self) == 0 { x += 8 }
            while x < width, row[x] == EdgeState.none { x += 1 }
            guard x < width else { break }
            let start = x
            var states: UInt8 = 0
            while x < width, row[x] != EdgeState.none {
                states |= row[x]
                x += 1
            }
            parent.append(Int32(truncatingIfNeeded: parent.count))
            strong.append(states & EdgeState.edge != 0)
            runStarts.append(Int32(truncatingIfNeeded: start))
            runEnds.append(Int32(truncatingIfNeeded: x))
        }
    }

    /// Unites every run of `current` (a row's) with the runs of `above` (the row before's) it
    /// touches, 8-connected: `[a, b)` and `[c, d)` touch when `c <= b` and `a <= d`.
    private func joinRuns(_ above: Range<Int>, with current: Range<Int>, parent: inout [Int32]) {
        guard !above.isEmpty else { return }
        var k = above.lowerBound
        for i in current {
            let a = runStarts[i], b = runEnds[i]
            // Runs of the row above that end left of this one's reach touch no later run either.
            while k < above.upperBound && runEnds[k] < a { k += 1 }
            var j = k
            while j < above.upperBound && runStarts[j] <= b {
                UnionFind.unite(Int32(truncatingIfNeeded: i), Int32(truncatingIfNeeded: j), in: &parent)
                j += 1
            }
        }
    }

    /// Numbers the components, boundary ones first, and marks the strong ones.
    private mutating func number(parent: inout [Int32], runStrong: [Bool]) {
        let runs = runStarts.count
        var id = [Int32](repeating: -1, count: runs)
        var next: Int32 = 0
        func assign(_ run: Int) {
            let root = Int(UnionFind.find(Int32(truncatingIfNeeded: run), in: &parent))
            if id[root] < 0 { id[root] = next; next += 1 }
        }
        for run in rowRuns[0]..<rowRuns[1] { assign(run) }
        for run in rowRuns[rows.count - 1]..<rowRuns[rows.count] { assign(run) }
        boundaryCount = Int(next)
        components = [Int32](repeating: 0, count: runs)
        for run in 0..<runs {
            assign(run)
            components[run] = id[Int(UnionFind.find(Int32(truncatingIfNeeded: run), in: &parent))]
        }
        strong = [Bool](repeating: false, count: Int(next))
        for run in 0..<runs where runStrong[run] { strong[Int(components[run])] = true }
    }

    /// Number of components.
    public var count: Int { strong.count }

    /// The first or last own row as one component number per pixel: the boundary component
    /// there, or -1 where the pixel is no candidate (what the neighbouring band needs).
    public func boundaryRow(last: Bool) -> [Int32] {
        var labels = [Int32](repeating: -1, count: rows.isEmpty ? 0 : width)
        guard !rows.isEmpty else { return labels }
        let r = last ? rows.count - 1 : 0
        for run in rowRuns[r]..<rowRuns[r + 1] {
            for x in Int(runStarts[run])..<Int(runEnds[run]) { labels[x] = components[run] }
        }
        return labels
    }

    /// The pairs (this band's component, the band above's) that touch across the border, from
    /// the band above's last row as ``boundaryRow(last:)`` gives it: flattened, two per pair.
    /// A pair may repeat; the merge does not mind.
    public func touching(rowAbove: [Int32]) -> [Int32] {
        precondition(rowAbove.count == width, "the row above has \(rowAbove.count) pixels, not \(width)")
        guard !rows.isEmpty else { return [] }
        var pairs: [Int32] = []
        for run in rowRuns[0]..<rowRuns[1] {
            let mine = components[run]
            var last: Int32 = -1
            for x in max(0, Int(runStarts[run]) - 1)..<min(width, Int(runEnds[run]) + 1) {
                let theirs = rowAbove[x]
                if theirs >= 0 && theirs != last { pairs += [mine, theirs]; last = theirs }
            }
        }
        return pairs
    }

    /// The band as canny's output: 255 on the candidates of every component that is on, 0
    /// elsewhere. `boundaryOn` says which boundary components are (decided across the bands);
    /// every other component is on when it is strong.
    public func edges(boundaryOn: [Bool]) -> Band {
        precondition(boundaryOn.count == boundaryCount, "\(boundaryOn.count) boundary verdicts for \(boundaryCount) components")
        var on = strong
        on.replaceSubrange(0..<boundaryCount, with: boundaryOn)
        let width = self.width
        let pixels = PixelStorage.zeroed(count: rows.count * width)
        var out = Band(width: width, channels: 1, imageHeight: imageHeight, firstRow: rows.lowerBound, pixels: pixels)
        guard !rows.isEmpty else { return out }
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for r in 0..<rows.count {
                let row = dst.baseAddress! + r * width
                for run in rowRuns[r]..<rowRuns[r + 1] where on[Int(components[run])] {
                    let start = Int(runStarts[run])
                    (row + start).update(repeating: 255, count: Int(runEnds[run]) - start)
                }
            }
        }
        return out
    }

    /// The band's own verdict, right when it is the whole image: a component is on when it is
    /// strong.
    public func edges() -> Band { edges(boundaryOn: Array(strong[0..<boundaryCount])) }
}

/// What rank 0 decides from every band's boundary components: which reach a strong pixel
/// through the components of other bands they touch.
public enum BorderMerge {
    /// One band's part: its boundary components' strong flags, the band above it (an index
    /// into the same list, nil for the first band with rows), and the pairs (this band's
    /// component, that band's) that touch, flattened as ``EdgeComponents/touching(rowAbove:)``
    /// gives them.
    public struct Links: Sendable, Equatable {
        public var strong: [Bool]
        public var above: Int?
        public var pairs: [Int32]

        public init(strong: [Bool], above: Int?, pairs: [Int32]) {
            self.strong = strong; self.above = above; self.pairs = pairs
        }
    }

    /// Per band, which of its boundary components are on: those joined, through any chain of
    /// touching pairs across any number of borders, to a strong one.
    public static func resolve(_ bands: [Links]) -> [[Bool]] {
        var offsets: [Int] = [], total = 0
        for band in bands { offsets.append(total); total += band.strong.count }
        precondition(total < Int(Int32.max), "too many boundary components")
        var parent = (0..<Int32(truncatingIfNeeded: total)).map { $0 }
        for (b, band) in bands.enumerated() {
            guard let above = band.above else {
                precondition(band.pairs.isEmpty, "pairs with no band above")
                continue
            }
            let base = Int32(truncatingIfNeeded: offsets[b]), theirs = Int32(truncatingIfNeeded: offsets[above])
            var i = 0
            while i + 1 < band.pairs.count {
                precondition(band.pairs[i] < band.strong.count && band.pairs[i + 1] < bands[above].strong.count,
                             "a pair names no boundary component")
                UnionFind.unite(base + band.pairs[i], theirs + band.pairs[i + 1], in: &parent)
                i += 2
            }
        }
        var rootOn = [Bool](repeating: false, count: total)
        for (b, band) in bands.enumerated() {
            for (c, isStrong) in band.strong.enumerated() where isStrong {
                rootOn[Int(UnionFind.find(Int32(truncatingIfNeeded: offsets[b] + c), in: &parent))] = true
            }
        }
        return bands.indices.map { b in
            (0..<bands[b].strong.count).map { c in
                rootOn[Int(UnionFind.find(Int32(truncatingIfNeeded: offsets[b] + c), in: &parent))]
            }
        }
    }
}

/// A disjoint-set forest in an array of parents: a root is its own parent.
enum UnionFind {
    /// The root of `i`, halving the path on the way.
    @inline(__always)
    static func find(_ i: Int32, in parent: inout [Int32]) -> Int32 {
        var i = i
        parent.withUnsafeMutableBufferPointer { p in
            while p[Int(i)] != i {
                let grand = p[Int(p[Int(i)])]
                p[Int(i)] = grand
                i = grand
            }
        }
        return i
    }

    /// Joins the sets of `a` and `b`; the smaller root stays root, so a set's root is its
    /// earliest member.
    @inline(__always)
    static func unite(_ a: Int32, _ b: Int32, in parent: inout [Int32]) {
        let ra = find(a, in: &parent), rb = find(b, in: &parent)
        if ra < rb { parent[Int(rb)] = ra } else if rb < ra { parent[Int(ra)] = rb }
    }
}
