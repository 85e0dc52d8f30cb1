// Non-local stages and the hysteresis that makes them so: the kernel side of a filter whose
// output at a pixel can depend on pixels any distance away (canny). The driver's side, which
// runs the rounds across the ranks, is SPMDEngine's BandFilter.swift (tested on in-process
// ranks by SPMDEngineTests).
import ImageCore

/// A stage whose last step is not local: its output at a pixel may depend on pixels any number
/// of rows away, so no halo makes a band exact on its own.
///
/// `halo` covers its local part, `edgeStates` (one ``EdgeState`` per pixel); the rest is
/// hysteresis (``HysteresisBand``), which the driver runs to a fixed point across the bands.
/// `apply(_:rows:)` runs both on `rows` alone and is exact only for the whole image.
public protocol NonLocalKernel: Kernel {
    /// The local part: one ``EdgeState`` byte per pixel of `rows`; `input` holds `rows` widened
    /// by `halo` (clamped to the image), as for `apply`.
    func edgeStates(_ input: Band, rows: Range<Int>) -> Band
}

/// The states of a pixel during hysteresis, one byte each.
public enum EdgeState {
    /// Not an edge and never one.
    public static let none: UInt8 = 0
    /// A candidate: an edge only if 8-connected through candidates to an edge.
    public static let weak: UInt8 = 1
    /// An edge: strong from the start, or a candidate reached from one.
    public static let edge: UInt8 = 2
}

extension Pipeline {
    /// Whether every stage is local (no ``NonLocalKernel``): then `apply(_:rows:)` is exact on any
    /// band holding `totalHalo` rows around `rows`.
    public var isLocal: Bool { !stages.contains { $0 is any NonLocalKernel } }

    /// The pipeline cut after each non-local stage: every part but the last ends with one, and
    /// no other stage of a part is non-local. A banded run does each part's local stages with
    /// the part's `totalHalo`, then the hysteresis across bands, then widens again for the next part.
    public var parts: [Pipeline] {
        var parts: [Pipeline] = []
        var current: [any Kernel] = []
        for stage in stages {
            current.append(stage)
            if stage is any NonLocalKernel { parts.append(Pipeline(current)); current = [] }
        }
        if !current.isEmpty || parts.isEmpty { parts.append(Pipeline(current)) }
        return parts
    }
}

/// One band's edge states during hysteresis: its own rows plus, where the image has them, one
/// ghost row above and below holding the neighbouring bands' boundary rows.
///
/// Growth marks candidates (``EdgeState/weak``) 8-connected to edges as edges, only in the
/// band's own rows; ghost rows are written by whoever owns the neighbouring rows (an exchange).
/// The distributed rounds: every band grows from its own edges; then, until no band's boundary
/// rows changed in a round, the bands exchange ghost rows and grow from them. Each round moves
/// an edge chain across at least one more border, so a chain that crosses borders `k` times
/// takes at most `k + 1` rounds, and the fixed point is the whole-image hysteresis: an edge
/// reaches every candidate connected to it, whichever bands the path crosses.
public struct HysteresisBand: Sendable {
    /// The states of rows `held`: the own rows and the ghost rows.
    public var states: Band
    /// The band's own rows.
    public let owned: Range<Int>

    /// A band of the states of its own rows `states.rows`, with zeroed ghost rows added.
    public init(states own: Band) {
        owned = own.rows
        let held = owned.isEmpty ? owned : max(0, owned.lowerBound - 1)..<min(own.imageHeight, owned.upperBound + 1)
        var pixels = [UInt8](repeating: EdgeState.none, count: held.count * own.width)
        let offset = (owned.lowerBound - held.lowerBound) * own.width
        pixels.replaceSubrange(offset..<(offset + own.pixels.count), with: own.pixels)
        states = Band(width: own.width, channels: 1, imageHeight: own.imageHeight, firstRow: held.lowerBound,
                      pixels: pixels)
    }

    /// Rows `states` holds: the own rows and the ghost rows.
    public var held: Range<Int> { states.rows }
    /// The ghost rows (0, 1 or 2 of them).
    public var ghostRows: [Int] { [held.lowerBound, held.upperBound - 1].filter { !owned.contains($0) && held.contains($0) } }

    /// Grows from every edge in the own rows; returns whether a boundary row gained an edge.
    @discardableResult
    public mutating func growFromOwnEdges() -> Bool { grow(from: owned) }

