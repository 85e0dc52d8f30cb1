import ImageCore

extension Filters {
    /// Gradient and edge filters (sobel, prewitt, scharr, laplacian, emboss), threshold and canny.
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
        FilterDescriptor(
            name: "canny",
            summary: "Canny edges of luma, as OpenCV's Canny (3x3 Sobel, L1 or L2 magnitude, NMS, hysteresis): 0 or 255. Non-local: hysteresis joins the chains that cross bands, in one exchange.",
            parameters: [
                ParameterSpec("low", .double, 0...32767, default: 50,
                              help: "weak-edge threshold: a local maximum with magnitude above floor(low)"),
                ParameterSpec("high", .double, 0...32767, default: 150,
                              help: "strong-edge threshold (at least low): magnitude above floor(high) starts an edge"),
                ParameterSpec("sigma", .double, 0...64, default: 0,
                              help: "Gaussian pre-blur as the gaussian filter (0 for none, else at least 0.1)"),
                ParameterSpec("l2", .bool, 0...1, default: 0,
                              help: "magnitude sqrt(Gx²+Gy²) instead of |Gx|+|Gy| (OpenCV's L2gradient)"),
            ],
            outputMode: .gray,
            constraint: { p in
                if p["low"] > p["high"] { return "low=\(p["low"]) is above high=\(p["high"]): expected low <= high" }
                if p["sigma"] > 0 && p["sigma"] < 0.1 { return "sigma=\(p["sigma"]) is out of range: expected 0 or 0.1...64" }
                return nil
            }) { p in CannyKernel(low: p["low"], high: p["high"], l2: p.bool("l2"), sigma: p["sigma"]) },
    ]
}
