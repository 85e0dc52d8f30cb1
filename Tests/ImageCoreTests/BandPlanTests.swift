import ImageCore
import PropertyBased
import Testing

@Suite("BandPlan")
struct BandPlanTests {
    @Test func examples() {
        let plan = BandPlan(height: 10, ranks: 3, halo: 2)
        #expect(plan.shares.map(\.owned) == [0..<4, 4..<7, 7..<10])
        #expect(plan.shares.map(\.needed) == [0..<6, 2..<9, 5..<10])
        #expect(plan.ownedCounts == [4, 3, 3] && plan.ownedDisplacements == [0, 4, 7])
        #expect(plan.neededCounts == [6, 7, 5] && plan.packedDisplacements == [0, 6, 13])
        #expect(plan.transfer(from: 1, to: 0) == 4..<6 && plan.transfer(from: 0, to: 1) == 2..<4)
        #expect(plan.transfer(from: 2, to: 0).isEmpty && plan.transfer(from: 1, to: 1).isEmpty)
        #expect(plan.exchangeReach == 1)
        // More ranks than rows: the last ranks own and need nothing.
        let thin = BandPlan(height: 2, ranks: 5, halo: 1)
        #expect(thin.ownedCounts == [1, 1, 0, 0, 0] && thin.neededCounts == [2, 2, 0, 0, 0])
        // Bands thinner than the halo: halo rows come from two ranks away.
        #expect(BandPlan(height: 6, ranks: 6, halo: 2).exchangeReach == 2)
        #expect(BandPlan(height: 0, ranks: 3, halo: 1).shares.allSatisfy { $0.owned.isEmpty && $0.needed.isEmpty })
        #expect(BandPlan(height: 9, ranks: 1, halo: 0).shares.map { [$0.owned, $0.needed] } == [[0..<9, 0..<9]])
    }

    @Test("partition, balance, needed rows, transfers and reach")
    func properties() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...300), Gen.int(in: 1...40), Gen.int(in: 0...12)) {
            height, ranks, halo in
            let plan = BandPlan(height: height, ranks: ranks, halo: halo)
            let shares = plan.shares
            #expect(plan.ranks == ranks)
            // Owned ranges tile 0..<height in rank order.
            var next = 0
            for share in shares {
                #expect(share.owned.lowerBound == next)
                next = share.owned.upperBound
            }
            #expect(next == height)
            // Sizes differ by at most one, larger ones first.
            let sizes = shares.map(\.owned.count)
            #expect(sizes.max()! - sizes.min()! <= 1)
            #expect(sizes == sizes.sorted(by: >))
            #expect(sizes.filter { $0 == height / ranks + 1 }.count == height % ranks)
            // Needed = owned widened by the halo, clamped; empty when owned is.
            for share in shares {
                let want = share.owned.isEmpty ? share.owned
                    : max(0, share.owned.lowerBound - halo)..<min(height, share.owned.upperBound + halo)
                #expect(share.needed == want)
                #expect(share.haloAbove >= 0 && share.haloAbove <= halo && share.haloBelow >= 0 && share.haloBelow <= halo)
            }
            #expect(plan.packedDisplacements == plan.neededCounts.indices.map { plan.neededCounts[..<$0].reduce(0, +) })
            // Transfers into each rank cover exactly needed minus owned, each row once.
            var reach = 0
            for receiver in 0..<ranks {
                var got: [Int] = []
                for owner in 0..<ranks {
                    let rows = plan.transfer(from: owner, to: receiver)
                    #expect(rows.allSatisfy { shares[owner].owned.contains($0) && shares[receiver].needed.contains($0) })
                    if !rows.isEmpty { reach = max(reach, abs(owner - receiver)) }
                    got += rows
                }
                let want = shares[receiver].needed.filter { !shares[receiver].owned.contains($0) }
                #expect(got.sorted() == want, "rank \(receiver) of \(plan)")
            }
            #expect(plan.exchangeReach == reach)
            if halo <= height / ranks { #expect(reach <= 1) }
        }
    }
}

/// The packed-buffer layout a scatter of needed rows (halos repeated) would use: the
/// alternative the engine rejected for a halo exchange (REPORT.md), kept to test the plan's
/// shares against it.
extension BandPlan {
    var neededCounts: [Int] { shares.map(\.needed.count) }
    var packedDisplacements: [Int] {
        var offset = 0
        return shares.map { share in defer { offset += share.needed.count }; return offset }
    }
}
