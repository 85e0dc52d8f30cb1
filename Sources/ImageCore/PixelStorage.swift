// Fresh pixel arrays for kernel outputs, backed by transparent huge pages where the system
// offers them.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Allocates the arrays kernels write their output bands into.
///
/// A 16-megapixel RGB band is 48 MB: with 4 KiB pages, the first write to it takes ~12,000 page
/// faults, which cost more than a point filter's arithmetic (invert on AVX2: 21 ms with them,
/// measured). Large buffers are therefore marked `MADV_HUGEPAGE` before the first write, as
/// NumPy does for its arrays; where transparent huge pages are off (or on other systems) the
/// advice is simply ignored and nothing else changes.
package enum PixelStorage {
    /// Buffers from this size on get the advice (smaller ones rarely span a whole huge page).
    package static let adviceThreshold = 4 << 20

    /// An array of `count` samples, every one written by `fill` (which must initialise them all).
    @inline(__always)
    package static func uninitialized(count: Int, _ fill: (UnsafeMutableBufferPointer<UInt8>) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count >= adviceThreshold, let base = buffer.baseAddress { adviseHugePages(base, count: count) }
            fill(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            initialized = count
        }
    }

    /// An array of `count` zero samples.
    package static func zeroed(count: Int) -> [UInt8] {
        uninitialized(count: count) { $0.initialize(repeating: 0) }
    }

    /// Asks for huge pages over the whole 4 KiB pages inside `base ..< base + count`.
    private static func adviseHugePages(_ base: UnsafeMutablePointer<UInt8>, count: Int) {
        #if os(Linux)
        let page = 4096, start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
        let end = (Int(bitPattern: base) + count) & ~(page - 1)
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, Int32(MADV_HUGEPAGE)) }
        #endif
    }
}
