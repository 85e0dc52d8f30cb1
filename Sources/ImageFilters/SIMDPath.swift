// Which vector instructions the kernels use: chosen at run time from what the CPU reports,
// or forced with BANDSAW_SIMD (for tests and benchmarks).
import ImageCore
import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A kernel implementation family. Every path gives the same bits; only the speed differs.
public enum SIMDPath: String, CaseIterable, Sendable {
    /// ImageFilters' Swift kernels, built for the architecture's baseline (SSE2 on x86-64):
    /// the portable path and the reference the others are tested against.
    case baseline
    /// CKernels' AVX2 functions (x86-64 with AVX2), for the filters that have one.
    case avx2

    /// Whether this CPU can run the path.
    public var isSupported: Bool {
        switch self {
        case .baseline: return true
        case .avx2: return SIMDPath.cpuHasAVX2
        }
    }

    private static let cpuHasAVX2 = ck_cpu_has_avx2() != 0

    /// Every path this CPU supports, slowest first.
    public static let supported: [SIMDPath] = allCases.filter(\.isSupported)

    /// The name of the environment variable that forces a path.
    public static let environmentVariable = "BANDSAW_SIMD"

    /// The path a `BANDSAW_SIMD` value asks for, or nil when unset or empty; an unknown name or a
    /// path this CPU cannot run is an error (the command line reports it as a usage error).
    public static func requested(by value: String?) throws(SIMDPathError) -> SIMDPath? {
        guard let value, !value.isEmpty else { return nil }
        guard let path = SIMDPath(rawValue: value.lowercased()) else { throw .unknown(value) }
        guard path.isSupported else { throw .unsupported(path) }
        return path
    }

    /// The path kernels use unless told otherwise: `BANDSAW_SIMD` when it names a supported path,
    /// else the fastest this CPU supports.
    public static let active: SIMDPath = {
        let value = getenv(environmentVariable).map { String(cString: $0) }
        return ((try? requested(by: value)) ?? nil) ?? supported.last!
    }()
}

/// Why a `BANDSAW_SIMD` value was refused.
public enum SIMDPathError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknown(String)
    case unsupported(SIMDPath)

    public var description: String {
        switch self {
        case .unknown(let v):
            return "\(SIMDPath.environmentVariable)=\(v) is not a path (known: \(SIMDPath.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unsupported(let p):
            return "\(SIMDPath.environmentVariable)=\(p.rawValue): this CPU does not support it (supported: \(SIMDPath.supported.map(\.rawValue).joined(separator: ", ")))"
        }
    }
}
