// More of Fabric 0.6.1's PBFT tests as simulations: crash and restart with persisted state,
// null requests, periodic view change, the batch layer's request handling, fuzzing. Block 1
// (sequence number 1) is the chaincode's deploy, made by start().
import { afterEach, describe, expect, it } from 'vitest'
import type { SimCluster } from './cluster.ts'
import { fuzzer, pbftOf, silent } from './faults.ts'
import { converge, dropTo, isRequest, oneByOne, removable, start, stopCurrent } from './helpers.ts'

afterEach(stopCurrent)

const small = { K: 2, logMultiplier: 2, batchSize: 1 }
const fast = { batch: 100, request: 500 }

/** How often each of `txids` appears across the chain of replica `r`. */
async function txCounts (c: SimCluster, r: number, txids: string[]): Promise<number[]> {
  const counts = new Map<string, number>()
  for (let n = 1; n < c.heights[r]; n++) {
    for (const tx of (await c.replicas[r].block(n))!.transactions) counts.set(tx.txid, (counts.get(tx.txid) ?? 0) + 1)
  }
  return txids.map(id => counts.get(id) ?? 0)
}

describe('PBFT simulations of Fabric\'s tests: recovery and the batch layer', () => {
  it('TestReplicaCrash1: the primary and a backup restart from persisted state and the network goes on in view 0', async () => {
    const c = await start({ config: small })
    const txs = await oneByOne(c, 0, 1)
    await c.replicas[0].restart()
    await c.replicas[1].restart()
    await c.reconnect()
    txs.push(c.submit(0), c.submit(0))
    await converge(c, txs)
    for (const r of c.replicas) expect(r.status().view).toBe(0)
  })

  it('TestReplicaCrash2: with one replica silent and commits withheld, a view change completes the request and more follow', async () => {
    const c = await start({ config: { ...small, timeouts: { request: 800, viewChange: 800, batch: 100 } } })
    c.byzantine.add(3)
    c.net.filters.push(dropTo(3))
    const stop = removable(c, (_src, dst, msg) => {
      const m = pbftOf(msg)
      return dst !== 1 && m?.type === 'commit' && m.msg.view < 2 ? [] : [msg]
    })
    const txs = [c.submit(0)]
    await c.run(5000)
    stop()
    const primary = c.replicas[0].status().primary
    txs.push(c.submit(primary), c.submit(primary), c.submit(primary))
    await converge(c, txs)
  })

  it('TestReplicaCrash3: restarted replicas and one that slept through everything form a quorum through a view change', async () => {
    const c = await start({ config: small })
    const stop = removable(c, dropTo(3))
    const txs = await oneByOne(c, 0, 8, [], [0, 1, 2])
    await c.run(200)
    await c.replicas[0].restart()
    await c.replicas[1].restart()
    await c.replicas[2].crash()
    stop()
    txs.push(c.submit(0))
    await converge(c, txs)
    const held = (r: number): number => txs.filter(id => c.txids[r].has(id)).length
    for (const r of [0, 1, 3]) {
      expect(c.replicas[r].status().view).toBeGreaterThanOrEqual(1)
      expect(held(r)).toBe(9)
    }
    expect(held(2)).toBe(8)
  })

  it('TestReplicaCrash4: restarted replicas come back with h on their last stable checkpoint', async () => {
    const c = await start({ config: small })
    c.net.filters.push(dropTo(3))
    await oneByOne(c, 0, 7, [], [0, 1, 2])
    await c.run(200)
    for (const r of [0, 1, 2]) {
      await c.replicas[r].restart()
      expect(c.replicas[r].status().h).toBe(8)
    }
  })

  it('view sync (Weft): a restarted primary adopts the view it missed and counts toward the quorum again', async () => {
    const c = await start({ config: { ...small, timeouts: fast } })
    const txs = await oneByOne(c, 1, 1)
    await c.replicas[0].crash()
    txs.push(c.submit(1))
    await converge(c, txs)
    expect(c.replicas[1].status().view).toBe(1)
    await c.replicas[0].boot()
    // Past the next checkpoint, which shows it is behind (what was in flight to it died with it);
    // its first message from view 0 then brings it the new-view of view 1 from the others.
    await oneByOne(c, 2, 2, txs, [1, 2, 3])
    expect(await c.runUntil(() => c.replicas[0].status().view === 1 && c.replicas[0].status().activeView, 5000)).toBe(true)
    // Without vp0 taking part again, two replicas could not commit anything.
    await c.replicas[3].crash()
    txs.push(c.submit(2), c.submit(0), c.submit(1))
    await converge(c, txs)
    expect(c.replicas[0].status().view).toBe(1)
  })

  it('TestNetworkNullRequests: an idle primary keeps the network alive with null requests', async () => {
    const c = await start({ config: { timeouts: { ...fast, nullRequest: 200 } } })
    const txs = [c.submit(0)]
    await c.run(5000)
    await converge(c, txs)
    for (const r of c.replicas) {
      expect(c.heights[r.id]).toBe(3)
      expect(r.status().lastExec).toBeGreaterThan(2)
      expect(r.status().view).toBe(0)
    }
  })

  it('TestNetworkNullRequestMissing: backups replace a primary that stops sending null requests', async () => {
    const c = await start({ config: { timeouts: { ...fast, nullRequest: 200 } } }, c => {
      c.replicas[0].configPatch = { timeouts: { ...c.config.timeouts, nullRequest: 0 } }
    })
    const txs = [c.submit(0)]
    await c.run(5000)
    await converge(c, txs)
    for (const r of c.replicas) {
      expect(c.heights[r.id]).toBe(3)
      expect(r.status().lastExec).toBeGreaterThan(2)
      expect(r.status().view).toBe(1)
    }
  })

  it('TestNetworkPeriodicViewChange: with viewchangeperiod 1 the primary rotates every checkpoint', async () => {
    const c = await start({ config: { ...small, viewChangePeriod: 1, timeouts: fast } })
    const txs = await oneByOne(c, 1, 4)
    await converge(c, txs)
    for (const r of c.replicas) expect(r.status().view).toBe(2)
  })

  it('TestNetworkPeriodicViewChangeMissing: a primary that will not rotate is rotated by the others', async () => {
    const c = await start({ config: { ...small, viewChangePeriod: 1, timeouts: fast } }, c => {
      c.replicas[0].configPatch = { viewChangePeriod: 0 }
    })
    const txs = await oneByOne(c, 1, 1)
    await c.run(3000)
    await converge(c, txs)
    for (const r of c.replicas) expect(r.status().view).toBe(1)
  })

  it('TestOutstandingReqsIngestion: a request given to one backup becomes outstanding everywhere', async () => {
    const c = await start()
    c.net.filters.push((_src, _dst, msg) => isRequest(msg) ? [msg] : [])
    c.submit(1)
    await c.run(100)
    for (const r of c.replicas) expect(r.status().outstandingRequests).toBe(1)
  })

  it('TestClearOutstandingReqsOnStateRecovery: state transfer clears the requests it may have made moot', async () => {
    const c = await start({ config: { ...small, timeouts: { request: 600_000 } } })
    const stop = removable(c, (_src, dst, msg) => dst === 3 && !isRequest(msg) ? [] : [msg])
    const txs = await oneByOne(c, 1, 3, [], [0, 1, 2])
    expect(c.replicas[3].status().outstandingRequests).toBe(3)
    stop()
    // Up to the next checkpoint, where a replica that missed some of them transfers state.
    txs.push(c.submit(1), c.submit(1), c.submit(1))
    await converge(c, txs)
    expect(c.replicas[3].transferred).toBeGreaterThan(0)
    expect(c.replicas[3].status().outstandingRequests).toBe(0)
  })

  it('TestOutstandingReqsResubmission: requests the primary never saw are proposed by the next one, each exactly once', async () => {
    const c = await start({ config: { batchSize: 2, timeouts: fast } })
    const stop = removable(c, (_src, dst, msg) => dst === 0 && isRequest(msg) ? [] : [msg])
    const txs = [c.submit(1), c.submit(2), c.submit(3)]
    await converge(c, txs)
    stop()
    txs.push(c.submit(2))
    await converge(c, txs)
    for (const r of c.replicas) {
      expect(r.status().view).toBeGreaterThanOrEqual(1)
      expect(await txCounts(c, r.id, txs)).toEqual(txs.map(() => 1))
    }
  })

  it('TestViewChangeOnPrimarySilence: a silent primary is voted out', async () => {
    const c = await start({ config: { timeouts: fast } })
    c.byzantine.add(0)
    c.net.filters.push(silent(0))
    const tx = c.submit(1)
    await converge(c, [tx])
    for (const r of c.correct()) expect(r.status().view).toBe(1)
  })

  it('TestClearBatchStoreOnViewChange: requests in the old primary\'s unsent batch are ordered once by the new one', async () => {
    const c = await start({ config: { batchSize: 10, timeouts: { batch: 5000, request: 8000 } } })
    const txs = [c.submit(0), c.submit(0)]
    await c.run(100)
    c.replicas[2].requestViewChange()
    c.replicas[3].requestViewChange()
    await converge(c, txs)
    for (const r of c.replicas) {
      expect(r.status().view).toBe(1)
      expect(await txCounts(c, r.id, txs)).toEqual([1, 1])
    }
  })

  it('TestMinimalFuzz: one replica whose messages are fuzzed cannot stop or split the others', async () => {
    const c = await start({ seed: 3, config: { timeouts: fast } })
    c.byzantine.add(2)
    c.net.filters.push(fuzzer(2, c.prng.fork(), 0.8))
    const txs: string[] = []
    for (let i = 1; i < 30; i++) {
      txs.push(c.submit(i % 2 === 0 ? 0 : 1))
      await c.run(300)
    }
    await converge(c, txs)
  })
})
