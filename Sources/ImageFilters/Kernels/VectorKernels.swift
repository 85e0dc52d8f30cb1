// The one place ImageFilters calls CKernels' vector functions. Each wrapper is reached only when
// `SIMDPath.avx2.isSupported` (kernels run `.avx2` only then); on other architectures the C
// functions do not exist and the wrappers stop the program.
import ImageCore
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

    static func luma16(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Int16>, pixels: Int, channels: Int) {
        #if arch(x86_64)
        ck_luma16_avx2(src, dst, pixels, Int32(channels))
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

    static func gaussianHorizontal(_ centre: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt16>, count n: Int,
                                   stride c: Int, radius: Int, weights: UnsafePointer<UInt16>) {
        #if arch(x86_64)
        ck_gaussian_hpass_avx2(centre, out, n, c, Int32(radius), weights)
        #else
        unavailable()
        #endif
    }

    static func gaussianVertical(_ taps: UnsafeBufferPointer<UnsafePointer<UInt16>>, weights: UnsafePointer<UInt16>,
                                 count n: Int, into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64)
        ck_gaussian_vrow_avx2(cArray(taps), Int32(taps.count / 2), weights, n, out)
        #else
        unavailable()
        #endif
    }

    static func sharpenVertical(_ taps: UnsafeBufferPointer<UnsafePointer<UInt16>>, weights: UnsafePointer<UInt16>,
                                count n: Int, input x: UnsafePointer<UInt8>, amount256: Int32,
                                into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64)
        ck_sharpen_vrow_avx2(cArray(taps), Int32(taps.count / 2), weights, n, x, amount256, out)
        #else
        unavailable()
        #endif
    }

    static func box(rows: UnsafeBufferPointer<UnsafePointer<UInt8>>, outputRows: Int, width: Int, channels c: Int,
                    radius: Int, into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64)
        let padded = (width + 2 * radius) * c
        var columnSums = [UInt16](repeating: 0, count: padded), total = [UInt32](repeating: 0, count: padded)
        ck_box_avx2(cArray(rows), outputRows, width, Int32(c), Int32(radius), out, &columnSums, &total)
        #else
        unavailable()
        #endif
    }

    static func median3(rows: UnsafeBufferPointer<UnsafePointer<UInt8>>, outputRows: Int, width: Int, channels c: Int,
                        into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64)
        var scratch = [UInt8](repeating: 0, count: 6 * (width + 2) * c)
        ck_median3_avx2(cArray(rows), outputRows, width, Int32(c), out, &scratch)
        #else
        unavailable()
        #endif
    }

    static func median5(rows: UnsafeBufferPointer<UnsafePointer<UInt8>>, outputRows: Int, width: Int, channels c: Int,
                        into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64)
        var scratch = [UInt8](repeating: 0, count: 5 * ((width + 4) * c + 32))
        ck_median5_avx2(cArray(rows), outputRows, width, Int32(c), out, &scratch)
        #else
        unavailable()
        #endif
    }

    static func median(rows: UnsafeBufferPointer<UnsafePointer<UInt8>>, outputRows: Int, width: Int, channels c: Int,
                       radius: Int, stripWidth: Int, into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64)
        let capacity = Swift.min(width, stripWidth + 2 * radius) * c
        var coarse = [UInt16](repeating: 0, count: capacity * 16), fine = [UInt16](repeating: 0, count: capacity * 256)
        ck_median_avx2(cArray(rows), outputRows, width, Int32(c), Int32(radius), out, &coarse, &fine, stripWidth)
        #else
        unavailable()
        #endif
    }

    static func cannySobel(above a: UnsafePointer<Int16>, at b: UnsafePointer<Int16>, below c: UnsafePointer<Int16>,
                           width: Int, gx: UnsafeMutablePointer<Int16>, gy: UnsafeMutablePointer<Int16>,
                           magnitude: UnsafeMutablePointer<Int32>, l2: Bool) {
        #if arch(x86_64)
        ck_canny_sobel_avx2(a, b, c, width, gx, gy, magnitude, l2 ? 1 : 0)
        #else
        unavailable()
        #endif
    }

    static func cannySuppress(above: UnsafePointer<Int32>, at: UnsafePointer<Int32>, below: UnsafePointer<Int32>,
                              gx: UnsafePointer<Int16>, gy: UnsafePointer<Int16>, width: Int, low: Int32, high: Int32,
                              into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64)
        ck_canny_suppress_avx2(above, at, below, gx, gy, width, low, high, out)
        #else
        unavailable()
        #endif
    }

    /// Row pointers as C sees an array of them (`const uint16_t *const *`: optional pointers to Swift).
    private static func cArray<T>(_ rows: UnsafeBufferPointer<UnsafePointer<T>>) -> UnsafePointer<UnsafePointer<T>?> {
        UnsafeRawPointer(rows.baseAddress!).assumingMemoryBound(to: UnsafePointer<T>?.self)
    }

    private static func unavailable() -> Never {
        preconditionFailure("an AVX2 kernel was called on a CPU without AVX2")
    }
}
