// Committed transactions per second of a PBFT network of four `weft node start` processes on
// 127.0.0.1, configured the Fabric way (CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN=pbft,
// CORE_PBFT_GENERAL_N=4, vp1..vp3 find vp0 as root node, gRPC Chat between peers, batch size
// 500 and core.yaml's timeouts), each peer in dev mode with its own user-started example02
// (`weft chaincode run`, a process of its own). The chaincode is deployed once; then load
// generators in processes of their own (bench/tools/loadgen.ts) send invokes a→b 1 through REST:
//   one-peer-16   one load generator, 16 clients, all to vp0's REST
//   spread-4x4    one load generator per peer, 4 clients each; every generator counts its own
//                 transactions on vp0's chain (so each committed transaction is counted once, from
//                 one replica's chain), and a's balance at vp0 must have moved by the sum
// After each run every replica must reach one height and one head block hash.
// Median/min/max of runs; table; bench-results/pbft-processes.json and .md.
//   npm run bench pbft-processes    WEFT_BENCH_RUNS (5), WEFT_BENCH_SECONDS (10), WEFT_BENCH_ONLY=name,…
//   WEFT_BENCH_SHORT=1              one 2 s run of each workload (the CI smoke test)
//   WEFT_BENCH_LOGS=DIR             the peers' logs (CORE_LOGGING_NODE, default warning) written to DIR/vpN.log at the end
//                                   (default bench-results/pbft-processes-logs)
//   WEFT_BENCH_PROFILE=DIR          vpWEFT_BENCH_PROFILE_PEER (0) runs with --cpu-prof, profile written to DIR at the end
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LoadResult } from './tools/loadgen.ts'
import { fmt, loadgen as runLoadgen, median } from './tools/weft-peer.ts'
import { Proc } from '../test/helpers/processes.ts'
import { WeftProcesses } from '../test/helpers/weft-processes.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const short = process.env.WEFT_BENCH_SHORT === '1'
const runs = short ? 1 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
const seconds = short ? 2 : Number(process.env.WEFT_BENCH_SECONDS ?? 10)
const only = process.env.WEFT_BENCH_ONLY?.split(',')
const profileDir = process.env.WEFT_BENCH_PROFILE === undefined ? undefined : resolve(process.env.WEFT_BENCH_PROFILE)
const profilePeer = Number(process.env.WEFT_BENCH_PROFILE_PEER ?? 0)
const logDir = resolve(process.env.WEFT_BENCH_LOGS ?? `${root}/bench-results/pbft-processes-logs`)
const N = 4

interface Workload { name: string, what: string, targets: number[], clients: number }
const workloads: Workload[] = [
  { name: 'one-peer-16', what: '16 REST clients at vp0', targets: [0], clients: 16 },
  { name: 'spread-4x4', what: '4 REST clients at each of vp0..vp3, counted on vp0\'s chain', targets: [0, 1, 2, 3], clients: 4 }
]

interface Run {
  /** Committed inside the window, summed over the load generators (each counts its own, on vp0's chain). */
  committed: number
  tps: number
  /**
   * Every load transaction committed (warm-up and drain included) over the wall time from the
   * first send to the commit of vp0's head block after the run: what the network sustained, even
   * when a replica's chain stood still inside the window.
   */
  sustainedTps: number
  latency: { p50: number, p99: number }
  /** Everything the generators found committed (window or not), and how far a moved at vp0 meanwhile. */
  balance: { committedTotal: number, moved: number, ok: boolean }
  /** Every replica at one height and head block hash after the run. */
  replicas: { agree: boolean, height: number, hash: string, heights: number[] }
  loads: LoadResult[]
}
interface Row { workload: string, results: Run[] }

const loadgen = async (target: string, clients: number, extra: string[]): Promise<LoadResult> =>
  await runLoadgen(target, 'mycc', seconds, short ? 500 : 2000, ['--clients', String(clients), '--drain', '60000', ...extra])

