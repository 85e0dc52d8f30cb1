import Foundation
import TestSupport
import Testing

/// MPIKit under a real mpirun (the `mpikit-checks` executable): count overflow, MPI errors as
/// values, collectives with empty bands, MPI-IO with idle ranks.
@Suite(.serialized, .needsMPIRun)
struct MPIKitTests {
    static var checks: String {
        URL(fileURLWithPath: Harness.executable).deletingLastPathComponent().appendingPathComponent("mpikit-checks").path
    }

    @Test("every MPIKit check passes on 1, 3 and 5 ranks", arguments: [1, 3, 5])
    func checksPass(_ ranks: Int) throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.checks), "\(Self.checks) is not built")
        let r = try Harness.run(MPIRun(ranks: ranks).arguments([Self.checks]), timeout: 120)
        #expect(r.status == 0 && !r.timedOut, "exit \(r.status): \(r.stdout) \(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 6 && lines.allSatisfy { $0.hasPrefix("ok ") }, "\(r.stdout)")
    }
}
