// Committed transactions per second of a PBFT network of four `weft node start` processes on
// 127.0.0.1, configured the Fabric way (CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN=pbft,
// CORE_PBFT_GENERAL_N=4, vp1..vp3 find vp0 as root node, gRPC Chat between peers, batch size
// 500 and core.yaml's timeouts), with example02 run one of two ways:
//   js-worker    deployed as Weft's JS chaincode (`weft chaincode deploy -p …`), which each peer
//                runs in a worker thread, as in a network `weft network up` starts
//   dev-stream   each peer in dev mode with its own user-started example02 (`weft chaincode run`,
//                a process of its own, over the chaincode gRPC stream, the way Go chaincode runs)
// The chaincode is deployed once; then load generators in processes of their own
// (bench/tools/loadgen.ts) send invokes a→b 1 through REST:
//   one-peer-16   one load generator, 16 clients, all to vp0's REST
//   spread-4x4    one load generator per peer, 4 clients each; every generator counts its own
//                 transactions on vp0's chain (so each committed transaction is counted once, from
//                 one replica's chain), and a's balance at vp0 must have moved by the sum
// After each run every replica must reach one height and one head block hash. Besides the rates,
// each run reports the CPU time the peers (and dev-mode chaincodes) spent per committed
// transaction (from /proc, Linux only), a figure that holds up on a machine shared with other work.
// Median/min/max of runs; table; pbft-processes.json and .md in WEFT_BENCH_OUT (bench-results/).
//   npm run bench pbft-processes    WEFT_BENCH_RUNS (5), WEFT_BENCH_SECONDS (10), WEFT_BENCH_ONLY=name,…
//   WEFT_BENCH_CHAINCODE=js-worker|dev-stream   one way only (default: both, js-worker first)
//   WEFT_BENCH_SHORT=1              one 2 s run of each workload (the CI smoke test)
//   WEFT_BENCH_LOGS=DIR             the peers' logs (CORE_LOGGING_NODE, default warning) written to DIR/vpN.log at the end
//                                   (default pbft-processes-logs in WEFT_BENCH_OUT)
//   WEFT_BENCH_PROFILE=DIR          vpWEFT_BENCH_PROFILE_PEER (0) runs with --cpu-prof, profile written to DIR at the end
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { resultsDir, writeResults } from './tools/results.ts'
import type { LoadResult } from './tools/loadgen.ts'
import { fmt, loadgen as runLoadgen, median, type Chaincode } from './tools/weft-peer.ts'
import { describeExit, finish, Proc } from '../test/helpers/processes.ts'
import { WeftProcesses } from '../test/helpers/weft-processes.ts'

const short = process.env.WEFT_BENCH_SHORT === '1'
const runs = short ? 1 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
const seconds = short ? 2 : Number(process.env.WEFT_BENCH_SECONDS ?? 10)
const only = process.env.WEFT_BENCH_ONLY?.split(',')
const profileDir = process.env.WEFT_BENCH_PROFILE === undefined ? undefined : resolve(process.env.WEFT_BENCH_PROFILE)
const profilePeer = Number(process.env.WEFT_BENCH_PROFILE_PEER ?? 0)
const logDir = resolve(process.env.WEFT_BENCH_LOGS ?? join(resultsDir, 'pbft-processes-logs'))
const N = 4
const modes: Chaincode[] = process.env.WEFT_BENCH_CHAINCODE === undefined ? ['js-worker', 'dev-stream'] : [process.env.WEFT_BENCH_CHAINCODE as Chaincode]
if (modes.some(m => m !== 'js-worker' && m !== 'dev-stream')) throw new Error(`WEFT_BENCH_CHAINCODE must be js-worker or dev-stream, not ${process.env.WEFT_BENCH_CHAINCODE}`)

