import ImageCore

/// Converts lane by lane with `convert`; every SIMD kernel (edge and smoothing) uses it.
///
/// The standard library's generic SIMD conversion initialisers compile to good code only when
/// inlined, and the optimiser stops inlining them once a module uses them in several places
/// (each then costs a call and a lane-by-lane loop). This force-inlined lane loop becomes the
/// same single instructions (sign extension, `cvtdq2ps`, `packuswb`) wherever it is used.
@inline(__always)
func convertLanes<Source: SIMD, Result: SIMD>(_ v: Source, _ convert: (Source.Scalar) -> Result.Scalar) -> Result {
    var r = Result()
    for i in 0..<Result.scalarCount { r[i] = convert(v[i]) }
    return r
}
