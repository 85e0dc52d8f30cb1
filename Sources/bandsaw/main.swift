#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ImageCore
import MPIKit

// Every rank parses the same argv, so a usage error is found by all of them at once; only
// rank 0 (or a process started without mpirun) prints it, so the user reads it once.
let printsErrors = (MPI.launchedRank ?? 0) == 0
do {
    var command = try Bandsaw.parseAsRoot()
    try command.run()
} catch let error as ExitCode {
    exit(error.rawValue)
} catch let error as MPIError {
    Console.error("rank \(MPI.launchedRank ?? 0): \(error)")
    exit(ExitStatus.failure.rawValue)
} catch let error as ImageError {
    if printsErrors { Console.error(error.description) }
    exit(ExitStatus.badImage.rawValue)
} catch let error as FilterSpecError {
    if printsErrors { Console.error("\(error) (see 'bandsaw ops')") }
    exit(ExitStatus.usage.rawValue)
} catch {
    let code = Bandsaw.exitCode(for: error)
    if code == .success {
        // --help and --version: the full text, on stdout, once.
        if printsErrors { Console.out(Bandsaw.fullMessage(for: error)) }
        exit(0)
    }
    if printsErrors {
        Console.error("\(Bandsaw.message(for: error)) (see 'bandsaw --help')")
    }
    exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
}
