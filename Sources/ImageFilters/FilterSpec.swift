// What a filter is to the command line: its parameters (types, ranges, defaults), its
// descriptor, and the parsing of `--op NAME:key=value,...`. The registry: FilterRegistry.swift.
import ImageCore

/// A filter parameter's declared type, range and default, for parsing and for `bandsaw ops`.
public struct ParameterSpec: Sendable, Equatable {
    /// `bool` values are written `true`/`false` (or `1`/`0`) and bound as 1 or 0.
    public enum Kind: String, Sendable { case int, double, bool }
    public var name: String
    public var kind: Kind
    public var range: ClosedRange<Double>
    public var defaultValue: Double
    public var help: String
    /// Integer parameters that must be odd (window sizes).
    public var mustBeOdd: Bool

    public init(_ name: String, _ kind: Kind, _ range: ClosedRange<Double>, default defaultValue: Double,
                odd mustBeOdd: Bool = false, help: String) {
        self.name = name; self.kind = kind; self.range = range
        self.defaultValue = defaultValue; self.mustBeOdd = mustBeOdd; self.help = help
    }
}

/// Bound parameter values of one filter, by name, already validated.
public struct FilterParameters: Sendable, Equatable {
    public var values: [String: Double]
    public subscript(_ name: String) -> Double { values[name]! }
    public func int(_ name: String) -> Int { Int(values[name]!) }
    public func bool(_ name: String) -> Bool { values[name]! != 0 }
}

/// Whether a filter keeps the input's channels or produces one gray channel.
public enum OutputMode: String, Sendable {
    /// Same channels out as in (each channel filtered on its own; alpha too).
    case sameChannels = "same"
    /// One luma channel out (alpha dropped).
    case gray
}

/// A filter that can be named on the command line: name, description, parameters, halo, and a
/// factory that binds parameters into a `Kernel`.
public struct FilterDescriptor: Sendable {
    public var name: String
    public var summary: String
    public var parameters: [ParameterSpec]
    public var outputMode: OutputMode
    /// A rule across parameters (canny's `low <= high`): nil when the values go together, else
    /// why not. Each value is already within its own range when this is asked.
    public var constraint: (@Sendable (FilterParameters) -> String?)?
    public var make: @Sendable (FilterParameters) -> any Kernel

    public init(name: String, summary: String, parameters: [ParameterSpec] = [], outputMode: OutputMode,
                constraint: (@Sendable (FilterParameters) -> String?)? = nil,
                make: @escaping @Sendable (FilterParameters) -> any Kernel) {
        self.name = name; self.summary = summary; self.parameters = parameters
        self.outputMode = outputMode; self.constraint = constraint; self.make = make
    }

    /// Parameters at their defaults.
    public var defaults: FilterParameters {
        FilterParameters(values: Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.defaultValue) }))
    }
}

/// Why a `--op` spec was refused; the executable maps these to exit code 2 (usage).
public enum FilterSpecError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownFilter(String, known: [String])
    case unknownParameter(filter: String, parameter: String, known: [String])
    case badValue(filter: String, parameter: String, value: String, expected: String)
    case malformed(String)
    /// Values each within range that do not go together (the descriptor's `constraint`).
    case inconsistent(filter: String, detail: String)

    public var description: String {
        switch self {
        case .unknownFilter(let n, let k): return "unknown filter '\(n)' (known: \(k.joined(separator: ", ")))"
        case .unknownParameter(let f, let p, let k):
            return k.isEmpty ? "filter '\(f)' takes no parameters, got '\(p)'"
                : "filter '\(f)' has no parameter '\(p)' (it has: \(k.joined(separator: ", ")))"
        case .badValue(let f, let p, let v, let e): return "\(f): \(p)=\(v) is out of range: expected \(e)"
        case .malformed(let s): return "malformed filter spec '\(s)' (expected NAME or NAME:key=value,...)"
        case .inconsistent(let f, let detail): return "\(f): \(detail)"
        }
    }
}

/// A filter name with bound parameters, as parsed from `NAME` or `NAME:key=value,key=value`.
public struct FilterSpec: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var parameters: FilterParameters

    /// Parses and validates one spec against the registry.
    public init(parsing text: String, registry: [FilterDescriptor] = Filters.all) throws(FilterSpecError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0]).lowercased()
        guard !name.isEmpty else { throw .malformed(text) }
        guard let descriptor = registry.first(where: { $0.name == name }) else {
            throw .unknownFilter(name, known: registry.map(\.name))
        }
        var params = descriptor.defaults
        if parts.count == 2 {
            for assignment in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2, !kv[0].isEmpty else { throw .malformed(text) }
                let key = String(kv[0]).lowercased(), raw = String(kv[1])
                guard let spec = descriptor.parameters.first(where: { $0.name == key }) else {
                    throw .unknownParameter(filter: name, parameter: key, known: descriptor.parameters.map(\.name))
                }
                let expected = spec.expectation
                guard let value = spec.kind == .bool ? Self.boolValue(raw) : Double(raw), value.isFinite,
                      spec.range.contains(value) else {
                    throw .badValue(filter: name, parameter: key, value: raw, expected: expected)
                }
                if spec.kind == .int {
                    guard value == value.rounded(), !spec.mustBeOdd || Int(value) % 2 == 1 else {
                        throw .badValue(filter: name, parameter: key, value: raw, expected: expected)
                    }
                }
                params.values[key] = value
            }
        }
        if let reason = descriptor.constraint?(params) { throw .inconsistent(filter: name, detail: reason) }
        self.name = name
        self.parameters = params
    }

    /// `true`/`false`/`1`/`0` as 1 or 0, nil for anything else.
    private static func boolValue(_ raw: String) -> Double? {
        switch raw.lowercased() {
        case "true", "1": return 1
        case "false", "0": return 0
        default: return nil
        }
    }

    /// The kernel this spec names.
    public func makeKernel(registry: [FilterDescriptor] = Filters.all) -> any Kernel {
        registry.first(where: { $0.name == name })!.make(parameters)
    }

    /// Canonical text: `name` or `name:k=v,...` with every parameter spelled out, sorted.
    public var description: String {
        if parameters.values.isEmpty { return name }
        let kv = parameters.values.keys.sorted().map { k -> String in
            let v = parameters.values[k]!
            if Filters.named(name)?.parameters.first(where: { $0.name == k })?.kind == .bool {
                return "\(k)=\(v != 0)"
            }
            return "\(k)=\(v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v))"
        }
        return "\(name):\(kv.joined(separator: ","))"
    }
}

extension ParameterSpec {
    /// "integer in 1...99, odd" and the like.
    public var expectation: String {
        if kind == .bool { return "true or false" }
        func fmt(_ v: Double) -> String { kind == .int ? String(Int(v)) : String(v) }
        let base = "\(kind == .int ? "an integer" : "a number") in \(fmt(range.lowerBound))...\(fmt(range.upperBound))"
        return mustBeOdd ? base + ", odd" : base
    }
}

extension Pipeline {
    /// Builds a pipeline from parsed specs, in order.
    public init(specs: [FilterSpec], registry: [FilterDescriptor] = Filters.all) {
        self.init(specs.map { $0.makeKernel(registry: registry) })
    }
}
