import Foundation
import ImageCodecs
import ImageCore
import TestSupport
import Testing

/// Folders as datasets under Slurm (issue 25): the same cluster harness as the single-image
/// Slurm tests, the same folder of mixed PNG, JPEG and PNM files as the mpirun dataset tests.
extension SlurmTests {
    static let datasetOps = ["gaussian:sigma=2", "median:size=5", "sobel"]
    static var datasetOpArguments: [String] { datasetOps.flatMap { ["--op", $0] } }

    /// One local process's outputs of `input` into `name`: the reference every rank count must give.
    static func oneProcess(_ input: URL, into name: String, in cluster: SlurmCluster) throws -> [String: Data] {
        let one = URL(fileURLWithPath: cluster.path(name))
        let run = try Harness.bandsaw([input.path, "-o", one.path, "-q"] + datasetOpArguments, timeout: 300)
        try #require(run.status == 0, "one-process run failed: \(run.stderr)")
        return DatasetTests.contents(one)
    }

    /// The ranks that processed images, from a folder's JSON report.
    static func ranksWithImages(_ report: URL) throws -> Set<Int> {
        let batch = try DatasetTests.report(report)["batch"] as? [[String: Any]] ?? []
        return Set(batch.compactMap { $0["rank"] as? Int })
    }

    @Test("a folder under srun -n 3, sbatch and run.sh --slurm: every output byte-identical to one process, images on more than one rank")
    func folderUnderSlurm() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        let input = try DatasetTests.makeFolder(cluster.folder, count: 12, seed: 31)
        let reference = try Self.oneProcess(input, into: "one", in: cluster)
        try #require(reference.count == 12)

        // srun -n 3, straight.
        let srunOut = cluster.folder.appendingPathComponent("srun")
        let srunReport = cluster.folder.appendingPathComponent("srun.json")
        let run = try cluster.srun(3, [input.path, "-o", srunOut.path, "--report", srunReport.path] + Self.datasetOpArguments)
        #expect(!run.timedOut, "srun -n 3 hung")
        #expect(run.status == 0, "srun -n 3 failed (\(run.status)): \(run.stderr)")
        #expect(run.stderr.contains("12 of 12 images written"), "\(run.stderr)")
        #expect(DatasetTests.contents(srunOut) == reference, "srun -n 3: outputs differ from one process")
        let srunRanks = try Self.ranksWithImages(srunReport)
        #expect(srunRanks.count > 1, "srun -n 3: images on ranks \(srunRanks) only")

        // The shipped batch script, a folder as INPUT; its report lies beside the output folder.
        let batchOut = cluster.folder.appendingPathComponent("batch")
        let log = cluster.path("batch.out")
        let batch = try cluster.run(["sbatch", "--wait", "--ntasks", "3", "--chdir", cluster.folder.path, "--output", log, Self.sbatchScript],
                                    environment: ["INPUT": input.path, "OUTPUT": batchOut.path, "BANDSAW": Harness.executable,
                                                  "OPS": Self.datasetOps.joined(separator: " ")])
        let jobLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(no job log)"
        #expect(!batch.timedOut, "sbatch --wait hung")
        #expect(batch.status == 0, "the batch job failed (\(batch.status)): \(batch.stderr)\n\(jobLog)")
        #expect(jobLog.contains("12 of 12 images written"), "\(jobLog)")
        #expect(DatasetTests.contents(batchOut) == reference, "sbatch: outputs differ from one process")
        let batchRanks = try Self.ranksWithImages(cluster.folder.appendingPathComponent("batch.timing.json"))
        #expect(batchRanks.count > 1, "sbatch: images on ranks \(batchRanks) only")

