#if canImport(Glibc)
import Glibc
#endif
import ImageCodecs
import ImageCore
import ImageFilters
import MPIKit

/// PGM/PPM output with `--io mpiio`: every rank writes its own output rows with one
/// collective file write, after rank 0's header, into rank 0's temporary file. Nothing is
/// gathered: the "encode" is each rank's own rows turned into PNM samples.
struct PNMRowSink: BandSink {
    static func serves(_ format: ImageFormat, settings: RunSettings) -> Bool {
        format == .pnm && settings.io == .mpiio
    }

    /// Fails on every rank (and leaves no file) when a rank cannot open the temporary file.
    func deliver(_ output: Band, plan: BandPlan, channels: Int, run: ImageRun) throws -> Delivery {
        if let failure = try run.agree(.encode) { return .stopped(failure) }
        let owned = plan.shares[run.rank].owned
        let header = PNMCodec.headerBytes(width: output.width, height: plan.height, channels: channels)
        let samples = PNMCodec.samples(output.pixels, channels: channels)
        let fileRowBytes = output.width * (channels <= 2 ? 1 : 3)
        // Rank 0 creates the temporary file; every rank must be able to open it.
        var temporary: [UInt8] = []
        var created = true
        if let job = run.job {
            let name = temporaryPath(for: job.output)
            TemporaryFiles.track(name)
            do throws(ImageError) { try createEmptyFile(name) } catch { created = false }
            temporary = Array(name.utf8)
        }
        let world = run.world
        try world.broadcast(bytes: &temporary)
        let name = String(decoding: temporary, as: UTF8.self)
        guard try run.everyRank(run.isRoot ? created : canOpen(name, write: true)) else {
            if run.isRoot { unlink(name); TemporaryFiles.track(nil) }
            let failure = Failure(.io(path: run.job?.output ?? name, detail: created
                ? "cannot write on every rank (--io mpiio needs a filesystem all ranks share)" : "cannot write"))
            return .written(temporary: nil, failure: run.isRoot ? failure : nil)
        }
        try run.time(.write) {
            try header.withUnsafeBytes { head in
                try samples.withUnsafeBytes { rows in
                    try world.writeFile(name, [
                        FileWrite(offset: 0, bytes: head, count: run.isRoot ? header.count : 0, unit: 1),
                        FileWrite(offset: header.count + owned.lowerBound * fileRowBytes, bytes: rows,
                                  count: owned.count, unit: fileRowBytes),
                    ])
                }
            }
        }
        return .written(temporary: run.isRoot ? name : nil, failure: nil)
    }
}
