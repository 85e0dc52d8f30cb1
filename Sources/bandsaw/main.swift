#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit
import SPMDEngine

// Every rank parses the same argv, so a usage error is found by all of them at once; only
// rank 0 (or a process started without mpirun) prints it, so the user reads it once.
let printsErrors = (MPI.launchedRank ?? 0) == 0

/// Prints a usage error once and exits every rank with `code`. Under mpirun the ranks first
/// meet in MPI (MPI_Finalize synchronises them): a rank that exited early with a non-zero code
/// would make mpirun kill rank 0 before its message got out.
func failBeforeRun(_ code: Int32, _ print: () -> Void) -> Never {
    if MPI.launchedRank != nil {
        _ = try? MPI.run { world in if world.rank == 0 { print() } }
    } else {
        print()
    }
    exit(code)
}
do {
    var command = try Bandsaw.parseAsRoot()
    try command.run()
} catch let error as ExitCode {
    exit(error.rawValue)
} catch let error as LaunchError {
    // Every task of the step refuses on its own (there is no MPI to meet in); task 0 says why.
    if error.task == 0 { Console.error(error.description) }
    exit(ExitStatus(for: error).rawValue)
} catch let error as MPIError {
    // A failed MPI call leaves the ranks unable to agree: each says what happened to it.
    Console.error("rank \(MPI.launchedRank ?? 0): \(error)")
    exit(ExitStatus(for: error).rawValue)
} catch let error as ImageError {
    if printsErrors { Console.error(error.description) }
    exit(ExitStatus(for: error).rawValue)
} catch {
    let code = Bandsaw.exitCode(for: error)
    if code == .success {
        // --help and --version: the full text, on stdout, once.
        failBeforeRun(0) { Console.out(Bandsaw.fullMessage(for: error)) }
    }
    failBeforeRun(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue) {
        let message = Bandsaw.message(for: error)
        Console.error(message.contains("(see '") ? message : "\(message) (see 'bandsaw --help')")
    }
}
