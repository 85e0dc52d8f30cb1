import ImageCore

extension Filters {
    /// Smoothing and sharpening filters (gaussian, box, median, sharpen).
    ///
    /// All keep the input's channels and filter every channel on its own, alpha included (a blurred
    /// RGBA image has blurred alpha, as if each channel were a gray image). Borders replicate the edge
    /// pixels. All arithmetic is integer, so results are exact and identical for any band split; the
    /// kernels in `Kernels/Smoothing*.swift` document their rounding.
    static let smoothing: [FilterDescriptor] = [
        FilterDescriptor(
            name: "gaussian",
            summary: "Gaussian blur (separable, 15-bit fixed-point weights, radius ceil(3 sigma)); every channel incl. alpha.",
            parameters: [ParameterSpec("sigma", .double, 0.1...64, default: 1.5, help: "standard deviation in pixels")],
            outputMode: .sameChannels
        ) { GaussianKernel(sigma: $0["sigma"]) },
        FilterDescriptor(
            name: "box",
            summary: "Mean over a size x size window, rounded; every channel incl. alpha.",
            parameters: [ParameterSpec("size", .int, 1...255, default: 3, odd: true, help: "window side in pixels")],
            outputMode: .sameChannels
        ) { BoxKernel(size: $0.int("size")) },
        FilterDescriptor(
            name: "median",
            summary: "Median over a size x size window, per channel (constant-time histograms); every channel incl. alpha.",
            parameters: [ParameterSpec("size", .int, 1...101, default: 3, odd: true, help: "window side in pixels")],
            outputMode: .sameChannels
        ) { MedianKernel(size: $0.int("size")) },
        FilterDescriptor(
            name: "sharpen",
            summary: "Unsharp mask: x + amount (x - gaussian(x)), amount in 1/256 steps; every channel incl. alpha.",
            parameters: [
                ParameterSpec("amount", .double, 0...10, default: 1.0, help: "strength; 0 leaves the image unchanged"),
                ParameterSpec("sigma", .double, 0.1...32, default: 1.0, help: "standard deviation of the blur in pixels"),
            ],
            outputMode: .sameChannels
        ) { SharpenKernel(amount: $0["amount"], sigma: $0["sigma"]) },
    ]
}
