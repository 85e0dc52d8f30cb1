import ImageCodecs
import ImageCore
import ImageFilters

/// One input image and where its result goes (known to rank 0 only).
public struct ImageJob: Sendable, Equatable {
    public var input: String
    public var output: String

    public init(input: String, output: String) { self.input = input; self.output = output }
}

/// How halo rows are provided when the pipeline has several stages.
public enum HaloMode: String, CaseIterable, Sendable {
    /// One exchange of the summed halo of every stage before the first; each stage then
    /// computes only the rows later stages still need. One round of messages, some rows
    /// computed twice on neighbouring ranks.
    case wide
    /// An exchange of each stage's own halo before that stage. No redundant computation,
    /// one round of messages per stage.
    case perStage = "per-stage"
}

/// Who encodes PNG and JPEG output.
public enum PNGEncoding: String, CaseIterable, Sendable {
    /// Every rank filters and deflates its own rows; rank 0 stitches the pieces.
    case parallel
    /// Rank 0 gathers the pixels and encodes the whole image with libpng.
    case serial
}

/// Who decodes a PNG, TIFF or JPEG input when there is more than one rank.
public enum SharedDecode: String, CaseIterable, Sendable {
    /// Shared: every rank decodes its own restart segments (PNGs written by bandsaw), or
    /// rank 0 inflates and every rank unfilters its own rows (other 8-bit PNGs); every rank
    /// decodes its own strips or tiles of a TIFF it can open; every rank decodes its own rows
    /// of a JPEG, from their restart segments or after skipping the rows above.
    case auto
    /// Rank 0 decodes the whole image and scatters pixels (for comparison).
    case whole
}

/// Who reads and writes PGM/PPM files.
public enum PNMAccess: String, CaseIterable, Sendable {
    /// Rank 0 reads and writes every file; pixels pass through it.
    case root
    /// Every rank reads its own rows and writes its own output rows (MPI-IO); every rank must
    /// see the files (one host, or a shared filesystem). Other formats are read as with root.
    case mpiio
}

/// What every rank needs to run a job, identical on all ranks (each parses the same argv).
public struct RunSettings: Sendable {
    public var specs: [FilterSpec]
    public var haloMode: HaloMode
    public var maxPixels: Int
    public var compressionLevel: Int
    public var encoding: PNGEncoding
    /// Whether the ranks share the decode of a PNG or TIFF.
    public var decoding: SharedDecode
    /// Who reads and writes PGM/PPM files.
    public var io: PNMAccess
    /// JPEG quality, or lossy WebP at this quality (nil: JPEG 90, WebP lossless).
    public var quality: Int?
    /// Whether a JPEG's EXIF orientation is applied on reading.
    public var autorotate: Bool
    /// The kernel path every stage runs (nil: the process's own, ``SIMDPath/active``); the
    /// engine tests run each path this way.
    public var kernelPath: SIMDPath?
    /// Where a one-rank run hands its written output for the sync and rename (a batch's
    /// ``OutputCommitter``; rank-local, not part of what the ranks agree on). nil: the run
    /// syncs and renames itself before it returns, as a single image always does.
    public var committer: OutputCommitter?

    /// How rank 0 encodes a gathered image.
    var encodeOptions: EncodeOptions { EncodeOptions(compressionLevel: compressionLevel, quality: quality) }

    var pipeline: Pipeline { kernelPath.map { Pipeline(specs: specs).using($0) } ?? Pipeline(specs: specs) }

    public init(specs: [FilterSpec], haloMode: HaloMode = .wide, maxPixels: Int = ImageLimits.defaultMaxPixels,
                compressionLevel: Int = 1, encoding: PNGEncoding = .parallel, decoding: SharedDecode = .auto,
                io: PNMAccess = .root, quality: Int? = nil, autorotate: Bool = true, kernelPath: SIMDPath? = nil) {
        self.specs = specs; self.haloMode = haloMode; self.maxPixels = maxPixels
        self.compressionLevel = compressionLevel; self.encoding = encoding; self.decoding = decoding; self.io = io
        self.quality = quality; self.autorotate = autorotate; self.kernelPath = kernelPath
    }
}
