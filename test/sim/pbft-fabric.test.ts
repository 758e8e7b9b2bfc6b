// Fabric 0.6.1's network-level PBFT tests (pbft-core_test.go, batch_test.go, fuzz_test.go)
// as simulations: whole peers (PeerNode) on a seeded network, running a real chaincode. Each test
// is named after the Fabric test it reproduces; a failure prints the seed and the replicas' state.
// Block 1 (sequence number 1) is the chaincode's deploy, made by start().
import { afterEach, describe, expect, it } from 'vitest'
import { batchDigest, decodeMetadata, type NewView } from '../../src/consensus/pbft/messages.ts'
import { consensusMessage, equivocatingPrimary, forgedBatch, pbftOf, silent } from './faults.ts'
import { converge, dropTo, isRequest, oneByOne, removable, start, stopCurrent } from './helpers.ts'

afterEach(stopCurrent)

const small = { K: 2, logMultiplier: 2 }

describe('PBFT simulations of Fabric\'s tests', () => {
  it('TestNetwork: seven replicas execute one request exactly once', async () => {
    const c = await start({ N: 7 })
    const tx = c.submit(3)
    await converge(c, [tx])
    for (const r of c.replicas) expect(c.heights[r.id]).toBe(3)
  })

  it('TestNetworkBatch: two requests to backups make one block of two on every replica', async () => {
    const c = await start({ config: { batchSize: 2 } })
    const txs = [c.submit(1), c.submit(2)]
    await converge(c, txs)
    for (const r of c.replicas) expect((await r.block(2))?.transactions.map(t => t.txid).sort()).toEqual([...txs].sort())
  })

  it('TestPbftF0: a single replica (f = 0) executes on its own', async () => {
    const c = await start({ N: 1, f: 0 })
    await converge(c, [c.submit(0)])
    expect(c.heights[0]).toBe(3)
  })

  it('TestCheckpoint: checkpoint at K moves h; a primary whose executions stall stops at h + L/2', async () => {
    const c = await start({ config: { ...small, batchSize: 1 } })
    const txs = await oneByOne(c, 1, 1)
    await c.run(100) // the checkpoint messages still in flight
    for (const r of c.replicas) {
      expect(r.status().checkpoints).toEqual([2])
      expect(r.status().h).toBe(2)
    }
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    for (const r of c.replicas) r.gate = gate
    const prePrepared: number[] = []
    c.net.filters.push((src, dst, msg) => {
      const m = pbftOf(msg)
      if (src === 0 && dst === 1 && m?.type === 'prePrepare') prePrepared.push(m.msg.seqNo)
      return [msg]
    })
    for (let i = 0; i < 5; i++) txs.push(c.submit(1))
    await c.run(10_000)
    expect(prePrepared).toEqual([3, 4])
    release()
    await converge(c, txs)
    for (const r of c.replicas) expect(r.status().lastExec).toBe(7)
  })

  it('TestLostPrePrepare: a replica that missed the pre-prepare does not execute, then catches up at the next checkpoint', async () => {
    const c = await start({ config: { ...small, batchSize: 1 } })
    // Up to checkpoint 2, so that the lost pre-prepare is of the sequence number after it.
    const txs = await oneByOne(c, 0, 1)
    const stop = removable(c, (src, dst, msg) => src === 0 && dst === 3 && pbftOf(msg)?.type === 'prePrepare' ? [] : [msg])
    const first = c.submit(0)
    await c.run(1500)
    expect([0, 1, 2].map(i => c.txids[i].has(first))).toEqual([true, true, true])
    expect(c.txids[3].has(first)).toBe(false)
    stop()
    txs.push(first)
    await oneByOne(c, 0, 2, txs)
    await converge(c, txs)
    expect(c.replicas[3].transferred).toBeGreaterThan(0)
  })

  it('TestInconsistentPrePrepare: an equivocating primary is replaced and the request still commits once', async () => {
    const c = await start({ config: { batchSize: 1 } })
    c.byzantine.add(0)
    c.net.filters.push(equivocatingPrimary(0))
    const tx = c.submit(1)
    await converge(c, [tx])
    for (const r of c.correct()) expect(r.status().view).toBeGreaterThanOrEqual(1)
  })

  it('TestInconsistentDataViewChange: two backups prepared a forged batch; the new view keeps it and the real request follows', async () => {
    const c = await start({ config: { batchSize: 1 } })
    c.byzantine.add(0)
    const forged = forgedBatch('same', 0)
    c.net.filters.push((src, dst, msg) => {
      const m = pbftOf(msg)
      if (src !== 0 || m?.type !== 'prePrepare' || m.msg.view !== 0 || dst === 3) return [msg]
      return [consensusMessage({ type: 'prePrepare', msg: { ...m.msg, batch: forged, digest: batchDigest(forged) } })]
    })
    const tx = c.submit(2)
    await converge(c, [tx, 'forged-same'])
  })

  it('TestViewChange: f+1 view-changes pull the rest along; the new view starts at checkpoint 2 and keeps seqNo 3', async () => {
    const c = await start({ config: { ...small, batchSize: 1 } })
    await oneByOne(c, 0, 2)
    const newViews: NewView[] = []
    c.net.filters.push((src, _dst, msg) => {
      const m = pbftOf(msg)
      if (src === 1 && m?.type === 'newView') newViews.push(m.msg)
      return [msg]
    })
    c.replicas[2].requestViewChange()
    c.replicas[3].requestViewChange()
    await c.run(5000)
    for (const r of c.replicas) {
      expect(r.status().view).toBe(1)
      expect(r.status().activeView).toBe(true)
    }
    // Its broadcast, and the copies view sync relays.
    const nv = newViews[0]
    expect(nv.view).toBe(1)
    expect(nv.xset.get(3)).not.toBe('')
    expect(nv.xset.has(3)).toBe(true)
    expect([nv.xset.get(4) ?? '', nv.xset.get(5) ?? '']).toEqual(['', ''])
  })

  it('TestViewChangeWithStateTransfer: a replica that saw nothing joins the new view and catches up', async () => {
    const c = await start({ config: { K: 2, logMultiplier: 3, batchSize: 1, timeouts: { request: 500, batch: 100 } } })
    const stop = removable(c, dropTo(3))
    const txs = await oneByOne(c, 0, 2, [], [0, 1, 2])
    stop()
    c.replicas[1].requestViewChange()
    c.replicas[2].requestViewChange()
    await c.run(3000)
    txs.push(c.submit(1))
    await converge(c, txs)
    for (const r of c.replicas) expect(r.status().view).toBeGreaterThanOrEqual(1)
  })

  it('TestNewViewTimeout: when the next primary stays silent the view change times out to the one after', async () => {
    const c = await start({ config: { batchSize: 1, timeouts: { request: 400, viewChange: 800, batch: 100 } } })
    c.byzantine.add(1)
    c.net.filters.push(silent(1))
    // The primary of view 0 never hears of the request, so the backups must change views.
    c.net.filters.push((_src, dst, msg) => dst === 0 && isRequest(msg) ? [] : [msg])
    const tx = c.submit(3)
    await converge(c, [tx])
    for (const r of c.correct()) expect(r.status().view).toBe(2)
  })

  it('TestViewChangeUpdateSeqNo: after a view change the new primary continues right after the last sequence number', async () => {
    const c = await start({ config: { batchSize: 1, timeouts: { request: 400, viewChange: 400, batch: 100 } } })
    const txs = await oneByOne(c, 0, 2)
    c.replicas[0].requestViewChange()
    c.replicas[1].requestViewChange()
    await c.run(3000)
    txs.push(c.submit(1))
    await converge(c, txs)
    for (const r of c.replicas) {
      expect(r.status().view).toBe(1)
      expect(decodeMetadata((await r.block(4))!.consensusMetadata)).toBe(4)
    }
  })

  it('TestFallBehind: a replica cut off past its high watermark notices, jumps its window and transfers state', async () => {
    const c = await start({ config: { ...small, batchSize: 1, timeouts: { request: 60_000, batch: 100 } } })
    const stop = removable(c, dropTo(3))
    const txs = await oneByOne(c, 0, 8, [], [0, 1, 2])
    expect(c.heights[3]).toBe(2)
    stop()
    for (let i = 0; i < 3; i++) txs.push(c.submit(0))
    await converge(c, txs)
    expect(c.replicas[3].transferred).toBeGreaterThanOrEqual(8)
    expect(c.replicas[3].status().h).toBe(c.replicas[0].status().h)
  })

  it('TestClassicStateTransfer: a replica left behind after one request catches up and all stay in view 0', async () => {
    const c = await start({ config: { ...small, batchSize: 1 } })
    const stop = removable(c, dropTo(3))
    const txs = await oneByOne(c, 1, 1, [], [0, 1, 2])
    stop()
    for (let n = 2; n <= 9; n++) txs.push(c.submit(1))
    await converge(c, txs)
    for (const r of c.replicas) expect([r.status().view, r.status().activeView]).toEqual([0, true])
  })

  it('TestClassicBackToBackStateTransfer: a replica transferring state while the network moves on transfers again', async () => {
    const c = await start({ config: { ...small, batchSize: 1, timeouts: { request: 3_600_000 } } })
    const stop = removable(c, dropTo(3))
    const txs = await oneByOne(c, 1, 1, [], [0, 1, 2])
    stop()
    for (let n = 2; n <= 21; n++) txs.push(c.submit(1))
    await converge(c, txs)
    for (const r of c.replicas) expect([r.status().view, r.status().activeView]).toEqual([0, true])
  })
})
