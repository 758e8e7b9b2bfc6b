// Two ways a replica used to drop out of the view the others work in, on a busy machine:
// - its request timer expires just before the pre-prepare it waits for is read, and it starts a
//   view change alone (nobody joins it: f+1 rule), out of ordering until the next view change;
// - it restarts after the others changed view and comes back in the view it persisted.
import { afterEach, describe, expect, it } from 'vitest'
import type { SimCluster } from './cluster.ts'
import { converge, isRequest, start, stopCurrent } from './helpers.ts'
import type { Message } from '../../src/protos/fabric_pb.ts'

afterEach(stopCurrent)

const config = { K: 2, batchSize: 2, timeouts: { batch: 100, request: 2000, viewChange: 2000 } }

/**
 * One transaction submitted at vp1 after a first one committed, while vp3 reads everything but
 * requests `lateMs` late: the request (read at once) starts vp3's request timer, the pre-prepare
 * comes after it. Returns the txids once `ms` more have passed and vp3 reads on time again.
 */
async function lateAtVp3 (c: SimCluster, lateMs: number, ms: number): Promise<string[]> {
  const txs = [c.submit(1)]
  await converge(c, txs)
  const late = (_src: number, dst: number, msg: Message): number => dst === 3 && !isRequest(msg) ? lateMs : 0
  c.net.delays.push(late)
  txs.push(c.submit(1))
  await c.run(ms)
  c.net.delays.splice(c.net.delays.indexOf(late), 1)
  return txs
}

function expectInView (c: SimCluster, view: number): void {
  for (const r of c.live()) {
    const s = r.status()
    expect({ replica: r.id, view: s.view, active: s.activeView }).toEqual({ replica: r.id, view, active: true })
  }
}

describe('PBFT: a request timer that expires just before the pre-prepare is read', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: the replica stays in the view and orders the batch with the others`, async () => {
      const c = await start({ seed, config })
      // The pre-prepare, sent a batch timeout after the request, is read some 50 ms after vp3's timer expired.
      const txs = await lateAtVp3(c, 1950, 2500)
      await converge(c, txs)
      expect(c.replicas[3].status().viewChangesSent).toBe(0)
      for (let i = 0; i < 3; i++) txs.push(c.submit(i % 3))
      await converge(c, txs)
      expectInView(c, 0)
    })
  }

  it('a primary that really withholds the batch is still left after the grace', async () => {
    const c = await start({ seed: 7, config })
    const txs = [c.submit(1)]
    await converge(c, txs)
    // vp0 orders nothing more: every backup times out, and the network moves to view 1.
    const mute = (src: number, _dst: number, msg: Message): Message[] => src === 0 && !isRequest(msg) ? [] : [msg]
    c.net.filters.push(mute)
    txs.push(c.submit(1))
    await converge(c, txs, 30_000, [1, 2, 3])
    for (const r of [1, 2, 3]) expect(c.replicas[r].status().view).toBe(1)
  })
})

describe('PBFT: a replica whose view change nobody joined', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: follows the view it left, executing with the others until a view change takes it along`, async () => {
      // Checkpoints every 10: state transfer would catch it up only there.
      const c = await start({ seed, config: { ...config, K: 10 } })
      // The pre-prepare reaches vp3 well past its request timer and the grace: it leaves view 0 alone.
      const txs = await lateAtVp3(c, 3000, 3500)
      expect(c.replicas[3].status()).toMatchObject({ view: 1, activeView: false })
      const later: string[] = []
      for (let i = 0; i < 4; i++) {
        later.push(c.submit(i % 3))
        await converge(c, [...txs, ...later], 5000)
      }
      // It ran them itself (state transfer runs nothing), still without a view of its own.
      for (const txid of later) expect(c.replicas[3].executed.has(txid)).toBe(true)
      expect(c.replicas[3].status()).toMatchObject({ view: 1, activeView: false })
      for (const r of [0, 1, 2]) expect(c.replicas[r].status()).toMatchObject({ view: 0, activeView: true })
      // The next view change (here asked for by two others) takes it along, and all four order in view 1.
      c.replicas[1].requestViewChange()
      c.replicas[2].requestViewChange()
      const more = [c.submit(1), c.submit(2)]
      await converge(c, [...txs, ...later, ...more])
      expectInView(c, 1)
    })
  }
})

describe('PBFT: a replica restarted after the others changed view', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: the old primary rejoins their view from their traffic`, async () => {
      const c = await start({ seed, config })
      const txs = [c.submit(1)]
      await converge(c, txs)
      await c.replicas[0].crash()
      for (let i = 0; i < 6; i++) txs.push(c.submit(1 + i % 3))
      await converge(c, txs, 60_000, [1, 2, 3])
      for (const r of [1, 2, 3]) expect(c.replicas[r].status().view).toBe(1)
      await rejoin(c, 0, txs, 1)
    })

    it(`seed ${seed}: a backup of the old view rejoins their view from their traffic`, async () => {
      const c = await start({ seed, config })
      const txs = [c.submit(1)]
      await converge(c, txs)
      await c.replicas[3].crash()
      // vp1 and vp2 ask for view 1, vp0 joins them (f+1): vp3 misses it all.
      c.replicas[1].requestViewChange()
      c.replicas[2].requestViewChange()
      for (let i = 0; i < 6; i++) txs.push(c.submit(i % 3))
      await converge(c, txs, 60_000, [0, 1, 2])
      for (const r of [0, 1, 2]) expect(c.replicas[r].status().view).toBe(1)
      await rejoin(c, 3, txs, 1)
    })
  }
})

/** Boots `id` again and sends clients only to the others: it must follow them into `view` from their traffic. */
async function rejoin (c: SimCluster, id: number, txs: string[], view: number): Promise<void> {
  await c.replicas[id].boot()
  await c.reconnect()
  await c.run(500)
  const t0 = c.sched.now()
  const others = [0, 1, 2, 3].filter(r => r !== id)
  for (let i = 0; i < 4; i++) txs.push(c.submit(others[i % 3]))
  await converge(c, txs)
  expectInView(c, view)
  // Well before its own request timer (2 s) would have sent it into a view change; at most the
  // one view-change that asks the others for their view.
  expect(c.sched.now() - t0).toBeLessThan(2000)
  expect(c.replicas[id].status().viewChangesSent).toBeLessThanOrEqual(1)
}
