import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide MPI lifetime.
public enum MPI {
    /// Initialises MPI, runs `body` with the world communicator, and finalises MPI whether
    /// `body` returns or throws: one place owns the lifetime.
    public static func run<T>(_ body: (Communicator) throws -> T) throws -> T {
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
}
