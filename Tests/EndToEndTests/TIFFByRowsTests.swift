import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// Every rank decodes its own rows of a TIFF (the strips or tiles that hold them) when every
/// rank can open the file; rank 0 decodes it whole and scatters when one cannot.
@Suite(.serialized, .needsMPIRun)
struct TIFFByRowsTests {
    /// The `"decode"` field and the per-rank peak memory of a `--json` report.
    static func report(_ stdout: String) -> (decode: String?, peaks: [Double]) {
        let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
        let image = (object?["images"] as? [[String: Any]])?.first
        return (image?["decode"] as? String, image?["peak_rss_mib"] as? [Double] ?? [])
    }

    @Test("a TIFF is decoded by rows on every rank; a rank that cannot see it makes rank 0 decode it whole")
    func fallback() throws {
        let root = try Harness.temporaryFolder("tiff-rows")
        defer { Harness.cleanup(root) }
        let inputs = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let input = inputs.appendingPathComponent("a.tif").path
        try writeImage(TestImages.stripes(width: 83, height: 301, channels: 3, seed: 4), path: input)
        let args = ["--op", "gaussian:sigma=2", "--json"]
        let one = root.appendingPathComponent("one.png").path
        #expect(try Harness.bandsaw([input, "-o", one] + args).status == 0)
        let shared = root.appendingPathComponent("shared.png").path
        let run = try Harness.mpirun(3, [input, "-o", shared] + args)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.report(run.stdout).decode == "tiff")
        #expect(Self.report(run.stdout).peaks.count == 3)
        #expect(try readImage(path: shared) == readImage(path: one))

