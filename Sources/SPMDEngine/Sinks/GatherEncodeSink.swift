import ImageCodecs
import ImageCore
import ImageFilters

/// One gather brings every rank's output rows to rank 0, which encodes the whole image in the
/// output's format and writes it. Serves every format.
struct GatherEncodeSink: BandSink {
    static func serves(_ format: ImageFormat, settings: RunSettings) -> Bool { true }

    func deliver(_ output: Band, plan: BandPlan, channels: Int, run: ImageRun) throws -> Delivery {
        let result = try gather(output, plan: plan, channels: channels, run: run)
        if let failure = try run.agree(.gather) { return .stopped(failure) }
        var bytes: [UInt8]? = nil
        var encodeFailure: Failure? = nil
        if let job = run.job, let result {
            do throws(ImageError) {
                let format = try ImageFormat.forOutput(path: job.output)
                let options = run.settings.encodeOptions
                bytes = try run.time(.encode) { () throws(ImageError) in try encodeImage(result, format: format, options: options) }
            } catch { encodeFailure = Failure(error) }
        }
        if let failure = try run.agree(.encode, encodeFailure) { return .stopped(failure) }
        guard let job = run.job, let bytes else { return .written(temporary: nil, failure: nil) }
        let (temporary, failure) = run.writeTemporary(bytes, for: job)
        return .written(temporary: temporary, failure: failure)
    }

    /// Every rank's owned rows into rank 0's image (nil elsewhere).
    private func gather(_ output: Band, plan: BandPlan, channels: Int, run: ImageRun) throws -> Image? {
        let owned = plan.shares[run.rank].owned
        let width = output.width, height = output.imageHeight
        var result: Image? = nil
        if run.isRoot {
            let count = width * height * channels
            result = Image(width: width, height: height, channels: channels,
                           pixels: [UInt8](unsafeUninitializedCapacity: count) { _, n in n = count })
        }
        let world = run.world
        try run.time(.gather) {
            try output.pixels.withUnsafeBytes { send in
                if result != nil {
                    try result!.pixels.withUnsafeMutableBytes { receive in
                        try world.gatherv(send: send, sendCount: owned.count, unit: width * channels, receive: receive,
                                          counts: plan.ownedCounts, displacements: plan.ownedDisplacements, root: 0)
                    }
                } else {
                    try world.gatherv(send: send, sendCount: owned.count, unit: width * channels, receive: nil,
                                      counts: plan.ownedCounts, displacements: plan.ownedDisplacements, root: 0)
                }
            }
        }
        return result
    }
}
