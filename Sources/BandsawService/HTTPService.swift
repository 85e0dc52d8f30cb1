import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import ImageCore
import Logging
import NIOCore
import ServiceLifecycle

/// Rank 0's HTTP side of `bandsaw serve`: the routes, the limits, the token. Every job goes
/// through ``JobQueue`` to the MPI thread; nothing here calls MPI.
public final class HTTPService: Sendable {
    /// Checks a job's command-line options and output format the way `bandsaw process` does:
    /// nil when they parse, else the one line the command line would print after `error: `.
    public typealias Validator = @Sendable (_ options: [String], _ format: String) -> String?

    let options: ServiceOptions
    let queue: JobQueue
    let validate: Validator
    let opsJSON: String
    let metrics: ServiceMetrics
    let token: BearerToken?
    private let group: LockedBox<ServiceGroup?> = LockedBox(nil)
    private let stopping = LockedBox(false)

    /// - Parameters:
    ///   - opsJSON: `bandsaw ops --json`, served at /v1/ops and read by the page.
    public init(options: ServiceOptions, queue: JobQueue, opsJSON: String, validate: @escaping Validator) {
        self.options = options
        self.queue = queue
        self.opsJSON = opsJSON
        self.validate = validate
        self.metrics = ServiceMetrics()
        self.token = options.token.map(BearerToken.init)
    }

