/// Rank 0's word on the whole run: how many images follow, or why there are none.
struct JobListHeader: Equatable {
    var status = RunStatus.success
    var count = 0

    var wire: [Int64] { [Int64(status.rawValue), Int64(count)] }

    init(status: RunStatus = .success, count: Int = 0) { self.status = status; self.count = count }

    init(wire w: [Int64]) {
        precondition(w.count == 2, "a job list header has 2 fields")
        status = RunStatus(rawValue: Int(w[0])) ?? .failure
        count = Int(w[1])
    }
}

/// An image's size.
struct Shape: Equatable {
    var width = 0, height = 0, channels = 0
}

/// What rank 0 tells every rank about an image before any pixel moves: one broadcast, encoded
/// and decoded here and nowhere else.
struct JobHeader: Equatable {
    var shape = Shape()
    /// Which band source serves the image (``BandSources/kind(of:)``) and its parameters.
    var source = 0
    var sourceParameters: [Int64] = []
    /// Which band sink takes the result (``BandSinks/kind(of:)``).
    var sink = 0

    /// The most parameters a band source sends.
    static let parameterCount = 2
    static let wireCount = 5 + parameterCount

    /// The header as the broadcast carries it.
    var wire: [Int64] {
        precondition(sourceParameters.count <= Self.parameterCount, "a band source sends at most \(Self.parameterCount) parameters")
        let parameters = sourceParameters + [Int64](repeating: 0, count: Self.parameterCount - sourceParameters.count)
        return [Int64(shape.width), Int64(shape.height), Int64(shape.channels),
                Int64(source), Int64(sink)] + parameters
    }

    init() {}

    init(wire w: [Int64]) {
        precondition(w.count == Self.wireCount, "a job header has \(Self.wireCount) fields")
        shape = Shape(width: Int(w[0]), height: Int(w[1]), channels: Int(w[2]))
        source = Int(w[3]); sink = Int(w[4])
        sourceParameters = Array(w[5...])
    }
}
