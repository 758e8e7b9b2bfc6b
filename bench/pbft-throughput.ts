// Committed transactions per second of 4 PBFT replicas in one process: real ledgers (bucket
// tree with core.yaml's 1000003 buckets), the real executor and PBFT, a simulated network with
// 1 ms links. Time is virtual, so the wall clock measures the CPU cost of consensus + execution.
//   npm run bench pbft   (BENCH_PBFT_TX transactions, default 4000)
import { setLogLevel } from '../src/util/logger.ts'
import { SimCluster } from '../test/sim/cluster.ts'

setLogLevel('silent')
const total = Number(process.env.BENCH_PBFT_TX ?? 4000)

for (const batchSize of [10, 100, 500]) {
  const c = new SimCluster({ seed: 1, config: { batchSize, timeouts: { batch: 20, request: 5000 } }, link: { delayMs: 1, jitterMs: 0 } })
  for (const r of c.replicas) r.ledgerOptions = { numBuckets: 1000003, maxGroupingAtEachLevel: 5 }
  await c.start()
  const txids: string[] = []
  const t0 = performance.now()
  const v0 = c.sched.now()
  // Clients hand transactions to all four replicas, 100 per virtual millisecond.
  for (let i = 0; i < total; i += 100) {
    for (let j = i; j < Math.min(total, i + 100); j++) txids.push(c.submit(j % 4))
    await c.run(1)
  }
  const ok = await c.runUntil(() => c.converged(txids), 600_000)
  const wall = (performance.now() - t0) / 1000
  const virtual = (c.sched.now() - v0) / 1000
  console.log(`batchsize ${String(batchSize).padStart(3)}: ${total} tx ${ok ? 'committed' : 'NOT all committed'} on 4 replicas in ${wall.toFixed(2)} s wall ` +
    `= ${(total / wall).toFixed(0)} tx/s (CPU-bound, 4 replicas on one core); ${virtual.toFixed(2)} s virtual, blocks ${c.heights[0] - 1}`)
  await c.stop()
}
