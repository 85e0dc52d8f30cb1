extension Filters {
    /// Smoothing and sharpening filters (gaussian, box, median, sharpen).
    static let smoothing: [FilterDescriptor] = []
}
