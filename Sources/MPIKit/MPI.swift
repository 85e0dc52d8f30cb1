import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide MPI lifetime.
public enum MPI {
    /// Initialises MPI, runs `body` with the world communicator, and finalises MPI whether
    /// `body` returns or throws: one place owns the lifetime.
    /// Throws `LaunchError`, before `MPI_Init`, for a launch Open MPI cannot join.
    public static func run<T>(_ body: (Communicator) throws -> T) throws -> T {
        try checkLaunch()
        try check(MPI_Init(nil, nil), "MPI_Init")
        defer { MPI_Finalize() }
        let world = Communicator(raw: cmpi_comm_world())
        try check(MPI_Comm_set_errhandler(world.raw, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return try body(world)
    }

    /// Seconds since an arbitrary point, from `MPI_Wtime`.
    @inlinable public static func wallTime() -> Double { MPI_Wtime() }

    /// True when this process was started by Open MPI's launcher (mpirun, mpiexec or a
    /// singleton would not set it), read from the environment before `MPI_Init`.
    public static var launchedRank: Int? {
        for name in ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"] {
            if let raw = getenv(name), let r = Int(String(cString: raw)) { return r }
        }
        return nil
    }

    /// Refuses a launch Open MPI cannot join: Slurm started this process as a task of a job
    /// step (`srun`: step and task variables set) without a PMIx server (`--mpi=none` or
    /// `pmi2`, or a site whose `MpiDefault` is not pmix), and mpirun did not start it either.
    /// Debian's Open MPI joins a launcher only through PMIx, so `MPI_Init` would abort every
    /// task with some thirty lines that never name the option to use. A batch script's own
    /// step has no step variable, so a single-rank run there still works.
    static func checkLaunch() throws(LaunchError) {
        func isSet(_ name: String) -> Bool { getenv(name) != nil }
        let slurmTask = (isSet("SLURM_STEP_ID") || isSet("SLURM_STEPID")) && isSet("SLURM_PROCID")
        let joinable = isSet("PMIX_RANK") || isSet("PMIX_NAMESPACE") || isSet("OMPI_COMM_WORLD_SIZE")
        guard slurmTask, !joinable else { return }
        let task = getenv("SLURM_PROCID").flatMap { Int(String(cString: $0)) } ?? 0
        throw LaunchError(task: task)
    }
}

/// A process started by a launcher Open MPI cannot join (see `MPI.run`), found before `MPI_Init`.
public struct LaunchError: Error, CustomStringConvertible, Sendable {
    /// This task's number in the Slurm step (`SLURM_PROCID`): without MPI the tasks cannot
    /// agree on who reports, so the caller prints only from task 0.
    public var task: Int

    public var description: String {
        "srun started this task without PMIx, so Open MPI cannot join the job step: "
            + "run 'srun --mpi=pmix ...' (or set MpiDefault=pmix in slurm.conf), or mpirun inside the allocation"
    }
}
