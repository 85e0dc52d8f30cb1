// The registry of every filter `--op` can name. Parameters, descriptors and `--op` parsing:
// FilterSpec.swift; the kernels: Kernels/.
import ImageCore

/// The filter registry: every filter `--op` can name, in the order `bandsaw ops` lists them.
public enum Filters {
    /// Every filter: the edge filters, then smoothing, then the point filters.
    public static let all: [FilterDescriptor] = edge + smoothing + point

    /// Point filters: no halo.
    static let point: [FilterDescriptor] = [
        FilterDescriptor(name: "grayscale", summary: "Luma from RGB (BT.601 integer weights); alpha dropped.",
                         outputMode: .gray) { _ in GrayscaleKernel() },
        FilterDescriptor(name: "invert", summary: "255 minus each colour sample; alpha kept.",
                         outputMode: .sameChannels) { _ in InvertKernel() },
    ]

    /// Looks a filter up by name.
    public static func named(_ name: String) -> FilterDescriptor? { all.first { $0.name == name } }
}
