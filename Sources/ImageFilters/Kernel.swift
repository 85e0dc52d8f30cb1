import ImageCore

/// One filter stage, with its parameters already bound.
///
/// The contract that makes banded output exact: `apply(_:rows:)` computes output rows `rows`
/// reading only input rows within `halo` of them, clamped to the image (`0..<imageHeight`),
/// and treats rows and columns beyond the image edge by the border rule (replicate the edge
/// pixel). Rows beyond the *band's* edge are never invented: the caller guarantees they are present.
public protocol Kernel: Sendable {
    /// Rows needed above and below each output row.
    var halo: Int { get }
    /// Channels of the output for `inputChannels` channels in.
    func outputChannels(forInput inputChannels: Int) -> Int
    /// Computes image rows `rows` from `input`, which must hold every row of
    /// `max(0, rows.lowerBound - halo) ..< min(imageHeight, rows.upperBound + halo)`.
    func apply(_ input: Band, rows: Range<Int>) -> Band
    /// The same kernel computed on `path` (same bits, other instructions). Kernels with no
    /// vector path of their own return themselves.
    func using(_ path: SIMDPath) -> any Kernel
}

extension Kernel {
    public func using(_ path: SIMDPath) -> any Kernel { self }
}

extension Band {
    /// The rows `rows` expanded by `halo` and clamped to the image: what a kernel reads.
    @inlinable public func rowsNeeded(for rows: Range<Int>, halo: Int) -> Range<Int> {
        if rows.isEmpty { return rows }
        return Swift.max(0, rows.lowerBound - halo)..<Swift.min(imageHeight, rows.upperBound + halo)
    }

    /// An empty output band of the given channel count for `rows`, to be filled by a kernel.
    public func makeOutput(rows: Range<Int>, channels outChannels: Int) -> Band {
        Band(width: width, channels: outChannels, imageHeight: imageHeight, firstRow: rows.lowerBound,
             pixels: PixelStorage.zeroed(count: rows.count * width * outChannels))
    }

    /// An output band for `rows` whose samples `fill` writes, every one (so no zeroing first).
    func makeOutput(rows: Range<Int>, channels outChannels: Int,
                    filling fill: (UnsafeMutablePointer<UInt8>) -> Void) -> Band {
        let count = rows.count * width * outChannels
        return Band(width: width, channels: outChannels, imageHeight: imageHeight, firstRow: rows.lowerBound,
                    pixels: PixelStorage.uninitialized(count: count) { if count > 0, let base = $0.baseAddress { fill(base) } })
    }

    /// Checks the kernel contract's precondition: every row the kernel may read is present.
    @inlinable public func assertHolds(_ rows: Range<Int>, halo: Int) {
        let need = rowsNeeded(for: rows, halo: halo)
        precondition(need.isEmpty || (need.lowerBound >= firstRow && need.upperBound <= firstRow + rowCount),
                     "band \(self.rows) lacks rows \(need) needed for \(rows) with halo \(halo)")
    }
}

/// An ordered list of kernels, applied one after another.
public struct Pipeline: Sendable {
    public var stages: [any Kernel]

    public init(_ stages: [any Kernel]) { self.stages = stages }

    /// Every stage on `path`.
    public func using(_ path: SIMDPath) -> Pipeline { Pipeline(stages.map { $0.using(path) }) }

    /// Rows needed above and below for the whole pipeline run in one go (the "wide halo").
    public var totalHalo: Int { stages.reduce(0) { $0 + $1.halo } }

    /// Output channels for `inputChannels` in.
    public func outputChannels(forInput inputChannels: Int) -> Int {
        stages.reduce(inputChannels) { $1.outputChannels(forInput: $0) }
    }

    /// Computes rows `rows` through every stage from `input`, which must hold `rows` widened by
    /// `totalHalo` (clamped to the image). Each stage computes only the rows later stages still
    /// need, so the band shrinks back to `rows` by the end. With a non-local stage (``isLocal``
    /// false) this is exact only when `rows` is the whole image; the SPMD driver and the banded
    /// tests run such a pipeline part by part (``parts``) instead.
    public func apply(_ input: Band, rows: Range<Int>) -> Band {
        var current = input
        var remaining = totalHalo
        for stage in stages {
            remaining -= stage.halo
            let target = current.rowsNeeded(for: rows, halo: remaining)
            current = stage.apply(current, rows: target)
        }
        if stages.isEmpty { return current.slice(rows: rows) }
        return current
    }

    /// The whole image through every stage: the single-process reference.
    public func apply(_ image: Image) -> Image {
        apply(image.asBand, rows: 0..<image.height).asImage
    }
}
