// Kernel benchmark: median megapixels per second per filter, single-threaded, on one
// 16-megapixel RGB image, optionally side by side with OpenCV (scripts/bench_opencv.py).
//
//   bandsaw-bench [--reps N] [--size WxH] [--filter NAME]... [--json]
//                 [--write-ppm PATH] [--compare-opencv] [--python PYTHON]
//                 [--photo PNG | --synthetic] [--path baseline|avx2]
//
// Each filter is measured on every kernel path this CPU supports (SIMDPath: the portable
// Swift kernels and the AVX2 ones), or on the one --path names; the ratio to OpenCV is the
// fastest path's.
//
// The image is Tests/Fixtures/photos/astronaut-256.png (or --photo) mirror-tiled to the size,
// or a deterministic synthetic pattern when there is no photo or with --synthetic.
//
// Build it in release mode (`swift build -c release`): debug numbers mean nothing.
import ArgumentParser
import Foundation
import ImageCore
import ImageCodecs
import ImageFilters

// MARK: - Failure

/// Ends the bench with a one-line message on stderr and exit status 2.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bandsaw-bench: \(message)\n".utf8))
    exit(2)
}

// MARK: - Test image

/// A deterministic RGB test picture: smooth colour ramps, hard-edged discs and bars at many
/// angles, fine texture and noise, so edge kernels see both flat areas and real edges.
func syntheticImage(width: Int, height: Int) -> Image {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    /// xorshift64*: a fixed noise sequence, independent of the platform's random source.
    func noise() -> Int {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return Int(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 59) - 16
    }
    let discs = (0..<24).map { i -> (Double, Double, Double, Int) in
        let t = Double(i)
        return (Double(width) * (0.5 + 0.4 * sin(t * 1.7)), Double(height) * (0.5 + 0.4 * cos(t * 2.3)),
                Double(min(width, height)) * (0.04 + 0.03 * Double(i % 5)), (i * 53) % 256)
    }
    for y in 0..<height {
        for x in 0..<width {
            var r = x * 255 / max(width - 1, 1), g = y * 255 / max(height - 1, 1), b = 128
            if ((x / 97) + (y / 61)) % 2 == 0 { b = 40 }
            if (x + 2 * y) % 211 < 9 { r = 255 - r; g = 255 - g }
            for (cx, cy, radius, shade) in discs {
                let dx = Double(x) - cx, dy = Double(y) - cy
                if dx * dx + dy * dy < radius * radius { r = shade; g = 255 - shade; b = (shade * 3) % 256 }
            }
            let n = noise()
            let i = (y * width + x) * 3
            pixels[i] = UInt8(clamping: r + n)
            pixels[i + 1] = UInt8(clamping: g + n)
            pixels[i + 2] = UInt8(clamping: b - n)
        }
    }
    return Image(width: width, height: height, channels: 3, pixels: pixels)
}

/// The fixture photo mirror-tiled to `width` x `height` RGB: real photographic edges and
/// texture at native scale, with no seams (each tile is mirrored against its neighbours).
func photoImage(path: String, width: Int, height: Int) -> Image? {
    guard let photo = try? PNGCodec.decode(readFileBytes(path: path), path: path, maxPixels: 1 << 26),
          photo.width > 0, photo.height > 0
    else { return nil }
    func mirror(_ t: Int, _ n: Int) -> Int { let m = t % (2 * n); return m < n ? m : 2 * n - 1 - m }
    let c = photo.channels
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        let sy = mirror(y, photo.height)
        for x in 0..<width {
            let s = (sy * photo.width + mirror(x, photo.width)) * c, d = (y * width + x) * 3
            for k in 0..<3 { pixels[d + k] = photo.pixels[s + (c < 3 ? 0 : k)] }
        }
    }
    return Image(width: width, height: height, channels: 3, pixels: pixels)
}

/// Binary PPM (P6), by the project's PNM codec whatever the extension: the simplest format
/// OpenCV's side can read without a codec mismatch.
func savePPM(_ image: Image, to path: String) {
    precondition(image.channels == 3)
    do {
        try writeFileAtomically(PNMCodec.encode(image), path: path)
    } catch {
        fail("cannot write \(path): \(error)")
    }
}

// MARK: - Timing

struct Result: Codable {
    var name: String
    var spec: String
    var megapixelsPerSecond: Double
    var medianMilliseconds: Double
    /// The kernel path (`SIMDPath`) measured; nil in OpenCV's rows.
    var path: String? = nil
}

