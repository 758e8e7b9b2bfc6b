// What a user sees: committed transactions per second through the peer's public interfaces (REST,
// gRPC Devops, libp2p process-tx as a tab sends), from a load generator in its own process
// (bench/tools/loadgen.ts), for a Weft peer started here and,
// with WEFT_BENCH_FABRIC=http://HOST:PORT (and WEFT_BENCH_FABRIC_GRPC=HOST:PORT for the gRPC
// workload), a Fabric 0.6.1 peer started by you (dev mode, Go
// chaincode_example02 registered as mycc, deployed with a→100000000, b→200). Runs alternate
// A B B A between the two to cancel machine drift. Prints a table; writes JSON and Markdown to
// bench-results/.
//   npm run bench throughput        WEFT_BENCH_RUNS (5), WEFT_BENCH_SECONDS (10), WEFT_BENCH_ONLY=name,…
//   WEFT_BENCH_SHORT=1              one 2 s run of each workload (the CI smoke test)
//   WEFT_BENCH_CPU_PROF=DIR         the Weft peer runs with --cpu-prof, profiles written to DIR
//   WEFT_BENCH_GO_CHAINCODE=PATH    the dev-mode workloads run this chaincode binary (Fabric's Go
//                                   chaincode_example02) at the Weft peer too, instead of `weft chaincode run`
import { availableParallelism } from 'node:os'
import { writeResults } from './tools/results.ts'
import type { LoadResult } from './tools/loadgen.ts'
import { fmt, loadgen as runLoadgen, median, weftPeer, type Chaincode } from './tools/weft-peer.ts'

const short = process.env.WEFT_BENCH_SHORT === '1'
const runs = short ? 1 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
const seconds = short ? 2 : Number(process.env.WEFT_BENCH_SECONDS ?? 10)
const fabric = process.env.WEFT_BENCH_FABRIC
const fabricGrpc = process.env.WEFT_BENCH_FABRIC_GRPC
const only = process.env.WEFT_BENCH_ONLY?.split(',')
const goChaincode = process.env.WEFT_BENCH_GO_CHAINCODE

interface Workload {
  name: string
  what: string
  chaincode: Chaincode
  env?: Record<string, string>
  load: string[]
  /** Requests go to Devops over gRPC instead of REST. */
  grpc?: boolean
  /** Requests go to the peer's libp2p process-tx protocol over WebSockets instead of REST (Weft only). */
  libp2p?: boolean
  /** The same load also goes to the Fabric peer (a dev-mode Go chaincode can run it). */
  sideBySide?: boolean
}

const workloads: Workload[] = [
  { name: 'devmode-16', what: 'noops 500/1s, example02 over the dev-mode chaincode stream, 16 REST clients', chaincode: 'dev-stream', load: ['--clients', '16'], sideBySide: true },
  { name: 'devmode-64', what: 'the same, 64 REST clients', chaincode: 'dev-stream', load: ['--clients', '64'], sideBySide: true },
  { name: 'devmode-1', what: 'the same, 1 REST client', chaincode: 'dev-stream', load: ['--clients', '1'], sideBySide: true },
  { name: 'devmode-grpc-16', what: 'the same, 16 gRPC Devops clients', chaincode: 'dev-stream', load: ['--clients', '16'], grpc: true, sideBySide: true },
  { name: 'devmode-libp2p-16', what: 'the same, 16 libp2p process-tx clients over one WebSockets connection (as a tab submits)', chaincode: 'dev-stream', load: ['--clients', '16'], libp2p: true },
  { name: 'devmode-wait0-200/s', what: 'block.wait 0, open loop at 200 tx/s (request-to-commit latency)', chaincode: 'dev-stream', env: { CORE_NOOPS_BLOCK_WAIT: '0' }, load: ['--rate', '200'] },
  { name: 'js-16', what: 'noops 500/1s, example02 as a JS chaincode in a worker, 16 REST clients', chaincode: 'js-worker', load: ['--clients', '16'] },
  { name: 'query-16', what: 'queries of example02 over the dev-mode stream, 16 REST clients', chaincode: 'dev-stream', load: ['--clients', '16', '--workload', 'query'], sideBySide: true }
]

interface Row { workload: string, peer: 'weft' | 'fabric', results: LoadResult[] }

const loadgen = async (target: string, chaincode: string, args: string[]): Promise<LoadResult> => await runLoadgen(target, chaincode, seconds, short ? 500 : 2000, args)

const rows: Row[] = []
for (const w of workloads) {
  if (only !== undefined && !only.includes(w.name)) continue
  const peer = await weftPeer(w.chaincode, w.env, goChaincode)
  const weft: Row = { workload: w.name, peer: 'weft', results: [] }
  const fab: Row = { workload: w.name, peer: 'fabric', results: [] }
  try {
    for (let i = 0; i < runs; i++) {
      const order = fabric !== undefined && w.sideBySide === true ? (i % 2 === 0 ? ['weft', 'fabric'] : ['fabric', 'weft']) : ['weft']
      for (const who of order) {
        const grpc = w.grpc === true ? ['--grpc', who === 'weft' ? peer.procs.grpc(0) : fabricGrpc ?? `${new URL(fabric!).hostname}:${Number(new URL(fabric!).port) + 1}`] : []
        const p2p = w.libp2p === true ? ['--libp2p', peer.libp2p] : []
        const r = who === 'weft' ? await loadgen(peer.target, peer.chaincode, [...w.load, ...grpc, ...p2p]) : await loadgen(fabric!, 'mycc', [...w.load, ...grpc])
        ;(who === 'weft' ? weft : fab).results.push(r)
        console.log(`  ${w.name} ${who} run ${i + 1}: ${fmt(r.tps)} tx/s committed, p50 ${fmt(r.latency.p50)} ms, balance ${r.balance.ok ? 'ok' : 'WRONG'}`)
      }
    }
  } finally {
    await peer.stop()
  }
  rows.push(weft)
  if (fab.results.length > 0) rows.push(fab)
}

const header = `${runs} run(s) of ${seconds} s each after a warm-up; ${availableParallelism()} cores, Node ${process.version}; ` +
  `dev-mode chaincode at the Weft peer: ${goChaincode === undefined ? 'weft chaincode run (JS)' : 'Go chaincode_example02'}`
const table = [
  '| workload | peer | committed tx/s (median) | min | max | p50 ms | p99 ms | balance |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(r => {
    const tps = r.results.map(x => x.tps)
    return `| ${r.workload} | ${r.peer} | ${fmt(median(tps))} | ${fmt(Math.min(...tps))} | ${fmt(Math.max(...tps))} | ${fmt(median(r.results.map(x => x.latency.p50)))} | ${fmt(median(r.results.map(x => x.latency.p99)))} | ${r.results.every(x => x.balance.ok) ? 'ok' : 'WRONG'} |`
  })
].join('\n')
const what = workloads.filter(w => rows.some(r => r.workload === w.name)).map(w => `- ${w.name}: ${w.what}`).join('\n')
console.log(`\n${header}\n${table}\n${what}`)
await writeResults('throughput', { header, runs, seconds, cores: availableParallelism(), node: process.version, rows }, `${header}\n\n${table}\n\n${what}\n`)
// Wrong balances, or a run in which nothing at all was committed (or answered), fail the bench.
const nothing = (x: LoadResult): boolean => x.workload === 'query' ? x.committed === 0 : x.balance.committedTotal === 0
if (rows.some(r => r.results.some(x => !x.balance.ok || nothing(x)))) process.exitCode = 1
