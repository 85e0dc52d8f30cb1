/// One image of a batch in the JSON report: where it ran, how long it took and how it ended.
/// The report lists them in the order they were done (their outputs renamed into place), which
/// under the committer is not always the order they were handed out.
public struct BatchEntry: Codable, Sendable, Equatable {
    public var input: String
    public var output: String
    /// The rank that processed it (0 for an image banded across all ranks).
    public var rank: Int
    /// `dealt` (one rank, whole) or `banded` (across all ranks).
    public var schedule: String
    /// `written` or `failed`.
    public var status: String
    /// Wall seconds on the rank that processed it.
    public var seconds: Double
    /// How the input reached the rank: `read` (it read the file itself) or `sent` (rank 0 sent
    /// the file's stored bytes).
    public var input_access: String
    /// How the output was written: `wrote` (by the rank itself) or `sent` (the encoded bytes
    /// went to rank 0, which wrote them).
    public var output_access: String
    /// Megapixels of the image (0 when it failed before its size was known).
    public var megapixels: Double
    /// The image's own exit status (``RunStatus``), so that a caller answering per image (the
    /// service) tells a bad image from an internal failure; set when the entry is recorded.
    public var exit: Int? = nil
}

/// One rank's share of a batch: the images it processed and its time spent on them.
public struct RankLoad: Codable, Sendable, Equatable {
    public var rank: Int
    public var images: Int
    public var busy_s: Double
}

extension PhaseSummary: Decodable {
    /// Reads what ``encode(to:)`` writes (a dealt image's report travels from its rank as JSON).
    public init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        var max: [Double] = [], mean: [Double] = []
        for phase in Phase.allCases {
            let figures = try object.nestedContainer(keyedBy: Key.self, forKey: Key(phase.name))
            max.append((try figures.decodeIfPresent(Double.self, forKey: Key("max_ms")) ?? .nan) / 1000)
            mean.append((try figures.decodeIfPresent(Double.self, forKey: Key("mean_ms")) ?? .nan) / 1000)
        }
        let total = (try object.decodeIfPresent(Double.self, forKey: Key("total_ms")) ?? .nan) / 1000
        self.init(max: max, mean: mean, total: total)
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