/** The four processes, each with its example02 registered, deployed once through vp0. */
async function network (): Promise<{ procs: WeftProcesses, stop: () => Promise<void> }> {
  const procs = await WeftProcesses.create(N, (i, w) => ({
    CORE_LOGGING_NODE: process.env.CORE_LOGGING_NODE ?? 'warning',
    CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'pbft',
    CORE_PBFT_GENERAL_N: String(N),
    CORE_PEER_DISCOVERY_ROOTNODE: i === 0 ? '' : w.grpc(0)
  }))
  const nodeArgs = (i: number): string[] => profileDir !== undefined && i === profilePeer ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const chaincodes: Proc[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(chaincodes.map(async cc => await cc.stop()))
    // The profiled replica ends on SIGTERM, so that Node writes its profile.
    if (profileDir !== undefined) await procs.kill(profilePeer, 'SIGTERM')
    await mkdir(logDir, { recursive: true })
    for (let i = 0; i < N; i++) await writeFile(`${logDir}/vp${i}.log`, procs.output(i))
    await procs.stop()
  }
  try {
    await procs.start(0, ['--peer-chaincodedev'], nodeArgs(0))
    await Promise.all([1, 2, 3].map(async i => { await procs.start(i, ['--peer-chaincodedev'], nodeArgs(i)) }))
    // Each peer's chaincode in a process of its own, as a user starts a chaincode in dev mode.
    await Promise.all(Array.from({ length: N }, async (_, i) => {
      const cc = Proc.weft(['chaincode', 'run', '-p', 'examples/chaincode/example02.ts', '-n', 'mycc'], { label: `vp${i}'s chaincode`, env: { CORE_PEER_ADDRESS: procs.grpc(i) } })
      chaincodes.push(cc)
      void cc.exited.then(exit => { if (exit.code !== null && exit.code !== 0) console.error(`vp${i}'s chaincode exited with ${exit.code}:\n${cc.stderr}`) })
      await cc.waitForOutput(`mycc to register at vp${i}`, /registered at/, { timeoutMs: 30_000 })
    }))
    // Every replica connected to every other before the deploy goes through consensus.
    const listed = async (i: number): Promise<number> => ((await (await fetch(`${procs.rest(i)}/network/peers`)).json()) as { peers: unknown[] }).peers.length
    for (let i = 0; i < N; i++) await procs.waitFor(`vp${i} to list every peer`, async () => await listed(i) === N, 30_000)
    const init = { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['init', 'a', '100000000', 'b', '200'] } }
    const deployed = await procs.rpc(0, 'deploy', init)
    if (deployed.result?.message !== 'mycc') throw new Error(`deploy at vp0: ${JSON.stringify(deployed)}`)
    for (let i = 0; i < N; i++) {
      await procs.waitFor(`the deploy to commit at vp${i}`, async () =>
        (await procs.rpc(i, 'query', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['query', 'a'] } })).result?.message === '100000000', 60_000)
    }
    return { procs, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** The balance of a at vp0, once it answers queries again (it refuses them while it catches up by state transfer). */
async function balanceOfA (procs: WeftProcesses): Promise<number> {
  return await procs.waitFor('vp0 to answer a query of a', async () => {
    const r = await procs.rpc(0, 'query', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['query', 'a'] } })
    return r.result === undefined ? undefined : Number(r.result.message)
  }, 60_000)
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const chains = async (procs: WeftProcesses): Promise<Array<{ height: number, currentBlockHash: string }>> =>
  await Promise.all(Array.from({ length: N }, async (_, i) => await procs.chain(i).catch(() => ({ height: 0, currentBlockHash: '' }))))

/**
 * A replica that fell out of the watermark window catches up only at the next stable checkpoint,
 * which needs traffic (Fabric's rule): while the replicas' heights differ, an invoke a→b 0 (moves
 * nothing, counted by nobody) goes to the highest one every 1.5 s.
 */
async function nudge (procs: WeftProcesses): Promise<void> {
  const cs = await chains(procs)
  if (cs.every(c => c.height === cs[0].height)) return
  const top = cs.reduce((best, c, i) => c.height > cs[best].height ? i : best, 0)
  await procs.rpc(top, 'invoke', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['invoke', 'a', 'b', '0'] } }).catch(() => undefined)
}

/** Waits (up to 60 s, nudging) for the four replicas to stand at one height and head. */
async function agreement (procs: WeftProcesses): Promise<Run['replicas']> {
  const deadline = Date.now() + 60_000
  let nudged = Date.now()
  for (;;) {
    const cs = await chains(procs)
    const agree = cs.every(c => c.height === cs[0].height && c.currentBlockHash === cs[0].currentBlockHash)
    if (agree || Date.now() > deadline) return { agree, height: cs[0].height, hash: cs[0].currentBlockHash, heights: cs.map(c => c.height) }
    if (Date.now() - nudged > 1500) { nudged = Date.now(); await nudge(procs) }
    await sleep(250)
  }
}


