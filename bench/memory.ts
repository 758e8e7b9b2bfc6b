// The Node peer's memory under load: a dev-mode peer with example02 (as bench/throughput.ts's
// devmode-16), driven by the load generator with 16 REST clients for WEFT_BENCH_MEMORY_SECONDS,
// while its resident memory (VmRSS and VmHWM from /proc/<pid>/status) and V8 heap (the peer's
// own /metrics, peer.profile.enabled) are sampled every second. Reports RSS idle (before the
// load), steady (median of the second half) and peak (VmHWM), and heap used at the start of the
// second half against the end (each the median of a tenth of the samples, so one GC does not
// decide it): a leak shows as growth. Prints a table; writes bench-results/memory.json|md.
//   npm run bench memory                   WEFT_BENCH_MEMORY_SECONDS (120)
//   WEFT_BENCH_MEMORY_SECONDS=600          the "heap after 10 minutes (no growth)"
//   WEFT_BENCH_SHORT=1                     5 s of load, sampled every 250 ms (the CI smoke test)
// One run: its figures are medians over the samples, not over runs.
import { readFile, mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePorts } from '../node/net/free-ports.ts'
import type { LoadResult } from './tools/loadgen.ts'
import { fmt, loadgen, median, weftPeer } from './tools/weft-peer.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const short = process.env.WEFT_BENCH_SHORT === '1'
const seconds = short ? 5 : Number(process.env.WEFT_BENCH_MEMORY_SECONDS ?? 120)
const warmupMs = short ? 500 : 2000
const everyMs = short ? 250 : 1000
const clients = 16
const MiB = 2 ** 20

interface Sample { t: number, rss: number, hwm: number, heapUsed: number, heapTotal: number }

async function procStatus (pid: number): Promise<{ rss: number, hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kB = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
  return { rss: kB('VmRSS'), hwm: kB('VmHWM') }
}

async function heap (url: string): Promise<{ heapUsed: number, heapTotal: number }> {
  const text = await (await fetch(url)).text()
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  return { heapUsed: value('nodejs_heap_size_used_bytes'), heapTotal: value('nodejs_heap_size_total_bytes') }
}

const [metricsPort] = await freePorts(1)
const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
const peer = await weftPeer('dev-stream', { CORE_PEER_PROFILE_ENABLED: 'true', CORE_PEER_PROFILE_LISTENADDRESS: `127.0.0.1:${metricsPort}` })
const samples: Sample[] = []
let idle: Sample
let load: LoadResult
try {
  const pid = peer.procs.pid(0)
  if (pid === undefined) throw new Error('the peer is not running')
  const sample = async (t: number): Promise<Sample> => ({ t, ...await procStatus(pid), ...await heap(metricsUrl) })
  idle = await sample(0)
  const t0 = performance.now()
  const running = loadgen(peer.target, peer.chaincode, seconds, warmupMs, ['--clients', String(clients)])
  let done = false
  void running.finally(() => { done = true }).catch(() => {})
  // Samples of the measured window only (after the load generator's warm-up).
  await new Promise(resolve => setTimeout(resolve, warmupMs))
  while (!done && performance.now() - t0 < warmupMs + seconds * 1000) {
    samples.push(await sample((performance.now() - t0 - warmupMs) / 1000))
    if (!short && samples.length % 30 === 0) {
      const s = samples[samples.length - 1]
      console.log(`  ${fmt(s.t)} s: RSS ${fmt(s.rss / MiB)} MiB (peak ${fmt(s.hwm / MiB)}), heap used ${fmt(s.heapUsed / MiB)} MiB of ${fmt(s.heapTotal / MiB)}`)
    }
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  load = await running
  samples.push(await sample((performance.now() - t0 - warmupMs) / 1000))
} finally {
  await peer.stop()
}

const second = samples.slice(Math.floor(samples.length / 2))
const tenth = Math.max(1, Math.floor(samples.length / 10))
const heapMid = median(second.slice(0, tenth).map(s => s.heapUsed))
const heapEnd = median(samples.slice(-tenth).map(s => s.heapUsed))
const result = {
  idleRss: idle!.rss,
  steadyRss: median(second.map(s => s.rss)),
  peakRss: Math.max(...samples.map(s => s.hwm)),
  heapMid,
  heapEnd,
  heapGrowth: heapEnd - heapMid,
  heapMax: Math.max(...samples.map(s => s.heapUsed)),
  tps: load!.tps,
  balanceOk: load!.balance.ok,
  committedTotal: load!.balance.committedTotal
}
const header = `devmode-16 (noops 500/1s, example02 over the dev-mode stream, ${clients} REST clients) for ${seconds} s after a ${warmupMs / 1000} s warm-up, ` +
  `${samples.length} samples; ${availableParallelism()} cores, Node ${process.version}`
const table = [
  '| RSS idle MiB | RSS steady MiB (median, 2nd half) | RSS peak MiB | heap used MiB, 2nd half start | end | growth | heap max | committed tx/s | balance |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  `| ${fmt(result.idleRss / MiB)} | ${fmt(result.steadyRss / MiB)} | ${fmt(result.peakRss / MiB)} | ${fmt(heapMid / MiB)} | ${fmt(heapEnd / MiB)} | ${(result.heapGrowth >= 0 ? '+' : '') + fmt(result.heapGrowth / MiB)} | ${fmt(result.heapMax / MiB)} | ${fmt(result.tps)} | ${result.balanceOk ? 'ok' : 'WRONG'} |`
].join('\n')
console.log(`\n${header}\n${table}`)
await mkdir(join(root, 'bench-results'), { recursive: true })
await writeFile(join(root, 'bench-results/memory.json'), JSON.stringify({ header, seconds, warmupMs, everyMs, clients, cores: availableParallelism(), node: process.version, result, idle: idle!, samples, load: load! }, null, 2))
await writeFile(join(root, 'bench-results/memory.md'), `${header}\n\n${table}\n`)
if (!result.balanceOk || result.committedTotal === 0 || !(result.steadyRss > 0)) process.exitCode = 1
