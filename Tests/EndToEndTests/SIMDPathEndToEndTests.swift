import Foundation
import ImageCore
import ImageCodecs
import ImageFilters
import TestSupport
import Testing

/// `BANDSAW_SIMD` under real mpirun: each forced path gives the same file, and the report names it.
@Suite(.needsMPIRun)
struct SIMDPathEndToEndTests {
    /// A pipeline through every filter with a vector path, and the point filters.
    static let ops = ["--op", "sharpen:amount=1.5,sigma=2", "--op", "median:size=7", "--op", "box:size=9",
                      "--op", "gaussian:sigma=3", "--op", "invert", "--op", "emboss", "--op", "grayscale",
                      "--op", "threshold:value=100"]

    static func run(_ ranks: Int, simd: String, _ args: [String]) throws -> Harness.Outcome {
        try Harness.mpirun(ranks, args, timeout: 180, exporting: [SIMDPath.environmentVariable: simd])
    }

    @Test("every supported path writes the same PGM under mpirun -np 1 and 3, and says which it ran")
    func pathsAgree() throws {
        let dir = try Harness.temporaryFolder("simd")
        defer { Harness.cleanup(dir) }
        let input = dir.appendingPathComponent("in.png")
        try Data(PNGCodec.encode(TestImages.stripes(width: 211, height: 157, channels: 4, seed: 11))).write(to: input)
        var outputs: [Data] = []
        for path in SIMDPath.supported {
            for ranks in [1, 3] {
                let out = dir.appendingPathComponent("\(path.rawValue)-\(ranks).pgm")
                let r = try Self.run(ranks, simd: path.rawValue, [input.path, "-o", out.path, "--json"] + Self.ops)
                #expect(r.status == 0, "\(path.rawValue) np \(ranks): \(r.stderr)")
                #expect(r.stdout.contains("\"simd\":\"\(path.rawValue)\""), "\(r.stdout)")
                outputs.append(try Data(contentsOf: out))
            }
        }
        #expect(Set(outputs).count == 1, "outputs differ between paths or rank counts")
    }

    @Test("an unknown BANDSAW_SIMD is a usage error: exit 2, one line, no output")
    func unknownPath() throws {
        let dir = try Harness.temporaryFolder("simd")
        defer { Harness.cleanup(dir) }
        let input = Harness.fixtures.appendingPathComponent("photos").path
        for ranks in [1, 2] {
            let r = try Self.run(ranks, simd: "sse9", [input, "-o", dir.path])
            #expect(r.status == 2, "np \(ranks): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("error:") && lines[0].contains("BANDSAW_SIMD=sse9"), "\(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "a refused run wrote files")
    }
}
