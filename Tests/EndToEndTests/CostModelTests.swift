import Foundation
import TestSupport
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

    /// bandsaw's read-to-write total, rank 0's read phase and the decode phase (with PPM input
    /// and rank 0's I/O nothing but one agreement between the ranks) from its `--json` report, in ms.
    static func times(_ outcome: Harness.Outcome) throws -> (total: Double, read: Double, wait: Double) {
        struct Report: Decodable {
            struct Image: Decodable {
                struct Phases: Decodable {
                    struct Phase: Decodable { var max_ms: Double }
                    var total_ms: Double, read: Phase, decode: Phase
                }
                var phases: Phases
            }
            var images: [Image]
        }
        try #require(outcome.status == 0, "bandsaw failed: \(outcome.stderr)")
        let phases = try JSONDecoder().decode(Report.self, from: Data(outcome.stdout.utf8)).images[0].phases
        return (phases.total_ms, phases.read.max_ms, phases.decode.max_ms)
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
          .enabled(if: MPIRun.isAvailable && python3Available, "needs mpirun and python3"))
    func twoRankLocalRun() throws {
        let executable = try #require(Self.releaseExecutable)
        let dir = try Harness.temporaryFolder("model")
        defer { Harness.cleanup(dir) }
        let input = dir.appendingPathComponent("in.ppm"), output = dir.appendingPathComponent("out.pgm")
        try Self.writeSixteenMegapixelPPM(to: input)
        let args = [input.path, "-o", output.path, "--op", "sobel", "--json"]

        // Two ranks on two cores, as the model's fit ran: not oversubscribed.
        let mpirun = MPIRun(ranks: 2, oversubscribe: false).arguments([executable])
        // A user's environment, not the harness's BTL list.
        var env = Harness.environment
        env.removeValue(forKey: "OMPI_MCA_btl")
        var runs: [(total: Double, read: Double, wait: Double)] = []
        for _ in 0..<7 { runs.append(try Self.times(Harness.run(mpirun + args, timeout: 120, environment: env))) }

        // This machine is shared and often busy (load 2-10 on 2 cores), so two of the model's
        // inputs describe its state during each run and are read from that run, not taken from
        // the idle fit: how much slower CPU-bound work runs (rank 0's read phase, file and PPM
        // parsing with no MPI in it, against the model's), and how long one wait for the other
        // rank takes (the decode phase, which for a PPM read by rank 0 is one agreement and
        // nothing else: ~0.01 ms idle, a scheduler slice of 4-16 ms when the other rank was
        // descheduled). Everything else is the committed model: the scatter and gather at the
        // fitted shared-memory bandwidth, the halves of compute at the fitted per-core rate, the
        // serial encode and write, the number of waits, how the phases add up on rank 0.
        let size = ["--width", "4096", "--height", "4096", "--link", "loopback", "--op", "sobel"]
        let idle2 = try Self.predict(["--ranks", "2"] + size)
        let idleRead = try #require(idle2.phases["read"])
        var errors: [Double] = [], predictions: [Double] = []
        for run in runs {
            let p = try Self.predict(["--ranks", "2", "--cpu-factor", String(run.read / idleRead),
                                      "--wake-ms", String(run.wait)] + size)
            predictions.append(p.total_ms)
            errors.append((p.total_ms - run.total) / run.total)
        }
        // The median run's error: a run disturbed by another engineer's build is one of seven.
        let error = Self.median(errors)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
        let note = String(format: "median error %+.1f%% (per run %@); measured %@ ms, predicted %@ ms, waits %@ ms "
                          + "(%.1f ms on the idle machine); loadavg %@",
                          error * 100, errors.map { String(format: "%+.0f%%", $0 * 100) }.joined(separator: ","),
                          runs.map { String(format: "%.0f", $0.total) }.joined(separator: ","),
                          predictions.map { String(format: "%.0f", $0) }.joined(separator: ","),
                          runs.map { String(format: "%.1f", $0.wait) }.joined(separator: ","),
                          idle2.total_ms, load.trimmingCharacters(in: .whitespacesAndNewlines))
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
