// Committed transactions per second of N PBFT replicas in one process, for N = 4, 7, 10, 16
// (f = floor((N-1)/3)): whole peers (test/sim/cluster.ts: PeerNode, ledgers with core.yaml's
// 1000003-bucket tree, PBFT, an in-process chaincode), a simulated network with 1 ms links.
// Time is virtual, so the wall clock measures the CPU cost of consensus + execution of all N
// replicas together on one core: tx/s falls about as 1/N by construction; N × tx/s (the work each
// replica did per second) is what shows whether consensus itself degrades as N grows.
// Runs of each configuration are preceded by a discarded warm-up run; median/min/max reported.
// Prints a table; writes pbft.json and pbft.md into WEFT_BENCH_OUT (bench-results/).
//   npm run bench pbft-throughput    WEFT_BENCH_RUNS (5), BENCH_PBFT_TX (4000 per run; a quarter at batch 10)
//   WEFT_BENCH_SHORT=1               one run of 200 tx per configuration, no warm-up (the CI smoke test)
import { availableParallelism } from 'node:os'
import { setLogLevel } from '../src/util/logger.ts'
import { SimCluster } from '../test/sim/cluster.ts'
import { writeResults } from './tools/results.ts'
import { fmt, median } from './tools/weft-peer.ts'

setLogLevel('silent')
const short = process.env.WEFT_BENCH_SHORT === '1'
const runs = short ? 1 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
const total = short ? 200 : Number(process.env.BENCH_PBFT_TX ?? 4000)

/** `share`: this configuration runs that fraction of the transactions (small batches cost a block each). */
interface Config { N: number, batchSize: number, share?: number }
const configs: Config[] = [
  { N: 4, batchSize: 10, share: 0.25 }, { N: 4, batchSize: 100 },
  { N: 4, batchSize: 500 }, { N: 7, batchSize: 500 }, { N: 10, batchSize: 500 }, { N: 16, batchSize: 500 }
]

/** `transferred`: blocks replicas took by state transfer instead of executing them (0 = every replica executed every block). */
interface Run { tps: number, wallS: number, virtualS: number, committed: number, blocks: number, transferred: number, agree: boolean, safety: string[] }
interface Row extends Config { f: number, tx: number, results: Run[] }

async function once ({ N, batchSize }: Config, tx: number): Promise<Run> {
  const c = new SimCluster({ seed: 1, N, config: { batchSize, timeouts: { batch: 20, request: 5000 } }, link: { delayMs: 1, jitterMs: 0 } })
  for (const r of c.replicas) r.ledgerOptions = { numBuckets: 1000003, maxGroupingAtEachLevel: 5 }
  await c.start()
  try {
    const txids: string[] = []
    const t0 = performance.now()
    const v0 = c.sched.now()
    const h0 = c.heights[0]
    // Clients hand transactions to the replicas in turn, 100 per virtual millisecond.
    for (let i = 0; i < tx; i += 100) {
      for (let j = i; j < Math.min(tx, i + 100); j++) txids.push(c.submit(j % N))
      await c.run(1)
    }
    const ok = await c.runUntil(() => c.converged(txids), 600_000)
    const wallS = (performance.now() - t0) / 1000
    // Committed: the submitted txids found on replica 0's chain, each once.
    const committed = txids.filter(id => c.txids[0].has(id)).length
    const agree = ok && c.live().every(r => c.heights[r.id] === c.heights[0] && c.heads[r.id] === c.heads[0])
    return { tps: committed / wallS, wallS, virtualS: (c.sched.now() - v0) / 1000, committed, blocks: c.heights[0] - h0, transferred: c.replicas.reduce((s, r) => s + r.transferred, 0), agree, safety: await c.checkSafety() }
  } finally {
    await c.stop()
  }
}


const rows: Row[] = []
for (const cfg of configs) {
  const tx = Math.max(10, Math.round(total * (cfg.share ?? 1)))
  const row: Row = { ...cfg, f: Math.floor((cfg.N - 1) / 3), tx, results: [] }
  if (!short) await once(cfg, tx)
  for (let i = 0; i < runs; i++) {
    const r = await once(cfg, tx)
    row.results.push(r)
    console.log(`  N=${cfg.N} batch ${cfg.batchSize} run ${i + 1}: ${r.committed}/${tx} committed in ${r.wallS.toFixed(2)} s wall = ${fmt(r.tps)} tx/s; ` +
      `${r.virtualS.toFixed(2)} s virtual, ${r.blocks} blocks (${r.transferred} by state transfer), replicas ${r.agree ? 'agree' : 'DISAGREE'}${r.safety.length > 0 ? `, SAFETY: ${r.safety.join('; ')}` : ''}`)
  }
  rows.push(row)
}

const header = `${runs} run(s) of ${total} tx per configuration (batch 10: ${rows.find(r => r.batchSize === 10)?.tx ?? '-'})${short ? '' : ' after a warm-up run'}; all N replicas in one process (one core), ` +
  `virtual time, 1 ms links; ${availableParallelism()} cores, Node ${process.version}`
const table = [
  '| N | f | batch | committed tx/s (median) | min | max | N × tx/s | virtual s | blocks | state-transferred | replicas |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(r => {
    const tps = r.results.map(x => x.tps)
    const ok = r.results.every(x => x.agree && x.committed === r.tx && x.safety.length === 0)
    return `| ${r.N} | ${r.f} | ${r.batchSize} | ${fmt(median(tps))} | ${fmt(Math.min(...tps))} | ${fmt(Math.max(...tps))} | ${fmt(r.N * median(tps))} | ` +
      `${median(r.results.map(x => x.virtualS)).toFixed(2)} | ${median(r.results.map(x => x.blocks))} | ${Math.max(...r.results.map(x => x.transferred))} | ${ok ? 'agree' : 'WRONG'} |`
  })
].join('\n')
const what = '- committed tx/s: transactions on the chain of replica 0 (every replica at one height and head) per wall-clock second, all replicas sharing one core\n' +
  '- N × tx/s: the same figure times N, the transactions each replica executed and agreed on per second of CPU (flat = no cost growth with N beyond the replicas themselves)'
console.log(`\n${header}\n${table}\n${what}`)
await writeResults('pbft', { header, runs, total, cores: availableParallelism(), node: process.version, rows }, `${header}\n\n${table}\n\n${what}\n`)
if (rows.some(r => r.results.some(x => !x.agree || x.committed === 0 || x.safety.length > 0))) process.exitCode = 1
