import Foundation
import Testing

/// The issue-16 cost model (scripts/predict.py with the committed scripts/model-params.json)
/// against real runs of the release executable on this machine, and against the committed
/// emulated-link measurements (bench-results/links.json).
@Suite(.serialized)
struct CostModelTests {
    static let scripts = Harness.packageRoot.appendingPathComponent("scripts")

    /// The model was fitted to the release build; a debug build's kernels are many times slower.
    /// `BANDSAW_RELEASE_BIN`, else `.build/release/bandsaw` (scripts/test.sh builds it).
    static let releaseExecutable: String? = {
        let candidates: [String?] = [ProcessInfo.processInfo.environment["BANDSAW_RELEASE_BIN"],
                                     Harness.packageRoot.appendingPathComponent(".build/release/bandsaw").path]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var python3Available: Bool { (try? Harness.run(["python3", "--version"], timeout: 20).status) == 0 }

    /// predict.py's `--json` answer.
    struct Prediction: Decodable {
        var phases: [String: Double]
        var total_ms: Double
        var speedup: Double
    }

    static func predict(_ arguments: [String]) throws -> Prediction {
        let run = try Harness.run(["python3", scripts.appendingPathComponent("predict.py").path, "--json"] + arguments,
                                  timeout: 60)
        try #require(run.status == 0, "predict.py failed: \(run.stderr)")
        return try JSONDecoder().decode(Prediction.self, from: Data(run.stdout.utf8))
    }

    /// bandsaw's read-to-write total and rank 0's read phase from its `--json` report, in ms.
    static func times(_ outcome: Harness.Outcome) throws -> (total: Double, read: Double) {
        struct Report: Decodable {
            struct Image: Decodable {
                struct Phases: Decodable { struct Phase: Decodable { var max_ms: Double }; var total_ms: Double; var read: Phase }
                var phases: Phases
            }
            var images: [Image]
        }
        try #require(outcome.status == 0, "bandsaw failed: \(outcome.stderr)")
        let phases = try JSONDecoder().decode(Report.self, from: Data(outcome.stdout.utf8)).images[0].phases
        return (phases.total_ms, phases.read.max_ms)
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// A 4096x4096 RGB PPM (16 MP): bands of gradient rows with edges, built a row at a time.
    static func writeSixteenMegapixelPPM(to url: URL) throws {
        let width = 4096, height = 4096
        var data = Data("P6\n\(width) \(height)\n255\n".utf8)
        data.reserveCapacity(data.count + width * height * 3)
        var rows: [[UInt8]] = []
        for k in 0..<32 {
            rows.append((0..<(width * 3)).map { i in
                let x = i / 3, c = i % 3
                return UInt8(truncatingIfNeeded: (x * (k + 1)) / 16 + ((x / 64 + k + c) % 2) * 90 + (x * 7 + k * 13) % 11)
            })
        }
        for y in 0..<height { data.append(contentsOf: rows[(y / 7) % rows.count]) }
        try data.write(to: url)
    }

    @Test("the model predicts a 2-rank local 16 MP sobel run (PPM, loopback) within 20% of its measured total",
          .enabled(if: releaseExecutable != nil, "needs a release build (swift build -c release) of bandsaw"),
          .enabled(if: Harness.mpirunAvailable && python3Available, "needs mpirun and python3"))
    func twoRankLocalRun() throws {
        let executable = try #require(Self.releaseExecutable)
        let dir = try Harness.temporaryFolder("model")
        defer { Harness.cleanup(dir) }
        let input = dir.appendingPathComponent("in.ppm"), output = dir.appendingPathComponent("out.pgm")
        try Self.writeSixteenMegapixelPPM(to: input)
        let args = [input.path, "-o", output.path, "--op", "sobel", "--json"]

        let small = dir.appendingPathComponent("small.ppm")
        try (Data("P6\n256 256\n255\n".utf8) + (0..<(256 * 256 * 3)).map { UInt8(truncatingIfNeeded: $0 / 7) })
            .write(to: small)
        let smallArgs = [small.path, "-o", dir.appendingPathComponent("small.pgm").path, "--op", "sobel", "--json"]
        let mpirun = ["mpirun", "-q", "--bind-to", "none", "-np", "2", executable]

        // A user's environment, not the harness's BTL list.
        var env = Harness.environment
        env.removeValue(forKey: "OMPI_MCA_btl")
        // Interleaved, so both kinds of run see the same load: two ranks on a 256x256 image, two
        // ranks on the 16 MP one (the run predicted); medians of 7.
        var tiny: [Double] = [], two: [Double] = [], reads: [Double] = []
        for _ in 0..<7 {
            tiny.append(try Self.times(Harness.run(mpirun + smallArgs, timeout: 120, environment: env)).total)
            let run = try Self.times(Harness.run(mpirun + args, timeout: 120, environment: env))
            two.append(run.total)
            reads.append(run.read)
        }
        // This machine is shared and often busy (load 3-10 on 2 cores), so two of the model's
        // inputs describe its state during each run and are measured here, not taken from the
        // idle fit: how much slower CPU-bound work runs (rank 0's read phase in that very run,
        // which is file and PPM parsing with no MPI in it, against the model's), and how long a
        // wait for another rank takes (the tiny runs are little but the ~15 messages and small
        // collectives of one image). Everything else is the committed model: the scatter and
        // gather at the fitted shared-memory bandwidth, the halves of compute at the kernels'
        // per-core rates, the serial encode and write, how the phases add up on rank 0.
        let size = ["--width", "4096", "--height", "4096", "--link", "loopback", "--op", "sobel"]
        let smallSize = ["--width", "256", "--height", "256", "--link", "loopback", "--op", "sobel"]
        let idle2 = try Self.predict(["--ranks", "2"] + size)
        let idleRead = try #require(idle2.phases["read"])
        let tiny0 = try Self.predict(["--ranks", "2"] + smallSize).total_ms
        let tiny1 = try Self.predict(["--ranks", "2", "--wake-ms", "1"] + smallSize).total_ms
        let wake = max(0, (Self.median(tiny) - tiny0) / (tiny1 - tiny0))
        var errors: [Double] = [], predictions: [Double] = []
        for (total, read) in zip(two, reads) {
            let factor = read / idleRead
            let p = try Self.predict(["--ranks", "2", "--cpu-factor", String(factor), "--wake-ms", String(wake)] + size)
            predictions.append(p.total_ms)
            errors.append((p.total_ms - total) / total)
        }
        // The median run's error: a run disturbed by another engineer's build is one of seven.
        let error = Self.median(errors)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
        let note = String(format: "median error %+.1f%% (per run %@); measured %@ ms, predicted %@ ms at %.2f ms per wait "
                          + "(%.1f ms on the idle machine); tiny 2-rank %.1f ms; loadavg %@",
                          error * 100, errors.map { String(format: "%+.0f%%", $0 * 100) }.joined(separator: ","),
                          two.map { String(format: "%.0f", $0) }.joined(separator: ","),
                          predictions.map { String(format: "%.0f", $0) }.joined(separator: ","),
                          wake, idle2.total_ms, Self.median(tiny), load.trimmingCharacters(in: .whitespacesAndNewlines))
        print("cost model, 2 ranks local: " + note)
        #expect(abs(error) <= 0.20, "\(note)")
    }

    @Test("the model predicts the committed emulated-link communication phases within 30% (bench-results/links.json)",
          .enabled(if: python3Available, "needs python3"))
    func emulatedLinks() throws {
        let run = try Harness.run(["python3", Self.scripts.appendingPathComponent("validate_model.py").path], timeout: 60)
        print(run.stdout)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        // The check covers every shaped link case and both outputs (pixels and deflated pieces).
        for link in ["1gbit", "10gbit", "100mbit"] { #expect(run.stdout.contains(link)) }
        #expect(run.stdout.contains(" png "), "no parallel-encode stitch cells checked")
    }

    @Test("predict.py --json gives phases, total_ms and speedup, and more ranks on a slow link stop paying",
          .enabled(if: python3Available, "needs python3"))
    func predictInterface() throws {
        let few = try Self.predict(["--ranks", "8", "--megapixels", "256", "--link", "1gbit", "--op", "median:size=15"])
        for phase in ["read", "broadcast", "scatter", "halo", "compute", "encode", "gather", "write"] {
            #expect(few.phases[phase] != nil, "no \(phase) in \(few.phases)")
        }
        #expect(few.total_ms > 0 && few.speedup > 1)
        // With rank 0's I/O the serial read and the linear scatter bound the speedup by the
        // root's link: 512 ranks on 100 Mbit/s cannot beat 8 on 10 Gbit/s.
        let many = try Self.predict(["--ranks", "512", "--megapixels", "256", "--link", "100mbit", "--op", "median:size=15"])
        #expect(many.speedup < few.speedup, "512 ranks on 100 Mbit/s: \(many.speedup)x against \(few.speedup)x")
    }
}