interface Workload { name: string, what: string, targets: number[], clients: number }
const workloads: Workload[] = [
  { name: 'one-peer-16', what: '16 REST clients at vp0', targets: [0], clients: 16 },
  { name: 'spread-4x4', what: '4 REST clients at each of vp0..vp3, counted on vp0\'s chain', targets: [0, 1, 2, 3], clients: 4 }
]

interface Run {
  /** CPU time (user + system) of the peers and their dev-mode chaincodes per committed transaction, ms. */
  cpuMsPerTx: number
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
interface Row { workload: string, chaincode: Chaincode, results: Run[] }

const loadgen = async (target: string, chaincode: string, clients: number, extra: string[]): Promise<LoadResult> =>
  await runLoadgen(target, chaincode, seconds, short ? 500 : 2000, ['--clients', String(clients), '--drain', '60000', ...extra])

/** CPU seconds (user + system) the processes have used so far; NaN where /proc cannot tell. */
async function cpuSeconds (pids: Array<number | undefined>): Promise<number> {
  let ticks = 0
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
    if (pid === undefined || stat === undefined) return NaN
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(f[11]) + Number(f[12])
  }
  return ticks / 100
}

interface Network { procs: WeftProcesses, chaincode: string, pids: () => Array<number | undefined>, stop: () => Promise<void> }

