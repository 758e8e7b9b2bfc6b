// PBFT holds clients instead of queueing without bound: with two batches' worth of requests not
// executed, a replica's next client waits for room, gets in once blocks are cut, and is refused
// with a clear error when no room comes within the admission wait.
import { describe, expect, it } from 'vitest'
import { setLogLevel } from '../../src/util/logger.ts'
import { SimCluster } from './cluster.ts'

setLogLevel('silent')

describe('PBFT admission', () => {
  it('holds a client while 2 batches wait, lets it in once they execute, refuses after 30 s without room', async () => {
    const c = await new SimCluster({ seed: 7, config: { batchSize: 2, timeouts: { batch: 100, request: 2000 } }, link: { delayMs: 1, jitterMs: 0 } }).start()
    const vp1 = c.replicas[1].consenter!
    // No quorum: two replicas down, nothing executes.
    await c.replicas[2].crash()
    await c.replicas[3].crash()
    const first = [c.submit(1), c.submit(1), c.submit(1)]
    await c.run(10)
    await vp1.room()
    const fourth = c.submit(1)
    await c.run(10)
    let admitted = false
    const held = vp1.room().then(() => { admitted = true })
    await c.run(5_000)
    expect(admitted).toBe(false)
    await c.replicas[2].restart()
    expect(await c.runUntil(() => c.converged([...first, fourth], [0, 1, 2]) && admitted, 25_000)).toBe(true)
    await held

    // Quorum lost again, and this time it does not come back.
    await c.replicas[2].crash()
    for (let i = 0; i < 4; i++) c.submit(1)
    await c.run(10)
    let refusal: Error | undefined
    const refused = vp1.room().catch((err: Error) => { refusal = err })
    await c.run(31_000)
    await refused
    expect(refusal?.message).toMatch(/^PBFT request queue full \(4 requests not executed yet; no room within 30000 ms\)$/)
    await c.stop()
  }, 60_000)
})
