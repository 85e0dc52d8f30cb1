import PropertyBased
@testable import SPMDEngine
import TestSupport
import Testing

/// The dealer of an open batch (the service's): images added while it deals are handed out
/// once each, a worker that ran dry gets work as soon as images arrive, and none holds more
/// than `ahead`.
@Suite("Dealer: images added while dealing")
struct DealerFeedTests {
    @Test("random arrivals, reports and rank 0's own images: each image once, no worker starved or over ahead")
    func arrivalsWhileDealing() async {
        await propertyCheck(count: 200, input: TestImages.seeds) { seed in
            var rng = SeededRandom(seed: seed)
            let ranks = Int.random(in: 2...6, using: &rng), ahead = Int.random(in: 1...5, using: &rng)
            var total = Int.random(in: 1...12, using: &rng)
            var dealer = Dealer(images: Array(0..<total), ranks: ranks, ahead: ahead)
            var handed: [Int] = []
            var held = [Int](repeating: 0, count: ranks)
            for (rank, image) in dealer.opening() { handed.append(image); held[rank] += 1 }
            var arrivals = Int.random(in: 0...6, using: &rng)
            var steps = 0
            while !(dealer.finished && arrivals == 0) && steps < 10_000 {
                steps += 1
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where arrivals > 0:
                    arrivals -= 1
                    let count = Int.random(in: 1...5, using: &rng)
                    dealer.add(Array(total..<total + count))
                    total += count
                    for (rank, image) in dealer.refill() { handed.append(image); held[rank] += 1 }
                    if dealer.remaining > 0 {
                        #expect(held.dropFirst().allSatisfy { $0 >= 1 }, "a worker holds nothing while images wait: \(held)")
                    }
                case 1:
                    if let image = dealer.forRoot() { handed.append(image); dealer.rootDone() }
                default:
                    guard let rank = (1..<ranks).filter({ held[$0] > 0 }).randomElement(using: &rng) else { continue }
                    held[rank] -= 1
                    if let image = dealer.done(by: rank) { handed.append(image); held[rank] += 1 }
                }
                #expect(held.dropFirst().allSatisfy { $0 <= ahead }, "held \(held), ahead \(ahead)")
                #expect(Array(held.dropFirst()) == Array(dealer.outstanding.dropFirst()))
            }
            #expect(dealer.finished)
            #expect(handed.sorted() == Array(0..<total), "handed \(handed.sorted()) of \(total)")
        }
    }
}