const rows: Row[] = []
const chosen = workloads.filter(w => only === undefined || only.includes(w.name))
if (profileDir !== undefined) await mkdir(profileDir, { recursive: true })
const net = await network()
try {
  const { procs } = net
  for (const w of chosen) {
    const row: Row = { workload: w.name, results: [] }
    for (let i = 0; i < runs; i++) {
      const a0 = await balanceOfA(procs)
      const t0 = Date.now()
      const spread = w.targets.length > 1
      // Once the generators stop sending and drain, laggards are nudged so that vp0's chain (where they count) completes.
      let draining = true
      const nudger = (async () => {
        await sleep((short ? 500 : 2000) + seconds * 1000)
        while (draining) { await nudge(procs); await sleep(1500) }
      })()
      const loads = await Promise.all(w.targets.map(async t => await loadgen(procs.rest(t), w.clients, spread ? ['--chain', procs.rest(0), '--no-balance'] : [])))
        .finally(() => { draining = false })
      await nudger
      const moved = a0 - await balanceOfA(procs)
      const committed = loads.reduce((s, l) => s + l.committed, 0)
      const committedTotal = loads.reduce((s, l) => s + l.balance.committedTotal, 0)
      const lat = (k: 'p50' | 'p99'): number => Math.max(...loads.map(l => l.latency[k]))
      const replicas = await agreement(procs)
      const head = await (await fetch(`${procs.rest(0)}/chain/blocks/${replicas.height - 1}`)).json() as { nonHashData?: { localLedgerCommitTimestamp?: { seconds: number | string, nanos?: number } } }
      const ts = head.nonHashData?.localLedgerCommitTimestamp
      const headAt = ts === undefined ? NaN : Number(ts.seconds) * 1000 + (ts.nanos ?? 0) / 1e6
      const r: Run = {
        committed, tps: committed / seconds, sustainedTps: committedTotal / ((headAt - t0) / 1000), latency: { p50: lat('p50'), p99: lat('p99') },
        balance: { committedTotal, moved, ok: moved === committedTotal && loads.every(l => l.balance.ok) },
        replicas, loads
      }
      row.results.push(r)
      const refused = loads.reduce((s, l) => s + Object.values(l.refused).reduce((a, b) => a + b, 0), 0)
      console.log(`  ${w.name} run ${i + 1}: ${fmt(r.tps)} tx/s committed in the window (${fmt(r.sustainedTps)} sustained: ${committedTotal} in ${((headAt - t0) / 1000).toFixed(1)} s), p50 ${fmt(r.latency.p50)} ms, ${refused} refused, balance ${r.balance.ok ? 'ok' : `WRONG (moved ${moved}, committed ${committedTotal})`}, ` +
        `replicas ${r.replicas.agree ? `agree at height ${r.replicas.height}` : `DISAGREE (${r.replicas.heights.join(', ')})`}`)
    }
    rows.push(row)
  }
} finally {
  await net.stop()
}

const header = `${runs} run(s) of ${seconds} s each after a warm-up; 4 weft node start processes (PBFT, batch 500, gRPC Chat on 127.0.0.1), ` +
  `dev-mode example02 per peer (weft chaincode run), load generators in their own processes; ${availableParallelism()} cores, Node ${process.version}`
const table = [
  '| workload | committed tx/s (median) | min | max | sustained tx/s | p50 ms | p99 ms | balance | replicas |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ...rows.map(r => {
    const tps = r.results.map(x => x.tps)
    return `| ${r.workload} | ${fmt(median(tps))} | ${fmt(Math.min(...tps))} | ${fmt(Math.max(...tps))} | ${fmt(median(r.results.map(x => x.sustainedTps)))} | ${fmt(median(r.results.map(x => x.latency.p50)))} | ` +
      `${fmt(median(r.results.map(x => x.latency.p99)))} | ${r.results.every(x => x.balance.ok) ? 'ok' : 'WRONG'} | ${r.results.every(x => x.replicas.agree) ? 'agree' : 'DISAGREE'} |`
  })
].join('\n')
const what = [...chosen.map(w => `- ${w.name}: ${w.what}`),
  '- committed tx/s: load transactions on vp0\'s chain with a commit time inside the measured window, per second of it',
  '- sustained tx/s: every load transaction committed (warm-up and drain included) over the time from the first send to vp0\'s last commit'].join('\n')
console.log(`\n${header}\n${table}\n${what}`)
await mkdir(`${root}/bench-results`, { recursive: true })
await writeFile(`${root}/bench-results/pbft-processes.json`, JSON.stringify({ header, runs, seconds, cores: availableParallelism(), node: process.version, rows }, null, 2))
await writeFile(`${root}/bench-results/pbft-processes.md`, `${header}\n\n${table}\n\n${what}\n`)
if (rows.some(r => r.results.some(x => !x.balance.ok || !x.replicas.agree || x.balance.committedTotal === 0))) process.exitCode = 1
