// The one place ImageCore calls CKernels' vector functions. Each wrapper is reached only when
// `SIMDPath.avx2.isSupported` (kernels run `.avx2` only then); on other architectures the C
// functions do not exist and the wrappers stop the program.
import CKernels

enum VectorKernels {
    static func invert(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        #if arch(x86_64)
        ck_invert_avx2(src, dst, pixels, Int32(channels))
        #else
        unavailable()
        #endif
    }

    static func luma(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        #if arch(x86_64)
        ck_luma_avx2(src, dst, pixels, Int32(channels))
        #else
        unavailable()
        #endif
    }

    static func threshold(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int,
                          level: Int) {
        #if arch(x86_64)
        ck_threshold_avx2(src, dst, pixels, Int32(channels), Int32(level))
        #else
        unavailable()
        #endif
    }

    private static func unavailable() -> Never {
        preconditionFailure("an AVX2 kernel was called on a CPU without AVX2")
    }
}