/// Median wall time of `reps` runs of `kernel` over the whole image as one band.
func measure(_ label: String, spec: String, _ kernel: any Kernel, on image: Image, reps: Int) -> Result {
    let band = image.asBand
    var times: [Double] = []
    var checksum = 0
    for _ in 0..<reps {
        let start = ContinuousClock.now
        let out = kernel.apply(band, rows: 0..<image.height)
        let elapsed = ContinuousClock.now - start
        checksum &+= Int(out.pixels[out.pixels.count / 2])
        times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    times.sort()
    let median = times[times.count / 2]
    precondition(checksum >= 0)
    return Result(name: label, spec: spec, megapixelsPerSecond: Double(image.width * image.height) / median / 1e6,
                  medianMilliseconds: median * 1e3)
}

// MARK: - OpenCV side

/// Matches an OpenCV row to a bandsaw row: the same spec, and both from gray input or both not.
func openCVKey(_ r: Result) -> String { r.spec + (r.name.hasSuffix("/gray") ? "/gray" : "") }

/// Runs scripts/bench_opencv.py on the same pixels and returns MP/s by bandsaw filter name.
func runOpenCV(ppm: String, specs: [String], reps: Int, python: String) -> [String: Double] {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/bench_opencv.py").standardized.path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, script, ppm, "--reps", String(reps), "--json"]
        + specs.flatMap { ["--op", $0] }
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { fail("cannot run \(python) \(script): \(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let rows = try? JSONDecoder().decode([Result].self, from: data)
    else { fail("bench_opencv.py failed (status \(process.terminationStatus)); is opencv-python-headless installed?") }
    return Dictionary(rows.map { (openCVKey($0), $0.megapixelsPerSecond) }, uniquingKeysWith: max)
}

// MARK: - Machine

/// CPU model, the kernel paths it supports, and the load average before the run (a bench on a
/// busy machine is not worth quoting).
func machineDescription() -> String {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").first ?? "?"
    return "\(model); paths \(SIMDPath.supported.map(\.rawValue).joined(separator: ", ")); load average \(load) at start"
}

// MARK: - Command line

/// Width and height, written `WxH`.
struct Size: ExpressibleByArgument {
    var width: Int, height: Int

    init?(argument: String) {
        let parts = argument.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        (width, height) = (parts[0], parts[1])
    }

    var defaultValueDescription: String { "\(width)x\(height)" }
}

@main
struct BandsawBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bandsaw-bench",
        abstract: "Median megapixels per second per filter on one core, optionally against OpenCV.",
        discussion: "Build it in release mode (swift build -c release): debug numbers mean nothing.")

    @Option(help: "Runs per filter and path; the median is reported.")
    var reps = 7
    @Option(help: ArgumentHelp("Image size.", valueName: "WxH"))
    var size = Size(argument: "4000x4000")!
    @Option(help: ArgumentHelp("A filter spec to measure, repeatable (default: every filter, then the large windows).",
                               valueName: "NAME"))
    var filter: [String] = []
    @Flag(help: "Print the results as JSON.")
    var json = false
    @Option(help: ArgumentHelp("Also write the test image here as binary PPM.", valueName: "PATH"))
    var writePPM: String?
    @Flag(help: "Run scripts/bench_opencv.py on the same pixels and print the ratios.")
    var compareOpencv = false
    @Option(help: "The Python that runs scripts/bench_opencv.py.")
    var python = "python3"
    @Option(help: ArgumentHelp("The photo to mirror-tile (default: Tests/Fixtures/photos/astronaut-256.png).", valueName: "PNG"))
    var photo: String?
    @Flag(help: "Use the synthetic pattern instead of a photo.")
    var synthetic = false
    @Option(help: ArgumentHelp("Measure only this kernel path.", valueName: "baseline|avx2"))
    var path: String?

    /// Parses, then runs; a usage error exits 2, as the bench always has (ArgumentParser's own
    /// code for it is 64), and `--help` 0.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }

    mutating func validate() throws {
        reps = max(1, reps)
        if let p = path, !(SIMDPath(rawValue: p)?.isSupported ?? false) {
            throw ValidationError("--path \(p): not a path this CPU runs")
        }
    }

    func run() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/Fixtures/photos/astronaut-256.png").standardized.path
        let photo = synthetic ? nil : photoImage(path: self.photo ?? fixture, width: size.width, height: size.height)
        if photo == nil && self.photo != nil { fail("cannot read \(self.photo!) as PNG") }
        let image = photo ?? syntheticImage(width: size.width, height: size.height)
        let source = photo != nil ? "\((self.photo ?? fixture).split(separator: "/").last!) mirror-tiled" : "synthetic"

        let gray = Filters.named("grayscale")!.make(Filters.named("grayscale")!.defaults)
            .apply(image.asBand, rows: 0..<image.height).asImage

        // Every filter at its defaults, then the large windows users run (the issue-11 floors name them).
        let defaultSpecs = Filters.all.map(\.name) + ["gaussian:sigma=8", "box:size=15", "median:size=5", "median:size=15"]
        var specs: [FilterSpec] = []
        for text in filter.isEmpty ? defaultSpecs : filter {
            do { specs.append(try FilterSpec(parsing: text)) } catch { fail("\(text): \(error)") }
        }

        // Every kernel path this CPU runs (or the one --path names), each measured on its own.
        let paths: [SIMDPath] = path.map { [SIMDPath(rawValue: $0)!] } ?? SIMDPath.supported

        var results: [Result] = []
        for spec in specs {
            let descriptor = Filters.named(spec.name)!
            // Rows are labelled by name when the parameters are the defaults, by the full spec otherwise.
            let label = spec.parameters == descriptor.defaults ? spec.name : spec.description
            var inputs = [(label, image)]
            if descriptor.outputMode == .gray && spec.name != "grayscale" && spec.name != "threshold" {
                // The same filter on a gray input: the like-for-like match for OpenCV on a gray image.
                inputs.append((label + "/gray", gray))
            }
            for (name, input) in inputs {
                for path in paths {
                    var r = measure(name, spec: spec.description, spec.makeKernel().using(path), on: input, reps: reps)
                    r.path = path.rawValue
                    results.append(r)
                }
            }
        }

        if let path = writePPM { savePPM(image, to: path) }

        var openCV: [String: Double] = [:]
        if compareOpencv {
            let path = writePPM ?? NSTemporaryDirectory() + "bandsaw-bench-\(getpid()).ppm"
            if writePPM == nil { savePPM(image, to: path) }
            openCV = runOpenCV(ppm: path, specs: specs.map(\.description), reps: reps, python: python)
            if writePPM == nil { try? FileManager.default.removeItem(atPath: path) }
        }

        // The rows of one label (one per path), in measuring order.
        let labels = results.map(\.name).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        func fastest(_ label: String) -> Result {
            results.filter { $0.name == label }.max { $0.megapixelsPerSecond < $1.megapixelsPerSecond }!
        }

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let rows = labels.map { label -> [String: String] in
                let best = fastest(label)
                var row = ["name": label, "spec": best.spec, "fastestPath": best.path!,
                           "megapixelsPerSecond": String(format: "%.1f", best.megapixelsPerSecond),
                           "medianMilliseconds": String(format: "%.2f", best.medianMilliseconds)]
                for r in results where r.name == label {
                    row["megapixelsPerSecond." + r.path!] = String(format: "%.1f", r.megapixelsPerSecond)
                }
                if let cv = openCV[openCVKey(best)] { row["opencvMegapixelsPerSecond"] = String(format: "%.1f", cv) }
                return row
            }
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        print("bandsaw-bench: \(image.width)x\(image.height) RGB (\(source)), \(reps) runs each, median, one thread")
        print("machine: \(machineDescription())")
        var header = "filter                "
        for path in paths { header += path.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + "MP/s " }
        header += "  best ms"
        if compareOpencv { header += "   OpenCV MP/s  ratio" }
        print(header)
        for label in labels {
            var line = label.padding(toLength: 22, withPad: " ", startingAt: 0)
            for r in results where r.name == label { line += String(format: "%13.1f ", r.megapixelsPerSecond) }
            let best = fastest(label)
            line += String(format: "%9.2f", best.medianMilliseconds)
            if compareOpencv {
                if let cv = openCV[openCVKey(best)] {
                    line += String(format: "   %11.1f  %5.2fx", cv, best.megapixelsPerSecond / cv)
                } else {
                    line += "           n/a"
                }
            }
            print(line)
        }
        if let theirs = openCV["sobel/gray"], labels.contains("sobel") {
            // The strictest reading: bandsaw converting RGB to luma itself, OpenCV handed gray.
            print(String(format: "sobel from RGB vs OpenCV Sobel x + Sobel y + magnitude on gray: %.2fx",
                         fastest("sobel").megapixelsPerSecond / theirs))
        }
    }
}
