import CMPI

/// An MPI datatype handle.
///
/// Wraps `MPI_Datatype` so no C handle appears in a public signature. Derived types made with
/// `contiguous(_:of:)` must be released with `free()`, or used through `withContiguous`.
public struct Datatype: @unchecked Sendable {
    @usableFromInline let raw: MPI_Datatype?

    init(raw: MPI_Datatype?) { self.raw = raw }

    /// One byte. The corresponding C constant is `MPI_BYTE`.
    public static var byte: Datatype { Datatype(raw: cmpi_type_byte()) }
    /// A 64-bit signed integer. The corresponding C constant is `MPI_INT64_T`.
    public static var int64: Datatype { Datatype(raw: cmpi_type_int64()) }

    /// A committed type of `count` consecutive `base` elements (`MPI_Type_contiguous`).
    ///
    /// An image row as one element keeps scatter and gather counts in rows, far from the
    /// 32-bit limit that byte counts of large images would cross.
    public static func contiguous(_ count: Int, of base: Datatype) throws(MPIError) -> Datatype {
        var t: MPI_Datatype? = nil
        try check(MPI_Type_contiguous(try mpiCount(count, "MPI_Type_contiguous"), base.raw, &t), "MPI_Type_contiguous")
        try check(MPI_Type_commit(&t), "MPI_Type_commit")
        return Datatype(raw: t)
    }

    /// Runs `body` with a contiguous type and frees it afterwards, even when `body` throws.
    public static func withContiguous<T>(_ count: Int, of base: Datatype,
                                         _ body: (Datatype) throws -> T) throws -> T {
        let t = try contiguous(count, of: base)
        defer { t.free() }
        return try body(t)
    }

    /// Releases a derived type (`MPI_Type_free`).
    public func free() {
        var t = raw
        MPI_Type_free(&t)
    }
}

/// The MPI handle of a ``Reduction``.
struct ReduceOp {
    let raw: MPI_Op?

    init(_ reduction: Reduction) {
        switch reduction {
        case .min: raw = cmpi_op_min()
        case .max: raw = cmpi_op_max()
        case .sum: raw = cmpi_op_sum()
        }
    }
}
