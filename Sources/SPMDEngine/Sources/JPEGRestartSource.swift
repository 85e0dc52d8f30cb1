import ImageCodecs
import ImageCore

/// A JPEG with a restart marker after every k MCU rows (bandsaw's own output, most phone
/// photos): rank 0 sends each rank the compressed bytes of the restart segments that hold its
/// rows and halo, plus one MCU row on each side (fancy upsampling reads the chroma row above
/// and below), and every rank decodes them (``JPEGBands/decode(rows:segments:data:header:layout:path:)``).
struct JPEGRestartSource: BandSource {
    static let name = "jpeg-restart"
    private var found: JPEGBandLoad?
    let shape: Shape
    var parameters: [Int64] { [] }

    init(worker parameters: [Int64], shape: Shape) { self.shape = shape }

    private init(_ found: JPEGBandLoad) { self.found = found; shape = found.shape }

    static func probe(_ input: InputFile, settings: RunSettings, ranks: Int) throws(ImageError) -> Self? {
        try JPEGBandLoad.probe(input, settings: settings, ranks: ranks, strategy: .restart).map(Self.init)
    }

    mutating func load(_ run: ImageRun, halo: Int) throws -> BandLoad {
        let found = self.found.take()
        let file = found?.file ?? []
        let world = run.world, rank = run.rank, isRoot = run.isRoot
        let path = run.job?.input ?? ""
        return try JPEGBandLoad.load(run, halo: halo, layout: found?.layout) { layout, plan in
            // Each rank's segments: those holding its needed rows and their context. Their
            // ranges overlap between neighbours, so they cannot share one scatter: one message
            // from rank 0 to each rank.
            let segments = plan.shares.map { $0.needed.isEmpty ? 0..<0 : layout.segments(for: $0.needed) }
            var header = isRoot ? Array(file[0..<layout.headerLength]) : []
            var sizes = isRoot ? segments.map { Int64($0.isEmpty ? 0 : layout.bytes(of: $0).count) }
                               : [Int64](repeating: 0, count: world.size)
            var data: [UInt8] = []
            try run.time(.scatter) {
                try world.broadcast(bytes: &header)
                try world.broadcast(&sizes)
                let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
                if isRoot {
                    try file.withUnsafeBytes { all in
                        for r in 1..<world.size where sizes[r] > 0 {
                            let part = UnsafeRawBufferPointer(rebasing: all[layout.bytes(of: segments[r])])
                            try world.sendReceive(send: part, sendCount: part.count, to: r, receive: none,
                                                  receiveCount: 0, from: nil, unit: 1)
                        }
                    }
                } else if sizes[rank] > 0 {
                    data = [UInt8](repeating: 0, count: Int(sizes[rank]))
                    try data.withUnsafeMutableBytes { receive in
                        try world.sendReceive(send: UnsafeRawBufferPointer(none), sendCount: 0, to: nil,
                                              receive: receive, receiveCount: receive.count, from: 0, unit: 1)
                    }
                }
            }
            let needed = plan.shares[rank].needed
            guard !needed.isEmpty else { return [] }
            return run.time(.decode) { () -> [UInt8]? in
                // Rank 0 decodes its segments where they are in the file.
                let source = isRoot ? file : data
                let range = isRoot ? layout.bytes(of: segments[0]) : 0..<data.count
                return try? header.withUnsafeBytes { h in
                    try source.withUnsafeBytes { all in
                        try JPEGBands.decode(rows: needed, segments: segments[rank],
                                             data: UnsafeRawBufferPointer(rebasing: all[range]), header: h,
                                             layout: layout, path: path)
                    }
                }
            }
        }
    }
}
