import ImageCore

/// What `bandsaw serve` listens on and how much it accepts: the command line's options.
public struct ServiceOptions: Sendable {
    /// The address to listen on; anything but loopback needs a token.
    public var host = "127.0.0.1"
    /// The TCP port (0: any free port, printed at start).
    public var port = 8080
    /// The bearer token every request but the page must carry (nil: none asked).
    public var token: String? = nil
    /// Uploads over this many bytes are refused with 413 while they are being read.
    public var maxUploadBytes = 256 << 20
    /// Images with more pixels are refused with 413, from the header (the engine's check).
    public var maxPixels = ImageLimits.defaultMaxPixels
    /// Jobs waiting behind the one running; one more is refused with 429.
    public var queueLength = 16
    /// Seconds from a request's arrival to its answer (queue wait and job included).
    public var requestTimeout = 120.0
    /// Seconds a client may take to send its whole upload.
    public var bodyTimeout = 30.0
    /// Seconds a connection may sit idle (no byte either way) before it is closed.
    public var idleTimeout = 30.0
    /// Bytes of request headers accepted (a header bomb is cut off here).
    public var maxHeaderBytes = 16 << 10
    /// The number of MPI ranks, for /v1/health.
    public var ranks = 1

    public init() {}

    /// Whether `host` is a loopback address, the only kind served without a token.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// The service's version as /v1/health reports it, with the API's.
public enum ServiceVersion {
    public static let version = "0.1.0"
    public static let api = "v1"
}
