/// How a batch of images is spread over the ranks.
public enum Schedule: String, CaseIterable, Sendable {
    /// Whole images dealt to ranks as they become free while there are at least as many images
    /// as ranks; images far larger than the rest (and every image when there are fewer than
    /// ranks) are banded across all ranks at the end.
    case auto
    /// Every image dealt whole to one rank.
    case images
    /// Every image banded across all ranks, one after another.
    case bands
}

/// Which images of a batch are dealt whole to single ranks and which are banded across all
/// ranks (after the dealt ones): a pure policy over the input files' sizes in bytes.
public struct BatchPlan: Equatable, Sendable {
    /// Indices into the batch, in the order they are dealt (largest first, so the small ones
    /// even out the end).
    public var dealt: [Int]
    /// Indices banded across all ranks once the dealt images are done, in batch order.
    public var banded: [Int]

    /// An image this many times the batch's median size or more is an outlier for `auto`:
    /// dealt, it would keep one rank busy long after the others ran out of work.
    public static let outlierFactor = 8
    /// An outlier must also be at least this large (bytes) to be banded: banding a small file
    /// costs more in agreements than it saves.
    public static let outlierMinimumBytes = 1 << 20

    public init(dealt: [Int], banded: [Int]) { self.dealt = dealt; self.banded = banded }

    /// The plan for files of `sizes` bytes on `ranks` ranks. One image, or one rank, is always
    /// banded (as a single image has always been).
    public static func make(sizes: [Int], ranks: Int, schedule: Schedule) -> BatchPlan {
        let all = Array(sizes.indices)
        guard ranks > 1, sizes.count > 1, schedule != .bands else { return BatchPlan(dealt: [], banded: all) }
        let bySize = { (list: [Int]) in list.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 } }
        if schedule == .images { return BatchPlan(dealt: bySize(all), banded: []) }
        let median = sizes.sorted()[sizes.count / 2]
        let outlier = { (i: Int) in sizes[i] >= outlierMinimumBytes && sizes[i] >= outlierFactor * max(median, 1) }
        let small = all.filter { !outlier($0) }
        // Fewer images than ranks: dealing would leave ranks idle, banding uses them all.
        guard small.count >= ranks else { return BatchPlan(dealt: [], banded: all) }
        return BatchPlan(dealt: bySize(small), banded: all.filter(outlier))
    }
}

/// Rank 0's bookkeeping while it deals: which image goes next and how many each rank holds.
/// Every worker is kept `ahead` images ahead (it holds the next one while it works on one), so
/// a worker never waits for rank 0, which hands out work only between its own images.
public struct Dealer: Sendable {
    private var queue: [Int]
    private var next = 0
    /// Images handed to each rank and not yet reported done.
    public private(set) var outstanding: [Int]
    public let ahead: Int

    public init(images: [Int], ranks: Int, ahead: Int = 2) {
        queue = images; outstanding = Array(repeating: 0, count: ranks); self.ahead = ahead
    }

    /// Images not handed out yet.
    public var remaining: Int { queue.count - next }

    /// Every image handed out and reported done.
    public var finished: Bool { remaining == 0 && outstanding.allSatisfy { $0 == 0 } }

    private mutating func take(for rank: Int) -> Int? {
        guard next < queue.count else { return nil }
        defer { next += 1 }
        outstanding[rank] += 1
        return queue[next]
    }

    /// The first hand: `ahead` images to every worker (rank 1 first), round by round so a short
    /// batch still reaches every worker; fewer when the batch is short, so rank 0 keeps its
    /// share (never more rounds than images per rank, and at least one).
    public mutating func opening() -> [(rank: Int, image: Int)] {
        var hand: [(rank: Int, image: Int)] = []
        let rounds = max(1, min(ahead, queue.count / outstanding.count))
        for _ in 0..<rounds {
            for rank in 1..<outstanding.count {
                guard let image = take(for: rank) else { return hand }
                hand.append((rank, image))
            }
        }
        return hand
    }

    /// Images that arrived while the batch runs (an open batch: the service's queue), dealt
    /// after the ones already queued.
    public mutating func add(_ images: [Int]) { queue += images }

    /// After ``add(_:)``: images for the workers that hold fewer than their share, round by
    /// round (rank 1 first). A worker that ran dry reports nothing more, so it must be handed
    /// work here; the share is what ``opening()`` would give for the images not yet handed out,
    /// so a few arrivals still leave rank 0 its part.
    public mutating func refill() -> [(rank: Int, image: Int)] {
        var hand: [(rank: Int, image: Int)] = []
        let share = max(1, min(ahead, (remaining + outstanding.reduce(0, +)) / outstanding.count))
        var gave = true
        while gave {
            gave = false
            for rank in 1..<outstanding.count where outstanding[rank] < share {
                guard let image = take(for: rank) else { return hand }
                hand.append((rank, image))
                gave = true
            }
        }
        return hand
    }

    /// `rank` finished one of its images: the image it gets next, if any remain.
    public mutating func done(by rank: Int) -> Int? {
        outstanding[rank] -= 1
        return take(for: rank)
    }

    /// An image for rank 0 to process itself between dealing, if any remain.
    public mutating func forRoot() -> Int? { take(for: 0) }

    /// Rank 0 finished its own image.
    public mutating func rootDone() { outstanding[0] -= 1 }
}
