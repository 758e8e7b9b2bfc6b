// PBFT holds clients instead of queueing without bound: with two batches' worth of requests not
// executed, a replica's next client waits for room, gets in once blocks are cut, and is refused
// with a clear error when no room comes within the admission wait.
import { describe, expect, it } from 'vitest'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { Response_StatusCode, type Response } from '../../src/protos/fabric_pb.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { SimCluster } from './cluster.ts'

setLogLevel('silent')

describe('PBFT admission', () => {
  it('holds a client while 2 batches wait, lets it in once they execute, refuses after 30 s without room', async () => {
    const c = await new SimCluster({ seed: 7, config: { batchSize: 2, timeouts: { batch: 100, request: 2000 } }, link: { delayMs: 1, jitterMs: 0 } }).start()
    const answer = (r: Response): string => `${Response_StatusCode[r.status]} ${fromUtf8(r.msg)}`
    // No quorum: two replicas down, nothing executes.
    await c.replicas[2].crash()
    await c.replicas[3].crash()
    const first = [c.client(1), c.client(1), c.client(1), c.client(1)]
    await c.run(10)
    for (const f of first) expect(answer(await f.response)).toBe(`SUCCESS ${f.txid}`)
    const held = c.client(1)
    let answered = false
    void held.response.then(() => { answered = true })
    await c.run(5_000)
    expect(answered).toBe(false)
    await c.replicas[2].restart()
    expect(await c.runUntil(() => c.converged([...first.map(f => f.txid), held.txid], [0, 1, 2]), 25_000)).toBe(true)
    expect(answer(await held.response)).toBe(`SUCCESS ${held.txid}`)

    // Quorum lost again, and this time it does not come back.
    await c.replicas[2].crash()
    for (let i = 0; i < 4; i++) c.submit(1)
    await c.run(10)
    const refused = c.client(1)
    await c.run(31_000)
    expect(answer(await refused.response)).toBe('FAILURE PBFT request queue full (4 requests not executed yet; no room within 30000 ms)')
    await c.stop()
  }, 60_000)
})
