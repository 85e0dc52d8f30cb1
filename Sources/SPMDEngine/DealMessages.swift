#if canImport(Glibc)
import Glibc
#endif
import ImageCodecs
import ImageCore
import ImageFilters

/// The messages of dealing (tags of ``Messaging``): rank 0 sends jobs, probes and stops on
/// `job`; workers answer probes on `probe` and report each image on `done`.
enum DealTag {
    static let job = 2501, done = 2502, probe = 2503
}

/// A byte writer and reader for the deal messages: little-endian 64-bit integers, and byte
/// strings prefixed with their length.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func int(_ value: Int) { withUnsafeBytes(of: Int64(value).littleEndian) { bytes += $0 } }
    mutating func double(_ value: Double) { int(Int(truncatingIfNeeded: Int64(bitPattern: value.bitPattern))) }
    mutating func data(_ value: [UInt8]) { int(value.count); bytes += value }
    mutating func string(_ value: String) { data(Array(value.utf8)) }
}

struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Throws on a message shorter than its fields say (a protocol bug, not a user's file).
    mutating func int() throws -> Int {
        guard offset + 8 <= bytes.count else { throw DealError.malformed }
        var value: Int64 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[offset..<offset + 8]) }
        offset += 8
        return Int(Int64(littleEndian: value))
    }

    mutating func double() throws -> Double { Double(bitPattern: UInt64(bitPattern: Int64(try int()))) }

    mutating func data() throws -> [UInt8] {
        let count = try int()
        guard count >= 0, offset + count <= bytes.count else { throw DealError.malformed }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func string() throws -> String { String(decoding: try data(), as: UTF8.self) }
}

/// A deal message that does not parse: ranks of different builds, or a bug.
enum DealError: Error, CustomStringConvertible {
    case malformed
    var description: String { "a malformed message between the ranks while dealing images" }
}

/// How a file can be recognised on another host without sending it: its size and a hash of its
/// first KiB (a worker that sees a file at the same path with the same fingerprint reads it
/// itself; anything else, and rank 0 sends the bytes).
struct FileFingerprint: Equatable {
    var size: Int
    var hash: UInt64

    static let prefixBytes = 1024

    /// The fingerprint of `path` as this rank sees it; nil when it cannot be read.
    init?(path: String) {
        guard let (prefix, size) = try? readFilePrefix(path: path, limit: Self.prefixBytes) else { return nil }
        self.init(size: size, prefix: prefix)
    }

    init(size: Int, prefix: some Collection<UInt8>) {
        self.size = size
        // FNV-1a, 64-bit: a cheap hash; this tells same-file from another-file, not an attacker.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prefix.prefix(Self.prefixBytes) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = h
    }

    init(size: Int, hash: UInt64) { self.size = size; self.hash = hash }
}

/// One message rank 0 sends on ``DealTag/job``.
enum DealOrder {
    /// Can the worker see `input` as rank 0 does, and read `marker` (a file rank 0 just wrote
    /// in the output folder) with `token` in it?
    case probe(input: String, fingerprint: FileFingerprint, marker: String, token: String)
    /// Process image `index`. `bytes`: the input file as stored, when the worker cannot see it.
    /// `writesOutput`: the worker writes the output itself (else it sends the encoded bytes).
    case job(index: Int, job: ImageJob, fingerprint: FileFingerprint, bytes: [UInt8]?, writesOutput: Bool)
    /// No more images.
    case stop

    var wire: [UInt8] {
        var w = WireWriter()
        switch self {
        case .probe(let input, let print, let marker, let token):
            w.int(1); w.string(input); w.int(print.size); w.int(Int(Int64(bitPattern: print.hash)))
            w.string(marker); w.string(token)
        case .job(let index, let job, let print, let bytes, let writesOutput):
            w.int(2); w.int(index); w.string(job.input); w.string(job.output)
            w.int(print.size); w.int(Int(Int64(bitPattern: print.hash)))
            w.int(writesOutput ? 1 : 0); w.int(bytes == nil ? 0 : 1); w.data(bytes ?? [])
        case .stop:
            w.int(3)
        }
        return w.bytes
    }

    init(wire: [UInt8]) throws {
        var r = WireReader(wire)
        switch try r.int() {
        case 1:
            let input = try r.string()
            let print = FileFingerprint(size: try r.int(), hash: UInt64(bitPattern: Int64(try r.int())))
            self = .probe(input: input, fingerprint: print, marker: try r.string(), token: try r.string())
        case 2:
            let index = try r.int()
            let job = ImageJob(input: try r.string(), output: try r.string())
            let print = FileFingerprint(size: try r.int(), hash: UInt64(bitPattern: Int64(try r.int())))
            let writes = try r.int() == 1
            let hasBytes = try r.int() == 1
            let bytes = try r.data()
            self = .job(index: index, job: job, fingerprint: print, bytes: hasBytes ? bytes : nil, writesOutput: writes)
        case 3: self = .stop
        default: throw DealError.malformed
        }
    }
}

/// A worker's report of one image on ``DealTag/done``.
struct DealReport {
    enum Outcome: Int { case written = 0, failed = 1, needsBytes = 2 }

    var index: Int
    var outcome: Outcome
    var status: RunStatus
    /// The failure's line (failed only).
    var message: String
    var seconds: Double
    var readItself: Bool
    /// The image's report as JSON (written only).
    var report: [UInt8]
    /// The encoded output, when the worker does not write it itself (written only).
    var output: [UInt8]?

    var wire: [UInt8] {
        var w = WireWriter()
        w.int(index); w.int(outcome.rawValue); w.int(status.rawValue); w.string(message); w.double(seconds)
        w.int(readItself ? 1 : 0); w.data(report); w.int(output == nil ? 0 : 1); w.data(output ?? [])
        return w.bytes
    }

    init(index: Int, outcome: Outcome, status: RunStatus = .success, message: String = "", seconds: Double = 0,
         readItself: Bool = false, report: [UInt8] = [], output: [UInt8]? = nil) {
        self.index = index; self.outcome = outcome; self.status = status; self.message = message
        self.seconds = seconds; self.readItself = readItself; self.report = report; self.output = output
    }

    init(wire: [UInt8]) throws {
        var r = WireReader(wire)
        index = try r.int()
        guard let outcome = Outcome(rawValue: try r.int()), let status = RunStatus(rawValue: try r.int()) else {
            throw DealError.malformed
        }
        self.outcome = outcome; self.status = status
        message = try r.string(); seconds = try r.double(); readItself = try r.int() == 1
        report = try r.data()
        let hasOutput = try r.int() == 1
        let output = try r.data()
        self.output = hasOutput ? output : nil
    }
}