/** The four processes with example02 deployed once through vp0 (each with its dev-mode chaincode registered, in dev-stream). */
async function network (mode: Chaincode): Promise<Network> {
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
  const dev = mode === 'dev-stream'
  const pids = (): Array<number | undefined> => [...Array.from({ length: N }, (_, i) => procs.pid(i)), ...chaincodes.map(cc => cc.pid)]
  try {
    const peerArgs = dev ? ['--peer-chaincodedev'] : []
    await procs.start(0, peerArgs, nodeArgs(0))
    await Promise.all([1, 2, 3].map(async i => { await procs.start(i, peerArgs, nodeArgs(i)) }))
    // Each peer's chaincode in a process of its own, as a user starts a chaincode in dev mode.
    if (dev) {
      await Promise.all(Array.from({ length: N }, async (_, i) => {
      const cc = Proc.weft(['chaincode', 'run', '-p', 'examples/chaincode/example02.ts', '-n', 'mycc'], { label: `vp${i}'s chaincode`, env: { CORE_PEER_ADDRESS: procs.grpc(i) } })
      chaincodes.push(cc)
      void cc.exited.then(exit => { if (exit.code !== null && exit.code !== 0) console.error(`vp${i}'s chaincode exited with ${exit.code}:\n${cc.stderr}`) })
        await cc.waitForOutput(`mycc to register at vp${i}`, /registered at/, { timeoutMs: 30_000 })
      }))
    }
    // Every replica connected to every other before the deploy goes through consensus.
    const listed = async (i: number): Promise<number> => ((await (await fetch(`${procs.rest(i)}/network/peers`)).json()) as { peers: unknown[] }).peers.length
    for (let i = 0; i < N; i++) await procs.waitFor(`vp${i} to list every peer`, async () => await listed(i) === N, 30_000)
    const chaincode = dev ? await deployDev(procs) : await deployJs(procs)
    for (let i = 0; i < N; i++) {
      await procs.waitFor(`the deploy to commit at vp${i}`, async () =>
        (await procs.rpc(i, 'query', { type: 1, chaincodeID: { name: chaincode }, ctorMsg: { args: ['query', 'a'] } })).result?.message === '100000000', 60_000)
    }
    return { procs, chaincode, pids, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

const initArgs = ['init', 'a', '100000000', 'b', '200']

async function deployDev (procs: WeftProcesses): Promise<string> {
  const deployed = await procs.rpc(0, 'deploy', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: initArgs } })
  if (deployed.result?.message !== 'mycc') throw new Error(`deploy at vp0: ${JSON.stringify(deployed)}`)
  return 'mycc'
}

/** example02 deployed through vp0 as a user deploys a JS chaincode; returns its name. */
async function deployJs (procs: WeftProcesses): Promise<string> {
  const deploy = Proc.weft(['chaincode', 'deploy', '-p', 'examples/chaincode/example02.ts', '-c', JSON.stringify({ Args: initArgs }), '--wait'],
    { env: { CORE_PEER_ADDRESS: procs.grpc(0), CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${procs.port(0, 'events')}` } })
  const done = await finish(deploy)
  const name = done.code === 0 ? /Deploy chaincode: (\S+)/.exec(done.stdout)?.[1] : undefined
  if (name === undefined) throw new Error(`deploy at vp0 ended with ${describeExit(done)}: ${done.output}`)
  return name
}

/** The balance of a at vp0, once it answers queries again (it refuses them while it catches up by state transfer). */
async function balanceOfA (procs: WeftProcesses, chaincode: string): Promise<number> {
  return await procs.waitFor('vp0 to answer a query of a', async () => {
    const r = await procs.rpc(0, 'query', { type: 1, chaincodeID: { name: chaincode }, ctorMsg: { args: ['query', 'a'] } })
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
async function nudge (procs: WeftProcesses, chaincode: string): Promise<void> {
  const cs = await chains(procs)
  if (cs.every(c => c.height === cs[0].height)) return
  const top = cs.reduce((best, c, i) => c.height > cs[best].height ? i : best, 0)
  await procs.rpc(top, 'invoke', { type: 1, chaincodeID: { name: chaincode }, ctorMsg: { args: ['invoke', 'a', 'b', '0'] } }).catch(() => undefined)
}

/** Waits (up to 60 s, nudging) for the four replicas to stand at one height and head. */
async function agreement (procs: WeftProcesses, chaincode: string): Promise<Run['replicas']> {
  const deadline = Date.now() + 60_000
  let nudged = Date.now()
  for (;;) {
    const cs = await chains(procs)
    const agree = cs.every(c => c.height === cs[0].height && c.currentBlockHash === cs[0].currentBlockHash)
    if (agree || Date.now() > deadline) return { agree, height: cs[0].height, hash: cs[0].currentBlockHash, heights: cs.map(c => c.height) }
    if (Date.now() - nudged > 1500) { nudged = Date.now(); await nudge(procs, chaincode) }
    await sleep(250)
  }
}


const rows: Row[] = []
const chosen = workloads.filter(w => only === undefined || only.includes(w.name))
if (profileDir !== undefined) await mkdir(profileDir, { recursive: true })
for (const mode of modes) {
  const net = await network(mode)
  try {
    const { procs, chaincode } = net
    for (const w of chosen) {
      const row: Row = { workload: w.name, chaincode: mode, results: [] }
      for (let i = 0; i < runs; i++) {
        const a0 = await balanceOfA(procs, chaincode)
        const t0 = Date.now()
        const cpu0 = await cpuSeconds(net.pids())
        const spread = w.targets.length > 1
        // Once the generators stop sending and drain, laggards are nudged so that vp0's chain (where they count) completes.
        let draining = true
        const nudger = (async () => {
          await sleep((short ? 500 : 2000) + seconds * 1000)
          while (draining) { await nudge(procs, chaincode); await sleep(1500) }
        })()
        const loads = await Promise.all(w.targets.map(async t => await loadgen(procs.rest(t), chaincode, w.clients, spread ? ['--chain', procs.rest(0), '--no-balance'] : [])))
          .finally(() => { draining = false })
        await nudger
        const moved = a0 - await balanceOfA(procs, chaincode)
        const committed = loads.reduce((s, l) => s + l.committed, 0)
        const committedTotal = loads.reduce((s, l) => s + l.balance.committedTotal, 0)
        const lat = (k: 'p50' | 'p99'): number => Math.max(...loads.map(l => l.latency[k]))
        const replicas = await agreement(procs, chaincode)
        const cpuMsPerTx = 1000 * (await cpuSeconds(net.pids()) - cpu0) / committedTotal
        const head = await (await fetch(`${procs.rest(0)}/chain/blocks/${replicas.height - 1}`)).json() as { nonHashData?: { localLedgerCommitTimestamp?: { seconds: number | string, nanos?: number } } }
        const ts = head.nonHashData?.localLedgerCommitTimestamp
        const headAt = ts === undefined ? NaN : Number(ts.seconds) * 1000 + (ts.nanos ?? 0) / 1e6
        const r: Run = {
          cpuMsPerTx, committed, tps: committed / seconds, sustainedTps: committedTotal / ((headAt - t0) / 1000), latency: { p50: lat('p50'), p99: lat('p99') },
          balance: { committedTotal, moved, ok: moved === committedTotal && loads.every(l => l.balance.ok) },
          replicas, loads
        }
        row.results.push(r)
        const refused = loads.reduce((s, l) => s + Object.values(l.refused).reduce((a, b) => a + b, 0), 0)
        console.log(`  ${mode} ${w.name} run ${i + 1}: ${fmt(r.tps)} tx/s committed in the window (${fmt(r.sustainedTps)} sustained: ${committedTotal} in ${((headAt - t0) / 1000).toFixed(1)} s), ` +
          `p50 ${fmt(r.latency.p50)} ms, ${fmt(r.cpuMsPerTx)} CPU ms/tx, ${refused} refused, balance ${r.balance.ok ? 'ok' : `WRONG (moved ${moved}, committed ${committedTotal})`}, ` +
          `replicas ${r.replicas.agree ? `agree at height ${r.replicas.height}` : `DISAGREE (${r.replicas.heights.join(', ')})`}`)
      }
      rows.push(row)
    }
  } finally {
    await net.stop()
  }
}

const header = `${runs} run(s) of ${seconds} s each after a warm-up; 4 weft node start processes (PBFT, batch 500, gRPC Chat on 127.0.0.1), ` +
  `example02 as a JS chaincode in each peer's worker (js-worker) or per peer in dev mode (dev-stream, weft chaincode run), load generators in their own processes; ${availableParallelism()} cores, Node ${process.version}`
const table = [
  '| chaincode | workload | committed tx/s (median) | min | max | sustained tx/s | p50 ms | p99 ms | CPU ms/tx | balance | replicas |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ...rows.map(r => {
    const tps = r.results.map(x => x.tps)
    return `| ${r.chaincode} | ${r.workload} | ${fmt(median(tps))} | ${fmt(Math.min(...tps))} | ${fmt(Math.max(...tps))} | ${fmt(median(r.results.map(x => x.sustainedTps)))} | ${fmt(median(r.results.map(x => x.latency.p50)))} | ` +
      `${fmt(median(r.results.map(x => x.latency.p99)))} | ${fmt(median(r.results.map(x => x.cpuMsPerTx)))} | ${r.results.every(x => x.balance.ok) ? 'ok' : 'WRONG'} | ${r.results.every(x => x.replicas.agree) ? 'agree' : 'DISAGREE'} |`
  })
].join('\n')
const what = [...chosen.map(w => `- ${w.name}: ${w.what}`),
  '- committed tx/s: load transactions on vp0\'s chain with a commit time inside the measured window, per second of it',
  '- sustained tx/s: every load transaction committed (warm-up and drain included) over the time from the first send to vp0\'s last commit',
  '- CPU ms/tx: CPU time of the four peers (and dev-mode chaincodes) over the run, per committed load transaction'].join('\n')
console.log(`\n${header}\n${table}\n${what}`)
await writeResults('pbft-processes', { header, runs, seconds, cores: availableParallelism(), node: process.version, rows }, `${header}\n\n${table}\n\n${what}\n`)
if (rows.some(r => r.results.some(x => !x.balance.ok || !x.replicas.agree || x.balance.committedTotal === 0))) process.exitCode = 1