    /// Serves until ``stop()`` (or a failure to listen, thrown). `listening` gets the port.
    public func run(listening: @escaping @Sendable (Int) -> Void) async throws {
        var logger = Logger(label: "bandsaw-serve")
        logger.logLevel = .error
        let uploadLimit = options.maxUploadBytes
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: options.maxHeaderBytes, maxHeaderListSize: options.maxHeaderBytes, maxHeaderFieldCount: 100)
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: [UploadTuning(limit: uploadLimit)],
                                                idleTimeout: .milliseconds(Int64(options.idleTimeout * 1000)),
                                                httpDecoderConfiguration: decoder)),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "bandsaw"),
            onServerRunning: { channel in listening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let serviceGroup = ServiceGroup(configuration: .init(services: [app], logger: logger))
        group.set(serviceGroup)
        if stopping.get() { return }
        try await serviceGroup.run()
    }

    /// Stops accepting: new requests are refused, open ones answered, then the server ends.
    public func stop() async {
        stopping.set(true)
        await group.get()?.triggerGracefulShutdown()
    }

    // MARK: - Routes

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        router.get("/v1/health") { [self] request, _ in
            if let refusal = refuse(request) { return refusal }
            let body: [String: Any] = ["status": stopping.get() ? "stopping" : "ok", "ranks": options.ranks,
                                       "queue": queue.count, "busy": queue.isBusy,
                                       "version": ServiceVersion.version, "api": ServiceVersion.api]
            return Self.json(.ok, body)
        }
        router.get("/v1/ops") { [self] request, _ in
            if let refusal = refuse(request) { return refusal }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: opsJSON)))
        }
        router.get("/metrics") { [self] request, _ in
            if let refusal = refuse(request) { return refusal }
            let text = metrics.exposition(queueLength: queue.count)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.post("/v1/process") { [self] request, _ in
            if let refusal = refuse(request) { return refusal }
            let (result, bytesIn) = await process(request)
            metrics.record(result, bytesIn: bytesIn)
            return Self.response(for: result, format: Self.format(of: request))
        }
        return router
    }

    /// A 401 when a token is asked and the request lacks it.
    func refuse(_ request: Request) -> Response? {
        guard let token, !token.accepts(request.headers[.authorization]) else { return nil }
        var response = Self.json(.unauthorized, ["error": "this service needs 'Authorization: Bearer <token>' (see --token-file)"])
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }

    static func format(of request: Request) -> String {
        (request.uri.queryParameters.first { $0.key == "format" }?.value).map { String($0).lowercased() } ?? "png"
    }

    /// Checks the query and the upload, queues the job and waits for its answer.
    func process(_ request: Request) async -> (JobResult, Int) {
        var ops: [String] = [], quality: String? = nil
        for (key, value) in request.uri.queryParameters {
            switch key {
            case "op": ops.append(String(value))
            case "quality": quality = String(value)
            case "format": break
            default: return (.failure(400, "unknown query parameter '\(key)' (use op, format, quality)"), 0)
            }
        }
        let format = Self.format(of: request)
        // The options the command line would be given, each glued to its value so that no
        // value can pass for an option of its own.
        let options = ops.map { "--op=\($0)" } + (quality.map { ["--quality=\($0)"] } ?? [])
        if let line = validate(options, format) { return (.failure(400, line), 0) }

        let upload: [UInt8]
        switch await readBody(request) {
        case .success(let bytes): upload = bytes
        case .failure(let refusal): return (refusal.result, 0)
        }
        if stopping.get() { return (.failure(503, Self.stoppingLine), upload.count) }
        let result = await submit(JobRequest(options: options, format: format, upload: upload))
        return (result, upload.count)
    }

    /// The answer to a job offered while the service drains.
    public static let stoppingLine = "the service is stopping; it takes no new jobs"

    /// A refused upload, as an error so that it can end the body's reading early.
    struct Refusal: Error { var result: JobResult }

    /// The whole body, refused once it passes the upload limit (413) or the client's time runs
    /// out (408).
    func readBody(_ request: Request) async -> Result<[UInt8], Refusal> {
        let limit = options.maxUploadBytes
        let tooLarge = Refusal(result: .failure(413, "the upload is over the limit of \(limit) bytes (raise it with --max-upload-bytes)"))
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit { return .failure(tooLarge) }
        let seconds = options.bodyTimeout
        do {
            return .success(try await withThrowingTaskGroup(of: [UInt8].self) { group in
                let declared = request.headers[.contentLength].flatMap(Int.init) ?? 0
                group.addTask {
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(declared)
                    for try await chunk in request.body {
                        guard bytes.count + chunk.readableBytes <= limit else { throw tooLarge }
                        // A copy of contiguous bytes (appending the buffer's view instead goes
                        // byte by byte: 28 MB/s).
                        chunk.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
                    }
                    return bytes
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                    throw Refusal(result: .failure(408, "the upload did not arrive within \(Self.seconds(seconds)) s"))
                }
                defer { group.cancelAll() }
                return try await group.next()!
            })
        } catch let refusal as Refusal {
            return .failure(refusal)
        } catch {
            return .failure(Refusal(result: .failure(400, "the upload could not be read: \(error)")))
        }
    }

    /// Queues the job and waits for its answer, at most the request time limit.
    func submit(_ job: JobRequest) async -> JobResult {
        let timer = LockedBox<Task<Void, Never>?>(nil)
        let limit = options.requestTimeout
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<JobResult, Never>) in
            let queued = queue.submit(job) { continuation.resume(returning: $0) }
            timer.set(Task { [queue] in
                try? await Task.sleep(for: .milliseconds(Int64(limit * 1000)))
                guard !Task.isCancelled else { return }
                queue.withdraw(queued)
                queued.finish(.failure(503, "the job did not finish within \(Self.seconds(limit)) s (see --request-timeout)"))
            })
        }
        timer.get()?.cancel()
        return result
    }

    // MARK: - Responses

    static func response(for result: JobResult, format: String) -> Response {
        guard result.status == 200 else {
            return json(HTTPResponse.Status(code: result.status), ["error": result.error ?? "failed"])
        }
        var headers: HTTPFields = [.contentType: contentType(format)]
        if !result.phases.isEmpty {
            // Server-Timing (W3C): one metric per phase, the slowest rank's time in ms.
            headers[HTTPField.Name("Server-Timing")!] = result.phases
                .map { "\($0.name);dur=\(String(format: "%.3f", $0.milliseconds))" }.joined(separator: ", ")
        }
        if let rank = result.rank { headers[HTTPField.Name("Bandsaw-Rank")!] = rank }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: result.body)))
    }

    static func contentType(_ format: String) -> String {
        switch format {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "pgm": return "image/x-portable-graymap"
        case "ppm": return "image/x-portable-pixmap"
        case "pnm": return "image/x-portable-anymap"
        case "tif", "tiff": return "image/tiff"
        case "webp": return "image/webp"
        default: return "application/octet-stream"
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// A value shared between tasks and threads behind a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ newValue: Value) { lock.lock(); value = newValue; lock.unlock() }
}