        let probe = try Harness.run(["unshare", "--mount", "true"], timeout: 20)
        if probe.status != 0 {
            try #require(ProcessInfo.processInfo.environment["CI"] != "true", "unshare --mount failed in CI: \(probe.stderr)")
            print("skipping the unshared half: no mount namespaces here (\(probe.stderr))")
            return
        }
        // Ranks other than 0 see an empty folder where the input is (as on hosts without a
        // shared filesystem): the run still succeeds, decoded whole on rank 0.
        let script = """
        if [ "${OMPI_COMM_WORLD_RANK:-0}" = 0 ]; then exec "$@"; fi
        exec unshare --mount sh -c 'mount -t tmpfs none "$0" && exec "$@"' \(inputs.path) "$@"
        """
        let hidden = root.appendingPathComponent("hidden.png").path
        let unshared = try Harness.run(MPIRun(ranks: 3).arguments(["sh", "-c", script, "rank", Harness.executable, input, "-o", hidden] + args),
                                       timeout: 60)
        #expect(unshared.status == 0 && unshared.stderr.isEmpty, "\(unshared.stderr)")
        #expect(Self.report(unshared.stdout).decode == "whole")
        #expect(try readImage(path: hidden) == readImage(path: one))
    }

    @Test("a damaged tile in the last rank's rows: one error line, exit 3, no output")
    func damagedTile() throws {
        let root = try Harness.temporaryFolder("tiff-bad-tile")
        defer { Harness.cleanup(root) }
        // A Deflate TIFF of 64 strips: garble the bytes of the last strips only.
        let input = root.appendingPathComponent("a.tif").path
        let image = TestImages.stripes(width: 300, height: 900, channels: 1, seed: 8)
        var bytes = try encodeImage(image, format: .tiff)
        let ifd = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
        let start = ifd - 3000  // strips come before the directory: the last few KB are the bottom rows
        for i in start..<(start + 2000) { bytes[i] ^= 0x33 }
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        for ranks in [1, 2, 4] {
            let output = root.appendingPathComponent("o\(ranks).png").path
            let run = ranks == 1 ? try Harness.bandsaw([input, "-o", output]) : try Harness.mpirun(ranks, [input, "-o", output])
            #expect(run.status == 3, "np \(ranks): \(run.status) \(run.stderr)")
            BadInputTests.expectOneErrorLine(run, "damaged tile np \(ranks)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }

    // MARK: - A tiled BigTIFF over 4 GB

    /// 38400 x 37888 RGB in 256 x 256 uncompressed tiles: 4.36 GB of pixels, a sparse file on
    /// disk. The tile rows `patterned` hold `pixel(x, y)`, the rest are holes (zeros).
    static let bigWidth = 38400, bigHeight = 37888, tile = 256
    static let patterned = [0, 73, 74, 147]  // the first, the two either side of the 2-rank split, the last

    static func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        (UInt8(truncatingIfNeeded: x + 3 * y), UInt8(truncatingIfNeeded: 7 * x + y), UInt8(truncatingIfNeeded: x ^ y))
    }

    /// Writes the BigTIFF by hand: header, one directory, the tile offset and byte-count
    /// arrays, then the tiles, only the patterned ones with bytes (the file is extended with
    /// ftruncate, so the rest stay holes).
    static func writeBigTIFF(_ path: String) throws {
        let across = bigWidth / tile, down = bigHeight / tile, count = across * down
        let tileBytes = tile * tile * 3
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        // (tag, type, count, inline value or offset): SHORT 3, LONG 4, LONG8 16.
        let entries = 11
        let ifd = 16, arrays = ifd + 8 + entries * 20 + 8
        let offsetsAt = arrays, countsAt = arrays + 8 * count
        let dataAt = (countsAt + 8 * count + 4095) / 4096 * 4096
        var head: [UInt8] = Array("II".utf8) + le(43, 2) + le(8, 2) + le(0, 2) + le(ifd, 8) + le(entries, 8)
        func entry(_ tag: Int, _ type: Int, _ n: Int, _ value: [UInt8]) {
            head += le(tag, 2) + le(type, 2) + le(n, 8) + value + [UInt8](repeating: 0, count: 8 - value.count)
        }
        entry(256, 4, 1, le(bigWidth, 4)); entry(257, 4, 1, le(bigHeight, 4))
        entry(258, 3, 3, le(8, 2) + le(8, 2) + le(8, 2)); entry(259, 3, 1, le(1, 2)); entry(262, 3, 1, le(2, 2))
        entry(277, 3, 1, le(3, 2)); entry(284, 3, 1, le(1, 2)); entry(322, 4, 1, le(tile, 4)); entry(323, 4, 1, le(tile, 4))
        entry(324, 16, count, le(offsetsAt, 8)); entry(325, 16, count, le(countsAt, 8))
        head += le(0, 8)
        for i in 0..<count { head += le(dataAt + i * tileBytes, 8) }
        for _ in 0..<count { head += le(tileBytes, 8) }

        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ImageError.io(path: path, detail: "cannot create") }
        defer { close(fd) }
        func put(_ bytes: [UInt8], at offset: Int) {
            bytes.withUnsafeBytes { _ = pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        }
        put(head, at: 0)
        for row in patterned {
            for column in 0..<across {
                var block = [UInt8](repeating: 0, count: tileBytes)
                for ty in 0..<tile {
                    for tx in 0..<tile {
                        let (r, g, b) = pixel(column * tile + tx, row * tile + ty)
                        let at = (ty * tile + tx) * 3
                        block[at] = r; block[at + 1] = g; block[at + 2] = b
                    }
                }
                put(block, at: dataAt + (row * across + column) * tileBytes)
            }
        }
        _ = ftruncate(fd, off_t(dataAt + count * tileBytes))
    }

    @Test("a tiled BigTIFF over 4 GB (sparse, made here) is filtered on 2 ranks, each reading its own tiles")
    func bigTIFF() throws {
        // About 3 GB of memory per rank and a 1.45 GB output: skip where that does not fit.
        var fs = statvfs()
        let root = try Harness.temporaryFolder("bigtiff")
        defer { Harness.cleanup(root) }
        let freeDisk = statvfs(root.path, &fs) == 0 ? Int(fs.f_bavail) * Int(fs.f_frsize) : 0
        let freeMemory = Int(sysconf(Int32(_SC_AVPHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        guard freeDisk > 4 << 30, freeMemory > 8 << 30 else {
            try #require(ProcessInfo.processInfo.environment["CI"] != "true", "too little room for the BigTIFF test")
            print("skipping the BigTIFF test: \(freeDisk >> 30) GiB disk, \(freeMemory >> 30) GiB memory free")
            return
        }
        let input = root.appendingPathComponent("big.tif").path
        try Self.writeBigTIFF(input)
        let size = try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int ?? 0
        #expect(size > 1 << 32, "the file is \(size) bytes")

        // Gray output written by every rank (MPI-IO), so no rank ever holds the whole image.
        let output = root.appendingPathComponent("big.pgm").path
        let run = try Harness.mpirun(2, [input, "-o", output, "--op", "grayscale", "--io", "mpiio",
                                         "--max-pixels", "2000000000", "--json"], timeout: 600)
        try #require(run.status == 0, "\(run.stderr)")
        let (decode, peaks) = Self.report(run.stdout)
        #expect(decode == "tiff")
        let wholeMiB = Double(Self.bigWidth * Self.bigHeight * 3) / 1048576
        print("BigTIFF \(size) bytes, 2 ranks: peak RSS per rank \(peaks) MiB (the image is \(Int(wholeMiB)) MiB as RGB); \(run.seconds) s")
        #expect(peaks.count == 2 && peaks.allSatisfy { $0 > 0 && $0 < 0.75 * wholeMiB }, "\(peaks)")

        // The patterned rows come out as their luma, the holes as black.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: output))
        defer { try? handle.close() }
        let header = Array("P5\n\(Self.bigWidth) \(Self.bigHeight)\n255\n".utf8)
        #expect(try handle.read(upToCount: header.count).map(Array.init) == header)
        for y in [0, 255, 73 * 256 + 255, 74 * 256, 100 * 256, 147 * 256 + 255] {
            try handle.seek(toOffset: UInt64(header.count + y * Self.bigWidth))
            let row = try #require(try handle.read(upToCount: Self.bigWidth).map(Array.init))
            let patternedRow = Self.patterned.contains(y / Self.tile)
            var wrong = 0
            for x in 0..<Self.bigWidth {
                let (r, g, b) = Self.pixel(x, y)
                let weighted: Int = 77 * Int(r) + 150 * Int(g) + 29 * Int(b) + 128
                let luma: UInt8 = patternedRow ? UInt8(weighted >> 8) : 0
                if row[x] != luma { wrong += 1 }
            }
            #expect(wrong == 0, "row \(y): \(wrong) wrong pixels")
        }
    }
}