    /// Grows from the edges in the ghost rows (after an exchange); returns whether a boundary
    /// row (the first or last own row) gained an edge, so the neighbours need another round.
    @discardableResult
    public mutating func growFromGhostRows() -> Bool {
        var changed = false
        for row in ghostRows { changed = grow(from: row..<(row + 1)) || changed }
        return changed
    }

    /// The states of row `y` of `held`.
    public func row(_ y: Int) -> ArraySlice<UInt8> {
        let start = (y - held.lowerBound) * states.width
        return states.pixels[start..<(start + states.width)]
    }

    /// Overwrites ghost row `y` with the states its owner holds (an exchange).
    public mutating func setGhostRow(_ y: Int, to row: ArraySlice<UInt8>) {
        precondition(ghostRows.contains(y) && row.count == states.width, "row \(y) is not a ghost row of \(held)")
        let start = (y - held.lowerBound) * states.width
        states.pixels.replaceSubrange(start..<(start + states.width), with: row)
    }

    /// The own rows as canny's output: 255 for an edge, 0 for anything else.
    public func edges() -> Band {
        let offset = (owned.lowerBound - held.lowerBound) * states.width
        let own = states.pixels[offset..<(offset + owned.count * states.width)]
        // edge (2) -> 255, weak (1) and none (0) -> 0, without a branch so the loop vectorises.
        let pixels = [UInt8](unsafeUninitializedCapacity: own.count) { out, n in
            own.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = (src[i] &>> 1) &* 255 }
            }
            n = own.count
        }
        return Band(width: states.width, channels: 1, imageHeight: states.imageHeight, firstRow: owned.lowerBound,
                    pixels: pixels)
    }

    /// Depth-first growth from every edge in `seeds` (rows of `held`) through the 8-connected
    /// candidates of the own rows. Returns whether the first or last own row gained an edge.
    private mutating func grow(from seeds: Range<Int>) -> Bool {
        let width = states.width, base = held.lowerBound, owned = self.owned
        guard !owned.isEmpty, width > 0 else { return false }
        let firstIndex = (owned.lowerBound - base) * width, endIndex = (owned.upperBound - base) * width
        let topEnd = firstIndex + width, bottomStart = endIndex - width
        return states.pixels.withUnsafeMutableBufferPointer { p in
            // Every pixel enters the stack at most once (as a seed, or as a candidate turning
            // edge), so the stack never outgrows the band.
            precondition(p.count < Int(Int32.max), "band too large for 32-bit pixel indices")
            let stack = UnsafeMutablePointer<Int32>.allocate(capacity: p.count)
            defer { stack.deallocate() }
            var top = 0, changed = false
            for i in ((seeds.lowerBound - base) * width)..<((seeds.upperBound - base) * width) where p[i] == EdgeState.edge {
                stack[top] = Int32(truncatingIfNeeded: i)
                top &+= 1
            }
            /// Marks candidate `j` an edge and pushes it (state passed inout: nothing captured
            /// is mutated, so no dynamic exclusivity checks in the loop).
            @inline(__always) func reach(_ j: Int, _ top: inout Int, _ changed: inout Bool) {
                guard p[j] == EdgeState.weak else { return }
                p[j] = EdgeState.edge
                stack[top] = Int32(truncatingIfNeeded: j)
                top &+= 1
                if j < topEnd || j >= bottomStart { changed = true }
            }
            while top > 0 {
                top &-= 1
                let i = Int(stack[top])
                let x = i % width
                let hasLeft = x > 0, hasRight = x < width - 1
                // The row above and the row below where they are own rows, then this row.
                if i &- width >= firstIndex {
                    if hasLeft { reach(i &- width &- 1, &top, &changed) }
                    reach(i &- width, &top, &changed)
                    if hasRight { reach(i &- width &+ 1, &top, &changed) }
                }
                if i &+ width < endIndex {
                    if hasLeft { reach(i &+ width &- 1, &top, &changed) }
                    reach(i &+ width, &top, &changed)
                    if hasRight { reach(i &+ width &+ 1, &top, &changed) }
                }
                if hasLeft { reach(i &- 1, &top, &changed) }
                if hasRight { reach(i &+ 1, &top, &changed) }
            }
            return changed
        }
    }
}
