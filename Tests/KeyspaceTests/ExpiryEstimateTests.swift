import Keyspace
import Testing

/// INFO keyspace `avg_ttl`: the estimate Redis's active expiry keeps from the keys it samples.
@Suite("Active expiry: the average TTL estimate")
struct ExpiryEstimateTests {
    @Test func sampledTTLsMakeTheEstimateThatSwapdbMovesAndFlushdbClears() {
        let keyspace = Keyspace(clock: { 1_000_000 })
        for i in 0..<100 {
            keyspace.set(db: 0, key: Bytes("k\(i)"), value: .string("v"))
            keyspace.setExpire(db: 0, key: Bytes("k\(i)"), atMilliseconds: 1_050_000)
        }
        keyspace.set(db: 1, key: "persistent", value: .string("v"))
        #expect(keyspace.averageTTL[0] == nil)
        keyspace.activeExpireCycle()
        // Every sampled key has 50 s left: the first estimate is the mean itself, (50000/50)*49 + 50000/50.
        #expect(keyspace.averageTTL[0] == 50_000)
        #expect(keyspace.averageTTL[1] == nil)

        keyspace.swapDatabases(0, 1)
        #expect(keyspace.averageTTL[1] == 50_000 && keyspace.averageTTL[0] == nil)
        keyspace.flush(db: 1)
        #expect(keyspace.averageTTL[1] == nil)
    }

    @Test func newSamplesMoveTheEstimateByAFiftieth() {
        let keyspace = Keyspace(clock: { 1_000_000 })
        keyspace.set(db: 0, key: "a", value: .string("v"))
        keyspace.setExpire(db: 0, key: "a", atMilliseconds: 1_100_000)
        keyspace.activeExpireCycle()
        #expect(keyspace.averageTTL[0] == 100_000)
        keyspace.setExpire(db: 0, key: "a", atMilliseconds: 1_200_000)
        keyspace.activeExpireCycle()
        let expected: Int64 = (100_000 / 50) * 49 + 200_000 / 50
        #expect(keyspace.averageTTL[0] == expected)
    }
}
