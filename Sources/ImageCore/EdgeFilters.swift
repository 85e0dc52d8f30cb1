extension Filters {
    /// Gradient and edge filters (sobel, prewitt, scharr, laplacian, emboss) and threshold.
    static let edge: [FilterDescriptor] = []
}