        // run.sh FOLDER --slurm: submits the same script and prints the batch's balance.
        let script = Harness.packageRoot.appendingPathComponent("run.sh").path
        let runOut = cluster.folder.appendingPathComponent("runsh")
        let viaScript = try cluster.run([script, input.path, "--slurm", "-n", "3", "-o", runOut.path, "--no-show"] + Self.datasetOpArguments,
                                        environment: ["BANDSAW_BIN": Harness.executable])
        #expect(viaScript.status == 0, "run.sh --slurm failed (\(viaScript.status)): \(viaScript.stderr)")
        #expect(viaScript.stdout.contains("output: \(runOut.path)"), "\(viaScript.stdout)")
        #expect(viaScript.stderr.contains("batch: 12 images in") && viaScript.stderr.contains("rank 2:"),
                "run.sh --slurm printed no batch summary: \(viaScript.stderr)")
        #expect(DatasetTests.contents(runOut) == reference, "run.sh --slurm: outputs differ from one process")
        let scriptRanks = try Self.ranksWithImages(cluster.folder.appendingPathComponent("runsh.timing.json"))
        #expect(scriptRanks.count > 1, "run.sh --slurm: images on ranks \(scriptRanks) only")
        let logs = try FileManager.default.contentsOfDirectory(atPath: cluster.folder.path).filter { $0.hasPrefix(".bandsaw-slurm") }
        #expect(logs.isEmpty, "run.sh left its job log: \(logs)")
    }

    @Test("scancel of a folder batch part-way keeps only complete outputs; --skip-existing under sbatch and srun completes it byte-identically")
    func cancelledFolderResumes() throws {
        let cluster = try SlurmCluster()
        defer { cluster.tearDown() }
        // Long enough (40 images up to 600x600, a median among the filters: seconds of work on
        // two cores) that the cancel lands while most images are still to do.
        let count = 40
        let input = try DatasetTests.makeFolder(cluster.folder, count: count, seed: 41, side: 400)
        let reference = try Self.oneProcess(input, into: "one", in: cluster)
        try #require(reference.count == count)

        let out = cluster.folder.appendingPathComponent("out")
        let log = cluster.path("cancelled.out")
        let env = ["INPUT": input.path, "OUTPUT": out.path, "BANDSAW": Harness.executable, "OPS": Self.datasetOps.joined(separator: " ")]
        let submit = try cluster.run(["sbatch", "--parsable", "--ntasks", "3", "--chdir", cluster.folder.path, "--output", log, Self.sbatchScript],
                                     environment: env)
        try #require(submit.status == 0, "sbatch failed: \(submit.stderr)")
        let job = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func written() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { !$0.hasPrefix(".") }
        }
        // Cancel once the first outputs are there: the batch is then surely under way.
        let deadline = Date().addingTimeInterval(120)
        while written().count < 4 && Date() < deadline { usleep(20_000) }
        try #require(written().count >= 4, "the batch never wrote its first outputs")
        let cancel = try cluster.run(["scancel", job], timeout: 30)
        #expect(cancel.status == 0, "scancel failed: \(cancel.stderr)")
        let left = try cluster.waitUntilGone(job: job)
        #expect(left.ranks.isEmpty, "ranks still running 30 s after scancel: \(left.ranks)")
        #expect(left.state.isEmpty || left.state == "CANCELLED", "job \(job) still \(left.state)")

        let partial = DatasetTests.contents(out)
        let jobLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try #require(partial.count < count, "the batch finished before the cancel landed: \(jobLog)")
        #expect(partial.count >= 4, "outputs lost by the cancel: \(partial.count)")
        #expect(!partial.keys.contains { $0.hasPrefix(".") || $0.contains(".tmp") }, "left \(partial.keys.filter { $0.hasPrefix(".") })")
        for (name, data) in partial { #expect(reference[name] == data, "\(name) is not complete after the cancel") }

        // The rerun, through the batch script with --skip-existing: only the rest is done.
        let rerunLog = cluster.path("rerun.out")
        let rerun = try cluster.run(["sbatch", "--wait", "--ntasks", "3", "--chdir", cluster.folder.path, "--output", rerunLog, Self.sbatchScript],
                                    timeout: 300, environment: env.merging(["ARGS": "--skip-existing"]) { $1 })
        let rerunText = (try? String(contentsOfFile: rerunLog, encoding: .utf8)) ?? "(no job log)"
        #expect(rerun.status == 0, "the --skip-existing batch failed (\(rerun.status)): \(rerun.stderr)\n\(rerunText)")
        #expect(rerunText.contains("\(count - partial.count) of \(count - partial.count) images written (\(partial.count) skipped: output exists)"),
                "the rerun did not skip the \(partial.count) finished outputs: \(rerunText)")
        let batch = try DatasetTests.report(cluster.folder.appendingPathComponent("out.timing.json"))["batch"] as? [[String: Any]] ?? []
        #expect(batch.count == count - partial.count, "the rerun's report lists \(batch.count) images")
        #expect(!batch.contains { partial.keys.contains(URL(fileURLWithPath: $0["output"] as? String ?? "").lastPathComponent) },
                "the rerun redid a finished output")
        #expect(DatasetTests.contents(out) == reference, "the resumed batch differs from one uninterrupted process")

        // Once complete, srun --skip-existing has nothing left to do and changes nothing.
        let again = try cluster.srun(3, [input.path, "-o", out.path, "--skip-existing"] + Self.datasetOpArguments)
        #expect(again.status == 0, "srun --skip-existing failed (\(again.status)): \(again.stderr)")
        #expect(again.stderr.contains("\(count) skipped: output exists") || again.stderr.contains("\(count) images skipped: output exists"),
                "\(again.stderr)")
        #expect(DatasetTests.contents(out) == reference, "srun --skip-existing changed a finished output")
    }
}
