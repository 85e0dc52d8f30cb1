import ImageCore
@testable import ImageFilters
import TestSupport
import Testing

/// The AVX2 luma and 3 x 3 median write their output with aligned streaming stores after one
/// unaligned first vector, so what they do depends on where the output starts. Arrays from
/// the kernels start at whatever address the allocator gives; these tests put the output at
/// every offset from a 32-byte boundary and compare with the portable kernels' bits.
@Suite("Exactness: AVX2 streaming stores at every output alignment")
struct SIMDStoreAlignmentTests {
    /// A buffer with room to start the output `offset` bytes past a 32-byte boundary.
    static func withOffsetOutput(count: Int, offset: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) -> [UInt8] {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count + 64, alignment: 32)
        defer { raw.deallocate() }
        let base = raw.bindMemory(to: UInt8.self, capacity: count + 64)
        // A pattern the kernels never leave behind by accident around the output.
        base.initialize(repeating: 0xA5, count: count + 64)
        body(base + offset)
        #expect((0..<offset).allSatisfy { base[$0] == 0xA5 }, "wrote before the output at offset \(offset)")
        #expect((offset + count..<count + 64).allSatisfy { base[$0] == 0xA5 }, "wrote past the output at offset \(offset)")
        return Array(UnsafeBufferPointer(start: base + offset, count: count))
    }

    @Test("luma (3 and 4 channels): every output offset 0...32, lengths around the vector sizes")
    func lumaEveryOffset() {
        guard SIMDPath.avx2.isSupported else { return }
        var rng = SeededRandom(seed: 0x1A11)
        for channels in 3...4 {
            for pixels in [0, 1, 31, 32, 33, 63, 64, 65, 95, 96, 97, 200, 1000] {
                let image = TestImages.random(width: pixels, height: 1, channels: channels, using: &rng)
                let reference = (0..<pixels).map { i in
                    luma(image.pixels[i * channels], image.pixels[i * channels + 1], image.pixels[i * channels + 2])
                }
                for offset in 0...32 {
                    let out = Self.withOffsetOutput(count: pixels, offset: offset) { dst in
                        image.pixels.withUnsafeBufferPointer { src in
                            VectorKernels.luma(src.baseAddress!, dst, pixels: pixels, channels: channels)
                        }
                    }
                    #expect(out == reference, "\(pixels) pixels x \(channels), output offset \(offset)")
                }
            }
        }
    }

    @Test("3 x 3 median: every output offset 0...32, 1-4 channels, widths around 32 and 64 samples")
    func median3EveryOffset() {
        guard SIMDPath.avx2.isSupported else { return }
        var rng = SeededRandom(seed: 0x3ED1)
        for channels in 1...4 {
            for width in [1, 2, 10, 11, 16, 21, 31, 32, 33, 64, 65, 100] {
                let height = Int.random(in: 1...6, using: &rng)
                let image = TestImages.random(width: width, height: height, channels: channels, using: &rng)
                let reference = Pipeline([MedianKernel(size: 3).using(.baseline)]).apply(image).pixels
                let band = image.asBand
                let rows = (-1...height).map { max(0, min(height - 1, $0)) }
                for offset in 0...32 {
                    let out = Self.withOffsetOutput(count: image.pixels.count, offset: offset) { dst in
                        band.pixels.withUnsafeBufferPointer { src in
                            let pointers = rows.map { src.baseAddress! + $0 * band.rowBytes }
                            pointers.withUnsafeBufferPointer { rowPointers in
                                VectorKernels.median3(rows: rowPointers, outputRows: height, width: width,
                                                      channels: channels, into: dst)
                            }
                        }
                    }
                    #expect(out == reference, "\(width)x\(height)x\(channels), output offset \(offset)")
                }
            }
        }
    }
}
