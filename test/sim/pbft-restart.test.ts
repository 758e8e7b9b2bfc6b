// The 4-process bug: a backup restarts, then the primary crashes (view change to 1), then the old
// primary restarts from its persisted state; the network must keep committing on all four.
// With a slow first execution (first > request timeout) the view change to 1 happens right at the
// start instead, as in the real 4-process runs, and vp0 is a backup of view 1 when it is killed.
import { afterEach, describe, expect, it } from 'vitest'
import type { SimCluster } from './cluster.ts'
import { converge, start, stopCurrent } from './helpers.ts'

afterEach(stopCurrent)

const config = { K: 2, batchSize: 2, timeouts: { batch: 100, request: 2000, viewChange: 2000 } }

async function send (c: SimCluster, txs: string[], to: number[], n: number, gap: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    txs.push(c.submit(to[i % to.length]))
    await c.run(gap)
  }
}

/** Every execution takes `ms` of virtual time (the real stack's executor is far from instantaneous). */
function slowExec (c: SimCluster, ms: number, first = ms): void {
  for (const r of c.replicas) {
    let n = 0
    Object.defineProperty(r, 'gate', { configurable: true, get: () => new Promise<void>(resolve => { c.sched.schedule(n++ === 0 ? first : ms, resolve) }) })
  }
}

/** The batch layer's pending requests must all be outstanding ones. */
function stalePending (c: SimCluster): string[] {
  return c.live().filter(r => r.status().stalePendingRequests > 0).map(r => `vp${r.id}: ${r.status().stalePendingRequests} stale`)
}

describe('PBFT: restart of a backup, then of the old primary after a view change', () => {
  for (const seed of [1, 2, 3, 4]) {
    for (const [gap, exec, first] of [[0, 0, 0], [30, 0, 0], [150, 0, 0], [0, 50, 50], [30, 120, 120], [150, 300, 300], [0, 10, 2500], [30, 50, 2500], [150, 100, 3000]]) {
      it(`seed ${seed}, gap ${gap} ms, execution ${exec} ms (first ${first} ms)`, async () => {
        const c = await start({ seed, config })
        if (first > 0) slowExec(c, exec, first)
        const txs: string[] = []
        await send(c, txs, [0], 3, gap)
        await converge(c, txs)
        await c.replicas[3].crash()
        await send(c, txs, [0, 1, 2], 4, gap)
        await converge(c, txs, 60_000, [0, 1, 2])
        await c.replicas[3].boot()
        await c.reconnect()
        await send(c, txs, [0, 1, 2, 3], 4, gap)
        await converge(c, txs)
        await c.replicas[0].crash()
        await send(c, txs, [1, 2, 3], 4, gap)
        await converge(c, txs, 60_000, [1, 2, 3])
        for (const r of [1, 2, 3]) expect(c.replicas[r].status().view).toBeGreaterThanOrEqual(1)
        if (first > 1000) for (const r of [1, 2, 3]) expect(c.replicas[r].status().view).toBe(1)
        await c.replicas[0].boot()
        await c.reconnect()
        await c.run(gap * 10)
        await send(c, txs, [1, 2, 3], 4, gap)
        await converge(c, txs, 90_000)
        await send(c, txs, [0, 1, 2, 3], 4, gap)
        await converge(c, txs, 90_000)
        expect(await c.checkSafety()).toEqual([])
        expect(stalePending(c)).toEqual([])
      })
    }
  }
})
