/// One image to process, as the HTTP side hands it to the MPI thread.
public struct JobRequest: Sendable {
    /// Command-line options for the job (`--op=SPEC`, `--quality=Q`), parsed by every rank the
    /// way `bandsaw process` parses its own: the same settings, so the same bytes.
    public var options: [String]
    /// The output extension (png, jpg, ...), checked against the formats bandsaw writes.
    public var format: String
    /// The uploaded file.
    public var upload: [UInt8]

    public init(options: [String], format: String, upload: [UInt8]) {
        self.options = options; self.format = format; self.upload = upload
    }
}

/// How a job ended, as the client will be told.
public struct JobResult: Sendable {
    /// The HTTP status: 200, or the error's code.
    public var status: Int
    /// The output image (200) or nothing.
    public var body: [UInt8]
    /// The one line the command line would print after `error: ` (nil on success).
    public var error: String?
    /// Each phase's slowest-rank time in milliseconds, in the engine's order, then `total`.
    public var phases: [(name: String, milliseconds: Double)]
    /// The engine's JSON report of the image (nil when it failed).
    public var report: String?
    /// Which rank processed the image: its number when the image was dealt whole to one rank
    /// (a batch), `all` when it was banded across every rank; sent as `Bandsaw-Rank`.
    public var rank: String?

    public init(status: Int, body: [UInt8] = [], error: String? = nil,
                phases: [(name: String, milliseconds: Double)] = [], report: String? = nil) {
        self.status = status; self.body = body; self.error = error; self.phases = phases; self.report = report
    }

    /// A failure with the line to show.
    public static func failure(_ status: Int, _ line: String) -> JobResult { JobResult(status: status, error: line) }

    /// The outcome label of `bandsaw_jobs_total`.
    public var outcome: String {
        switch status {
        case 200: return "ok"
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 408: return "slow_client"
        case 413: return "too_large"
        case 415: return "unsupported"
        case 422: return "corrupt"
        case 429: return "queue_full"
        case 503: return "unavailable"
        default: return "error"
        }
    }
}
