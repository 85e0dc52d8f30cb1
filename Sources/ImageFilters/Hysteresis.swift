// Non-local stages and the hysteresis that makes them so: the kernel side of a filter whose
// output at a pixel can depend on pixels any distance away (canny). The driver's side, which
// passes the bands' border components between the ranks, is SPMDEngine's
// HysteresisExchange.swift; ``BorderMerge`` is what rank 0 decides from them.
import ImageCore

/// A stage whose last step is not local: its output at a pixel may depend on pixels any number
/// of rows away, so no halo makes a band exact on its own.
///
/// `halo` covers its local part, `edgeStates` (one ``EdgeState`` per pixel); the rest is
/// hysteresis (``HysteresisBand``), which the driver settles across the bands.
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

/// One band's edge states during hysteresis (its own rows), and what it tells the other bands.
///
/// Growth marks candidates (``EdgeState/weak``) 8-connected to edges as edges, depth first, as
/// OpenCV grows them. Across bands, in one exchange whatever the picture:
///
/// 1. Every band grows from its own edges (``growFromOwnEdges()``). That decides every
///    candidate whose component lies inside the band, and every component with an edge.
/// 2. What is left open is the weak components that reach the band's first or last row: a
///    chain through other bands may still turn them on. ``labelBorderComponents()`` numbers
///    them `1...`, marking their pixels ``pending``; component 0 stands for all the edges
///    (already on). The first and last row as component numbers go to the neighbours.
/// 3. Each band pairs its first row's components with the ones they touch in the last row of
///    the band above (``touching(rowAbove:)``); one place joins every band's pairs
///    (``BorderMerge``) and says which components reach a 0.
/// 4. Every band grows the pending components that are on (``settle(on:)``).
///
/// A candidate ends an edge exactly when its component in the whole image holds a strong
/// pixel: the components crossing borders are joined whole, however often they cross.
public struct HysteresisBand: Sendable {
    /// The states of the own rows.
    public var states: Band
    /// The band's own rows.
    public var owned: Range<Int> { states.rows }
    /// A weak pixel of a border component, waiting for the verdict (``settle(on:)``).
    static let pending: UInt8 = 3
    /// Per border component `1...`, one of its pixels in the first or last row (where its
    /// growth starts once it is on); index 0 unused.
    private var seeds: [Int32] = [-1]
    /// The first and last own row as component numbers (-1: no candidate), once labelled.
    public private(set) var firstRowComponents: [Int32] = [], lastRowComponents: [Int32] = []

    /// A band of the states of its own rows.
    public init(states: Band) {
        precondition(states.channels == 1, "edge states have one channel")
        self.states = states
    }

    /// Grows from every edge in the own rows.
    public mutating func growFromOwnEdges() {
        let width = states.width
        grow(from: 0..<(owned.count * width), through: EdgeState.weak)
    }

    /// Numbers the weak components that reach the first or last own row `1...` (marking
    /// their pixels ``pending``) and records both rows as component numbers: 0 for an edge, -1
    /// for no candidate. Call after ``growFromOwnEdges()``. Returns the number of components
    /// including 0.
    @discardableResult
    public mutating func labelBorderComponents() -> Int {
        let width = states.width, rows = owned.count
        var found: [Int32] = [-1]
        defer { seeds = found }
        guard rows > 0, width > 0 else { return 1 }
        var first = [Int32](repeating: -1, count: width), last = first
        let lastStart = (rows - 1) * width
        states.pixels.withUnsafeMutableBufferPointer { p in
            withFloodStack(count: p.count) { stack in
                for start in [0, lastStart] {
                    for i in start..<(start + width) where p[i] == EdgeState.weak {
                        let id = Int32(truncatingIfNeeded: found.count)
                        found.append(Int32(truncatingIfNeeded: i))
                        p[i] = Self.pending
                        stack[0] = Int32(truncatingIfNeeded: i)
                        flood(p, width: width, stack: stack, top: 1, through: EdgeState.weak, to: Self.pending) { j in
                            if j < width { first[j] = id }
                            if j >= lastStart { last[j - lastStart] = id }
                        }
                        if i < width { first[i] = id }
                        if i >= lastStart { last[i - lastStart] = id }
                    }
                }
            }
            for x in 0..<width {
                if p[x] == EdgeState.edge { first[x] = 0 }
                if p[lastStart + x] == EdgeState.edge { last[x] = 0 }
            }
        }
        firstRowComponents = first
        lastRowComponents = last
        return found.count
    }

    /// The pairs (this band's component, the band above's) that touch across the border,
    /// 8-connected, from the band above's ``lastRowComponents``: flattened, two per pair. Pairs
    /// of two edges (0 and 0) say nothing and are left out; a pair may repeat.
    public func touching(rowAbove: [Int32]) -> [Int32] {
        let width = states.width
        precondition(rowAbove.count == width && firstRowComponents.count == width, "rows of \(width) components expected")
        var pairs: [Int32] = []
        for x in 0..<width where firstRowComponents[x] >= 0 {
            let mine = firstRowComponents[x]
            for theirs in rowAbove[max(0, x - 1)..<min(width, x + 2)] where theirs > 0 || (theirs == 0 && mine > 0) {
                if pairs.count >= 2 && pairs[pairs.count - 2] == mine && pairs[pairs.count - 1] == theirs { continue }
                pairs += [mine, theirs]
            }
        }
        return pairs
    }

