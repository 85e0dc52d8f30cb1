extension Filters {
    /// Gradient and edge filters (sobel, prewitt, scharr, laplacian, emboss) and threshold.
    ///
    /// The gray-output filters work on the shared luma (`luma()`: `(77 R + 150 G + 29 B + 128) >> 8`,
    /// channel 0 for gray and gray+alpha inputs; alpha is dropped). Every 3x3 filter uses the
    /// replicate border rule (coordinates clamped to the image) for rows and columns, and exact
    /// integer arithmetic up to the documented final rounding, so banded output equals whole-image
    /// output bit for bit. The kernels' doc comments give the exact formulas.
    static let edge: [FilterDescriptor] = [
        FilterDescriptor(
            name: "sobel",
            summary: "Sobel gradient magnitude of luma: round(sqrt(Gx²+Gy²)), clamped to 255.",
            outputMode: .gray) { _ in GradientKernel(op: .sobel) },
        FilterDescriptor(
            name: "prewitt",
            summary: "Prewitt gradient magnitude of luma: round(sqrt(Gx²+Gy²)), clamped to 255.",
            outputMode: .gray) { _ in GradientKernel(op: .prewitt) },
        FilterDescriptor(
            name: "scharr",
            summary: "Scharr gradient magnitude of luma, scaled by 1/4: round(sqrt(Gx²+Gy²)/4) (halves to even), clamped to 255.",
            outputMode: .gray) { _ in GradientKernel(op: .scharr) },
        FilterDescriptor(
            name: "laplacian",
            summary: "4-neighbour Laplacian of luma: |up+down+left+right-4·centre|, clamped to 255.",
            outputMode: .gray) { _ in LaplacianKernel() },
        FilterDescriptor(
            name: "emboss",
            summary: "3x3 emboss (weights summing to 1, light from the top left) of each colour channel, clamped; alpha kept.",
            outputMode: .sameChannels) { _ in EmbossKernel() },
        FilterDescriptor(
            name: "threshold",
            summary: "Luma at or above `value` becomes 255, below becomes 0.",
            parameters: [ParameterSpec("value", .int, 0...255, default: 128,
                                       help: "luma level from which a pixel turns white")],
            outputMode: .gray) { p in ThresholdKernel(value: p.int("value")) },
    ]
}