    /// Grows the border components `on` says are on (`on[c]` for component `c`; `on[0]`, the
    /// edges, is ignored); the others stay off.
    public mutating func settle(on: [Bool]) {
        precondition(on.count == seeds.count, "\(on.count) verdicts for \(seeds.count) components")
        let width = states.width, seeds = self.seeds
        states.pixels.withUnsafeMutableBufferPointer { p in
            withFloodStack(count: p.count) { stack in
                for c in 1..<max(1, seeds.count) where on[c] {
                    let i = Int(seeds[c])
                    guard p[i] == Self.pending else { continue }
                    p[i] = EdgeState.edge
                    stack[0] = Int32(truncatingIfNeeded: i)
                    flood(p, width: width, stack: stack, top: 1, through: Self.pending, to: EdgeState.edge) { _ in }
                }
            }
        }
    }

    /// The own rows as canny's output: 255 for an edge, 0 for anything else.
    public func edges() -> Band {
        let own = states.pixels
        // edge (2) -> 255; none, weak and pending (0, 1, 3) -> 0, without a branch so the loop
        // vectorises. A fresh output like every kernel's, so huge pages where offered (4 KiB page
        // faults were ~10% of canny's samples on 16 MP under perf; this output was one source).
        let pixels = PixelStorage.uninitialized(count: own.count) { out in
            own.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = ((src[i] &>> 1) & ~src[i] & 1) &* 255 }
            }
        }
        return Band(width: states.width, channels: 1, imageHeight: states.imageHeight, firstRow: owned.lowerBound,
                    pixels: pixels)
    }

    /// Depth-first growth from every edge among pixels `seeds` through the 8-connected pixels
    /// in state `through`, which become edges.
    private mutating func grow(from seeds: Range<Int>, through: UInt8) {
        let width = states.width
        guard !owned.isEmpty, width > 0 else { return }
        states.pixels.withUnsafeMutableBufferPointer { p in
            withFloodStack(count: p.count) { stack in
                var top = 0, i = seeds.lowerBound
                while i < seeds.upperBound {
                    // Eight states at a time: edges are rare, and only an edge (2) or a pending
                    // pixel (3) has bit 1 set.
                    if i &+ 8 <= seeds.upperBound,
                       UnsafeRawPointer(p.baseAddress! + i).loadUnaligned(as: UInt64.self) & 0x0202_0202_0202_0202 == 0 {
                        i &+= 8
                        continue
                    }
                    if p[i] == EdgeState.edge {
                        stack[top] = Int32(truncatingIfNeeded: i)
                        top &+= 1
                    }
                    i &+= 1
                }
                flood(p, width: width, stack: stack, top: top, through: through, to: EdgeState.edge) { _ in }
            }
        }
    }
}

/// Runs `body` with a stack for ``flood(_:width:stack:top:through:to:reached:)`` on `count`
/// pixels: every pixel enters it at most once, so it never outgrows them.
@inline(__always)
private func withFloodStack(count: Int, _ body: (UnsafeMutablePointer<Int32>) -> Void) {
    precondition(count < Int(Int32.max), "band too large for 32-bit pixel indices")
    let stack = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
    defer { stack.deallocate() }
    body(stack)
}

/// Depth-first fill from the `top` pixels on `stack` (already in state `to`) through the
/// 8-connected pixels of state `through` in the band `p` (rows of `width`), turning each into
/// `to` and calling `reached` with its index.
@inline(__always)
private func flood(_ p: UnsafeMutableBufferPointer<UInt8>, width: Int, stack: UnsafeMutablePointer<Int32>, top: Int,
                   through: UInt8, to: UInt8, reached: (Int) -> Void) {
    let end = p.count
    var top = top
    /// Turns pixel `j` into `to` and pushes it when it is in state `through` (`top` passed
    /// inout: nothing captured is mutated, so no dynamic exclusivity checks in the loop).
    @inline(__always) func reach(_ j: Int, _ top: inout Int) {
        guard p[j] == through else { return }
        p[j] = to
        stack[top] = Int32(truncatingIfNeeded: j)
        top &+= 1
        reached(j)
    }
    while top > 0 {
        top &-= 1
        let i = Int(stack[top])
        // 32-bit division: several times faster than 64-bit on common x86-64 cores.
        let x = Int(UInt32(truncatingIfNeeded: i) % UInt32(truncatingIfNeeded: width))
        let hasLeft = x > 0, hasRight = x < width - 1
        if i >= width {
            if hasLeft { reach(i &- width &- 1, &top) }
            reach(i &- width, &top)
            if hasRight { reach(i &- width &+ 1, &top) }
        }
        if i &+ width < end {
            if hasLeft { reach(i &+ width &- 1, &top) }
            reach(i &+ width, &top)
            if hasRight { reach(i &+ width &+ 1, &top) }
        }
        if hasLeft { reach(i &- 1, &top) }
        if hasRight { reach(i &+ 1, &top) }
    }
}
