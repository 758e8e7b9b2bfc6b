// The Node peer's memory under load: a dev-mode peer with example02 (as bench/throughput.ts's
// devmode-16), driven by the load generator with 16 REST clients, while its resident memory
// (VmRSS and VmHWM from /proc/<pid>/status) and V8 heap (the peer's own /metrics,
// peer.profile.enabled) are sampled every second. Two workloads:
//   rss-16: WEFT_BENCH_RUNS (5) runs of WEFT_BENCH_MEMORY_SECONDS (60) after a warm-up, a fresh
//     peer each; RSS idle (before the load), steady (median of the second half) and peak (VmHWM),
//     each the median of the runs with min and max. The target is ≤ 150 MB (10^6 bytes).
//   heap-10min: one run of WEFT_BENCH_MEMORY_LONG_SECONDS (600); RSS and heap used at each tenth
//     of it (each minute), the heap being the least used in that tenth (what survived the
//     collections), RSS split into anonymous memory and mapped files (Node's binary, LevelDB's
//     tables, which it maps to read them); the heap grew when the last tenth's exceeds the second's by more than 10%
//     and 2 MiB. The first tenth is left out: code is still being compiled and caches fill.
// Prints the tables and whether the heap grew; writes memory.json|md into WEFT_BENCH_OUT (bench-results/).
//   npm run bench memory            WEFT_BENCH_ONLY=rss-16|heap-10min
//   WEFT_BENCH_SHORT=1              one 5 s rss-16 run and a 5 s heap run, sampled every 250 ms (the CI smoke test)
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { freePorts } from '../node/net/free-ports.ts'
import { writeResults } from './tools/results.ts'
import type { LoadResult } from './tools/loadgen.ts'
import { fmt, loadgen, median, weftPeer } from './tools/weft-peer.ts'

const short = process.env.WEFT_BENCH_SHORT === '1'
const runs = short ? 1 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
const seconds = short ? 5 : Number(process.env.WEFT_BENCH_MEMORY_SECONDS ?? 60)
const longSeconds = short ? 5 : Number(process.env.WEFT_BENCH_MEMORY_LONG_SECONDS ?? 600)
const only = process.env.WEFT_BENCH_ONLY?.split(',')
const warmupMs = short ? 500 : 2000
const everyMs = short ? 250 : 1000
const clients = 16
const MiB = 2 ** 20

interface Sample { t: number, rss: number, hwm: number, rssAnon: number, rssFile: number, heapUsed: number, heapTotal: number, external: number }
interface Run { idle: Sample, samples: Sample[], load: LoadResult }

async function procStatus (pid: number): Promise<{ rss: number, hwm: number, rssAnon: number, rssFile: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kB = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
  return { rss: kB('VmRSS'), hwm: kB('VmHWM'), rssAnon: kB('RssAnon'), rssFile: kB('RssFile') }
}

async function heap (url: string): Promise<{ heapUsed: number, heapTotal: number, external: number }> {
  const text = await (await fetch(url)).text()
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  return { heapUsed: value('nodejs_heap_size_used_bytes'), heapTotal: value('nodejs_heap_size_total_bytes'), external: value('nodejs_external_memory_bytes') }
}

/** A fresh peer loaded for `secs` after the warm-up, sampled every `everyMs` of the measured window. */
async function run (secs: number, label: string): Promise<Run> {
  const [metricsPort] = await freePorts(1)
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
  const peer = await weftPeer('dev-stream', { CORE_PEER_PROFILE_ENABLED: 'true', CORE_PEER_PROFILE_LISTENADDRESS: `127.0.0.1:${metricsPort}` })
  try {
    const pid = peer.procs.pid(0)
    if (pid === undefined) throw new Error('the peer is not running')
    const sample = async (t: number): Promise<Sample> => ({ t, ...await procStatus(pid), ...await heap(metricsUrl) })
    const idle = await sample(0)
    const samples: Sample[] = []
    const t0 = performance.now()
    const running = loadgen(peer.target, peer.chaincode, secs, warmupMs, ['--clients', String(clients)])
    let done = false
    void running.finally(() => { done = true }).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, warmupMs))
    while (!done && performance.now() - t0 < warmupMs + secs * 1000) {
      samples.push(await sample((performance.now() - t0 - warmupMs) / 1000))
      if (!short && samples.length % 60 === 0) {
        const s = samples[samples.length - 1]
        console.log(`  ${label} ${fmt(s.t)} s: RSS ${fmt(s.rss / MiB)} MiB (peak ${fmt(s.hwm / MiB)}; anonymous ${fmt(s.rssAnon / MiB)}, files ${fmt(s.rssFile / MiB)}), heap used ${fmt(s.heapUsed / MiB)} MiB of ${fmt(s.heapTotal / MiB)}, external ${fmt(s.external / MiB)} MiB`)
      }
      await new Promise(resolve => setTimeout(resolve, everyMs))
    }
    const load = await running
    samples.push(await sample((performance.now() - t0 - warmupMs) / 1000))
    return { idle, samples, load }
  } finally {
    await peer.stop()
  }
}

const ok = (r: Run): boolean => r.load.balance.ok && r.load.balance.committedTotal > 0 && r.samples.length > 0
const mib = (x: number): string => fmt(x / MiB)
const mb = (x: number): string => fmt(x / 1e6)
const header = `devmode-16: noops 500/1s, example02 over the dev-mode stream, ${clients} REST clients; ${availableParallelism()} cores, Node ${process.version}`
const out: string[] = [header]
const json: Record<string, unknown> = { header, cores: availableParallelism(), node: process.version, clients, warmupMs, everyMs }
let failed = false

if (only === undefined || only.includes('rss-16')) {
  const results: Run[] = []
  for (let i = 0; i < runs; i++) {
    const r = await run(seconds, `rss-16 run ${i + 1}`)
    results.push(r)
    failed ||= !ok(r)
  }
  const figures = results.map(r => {
    const second = r.samples.slice(Math.floor(r.samples.length / 2))
    return { idle: r.idle.rss, steady: median(second.map(s => s.rss)), peak: Math.max(...r.samples.map(s => s.hwm)), tps: r.load.tps, balanceOk: r.load.balance.ok }
  })
  for (const [i, f] of figures.entries()) console.log(`  rss-16 run ${i + 1}: RSS idle ${mib(f.idle)} MiB, steady ${mib(f.steady)} MiB (${mb(f.steady)} MB), peak ${mib(f.peak)} MiB (${mb(f.peak)} MB), ${fmt(f.tps)} tx/s committed`)
  const col = (pick: (f: typeof figures[number]) => number, unit: (x: number) => string): string => {
    const xs = figures.map(pick)
    return `${unit(median(xs))} | ${unit(Math.min(...xs))} | ${unit(Math.max(...xs))}`
  }
  const table = [
    `rss-16: ${runs} run(s) of ${seconds} s after a ${warmupMs / 1000} s warm-up, a fresh peer each; median, min, max of the runs`,
    '',
    '| RSS idle MiB | min | max | RSS steady MB (median, 2nd half) | min | max | RSS peak MB | min | max | committed tx/s | balance |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${col(f => f.idle, mib)} | ${col(f => f.steady, mb)} | ${col(f => f.peak, mb)} | ${fmt(median(figures.map(f => f.tps)))} | ${figures.every(f => f.balanceOk) ? 'ok' : 'WRONG'} |`
  ].join('\n')
  out.push(table)
  json.rss = { runs, seconds, figures, results }
}

if (only === undefined || only.includes('heap-10min')) {
  const r = await run(longSeconds, 'heap-10min')
  failed ||= !ok(r)
  const tenth = longSeconds / 10
  const marks = Array.from({ length: 10 }, (_, i) => {
    const inIt = r.samples.filter(s => s.t >= i * tenth && s.t < (i + 1) * tenth)
    return { until: (i + 1) * tenth, samples: inIt.length, heapLeast: Math.min(...inIt.map(s => s.heapUsed)), rss: median(inIt.map(s => s.rss)), hwm: Math.max(...inIt.map(s => s.hwm)), anon: median(inIt.map(s => s.rssAnon)), file: median(inIt.map(s => s.rssFile)) }
  }).filter(m => m.samples > 0)
  const from = marks[1] ?? marks[0]
  const to = marks[marks.length - 1]
  const growth = to.heapLeast - from.heapLeast
  const grew = growth > Math.max(2 * MiB, from.heapLeast * 0.1)
  const verdict = `heap ${grew ? 'GREW' : 'did not grow'}: ${mib(from.heapLeast)} MiB at ${fmt(from.until)} s, ${mib(to.heapLeast)} MiB at ${fmt(to.until)} s (${growth >= 0 ? '+' : ''}${mib(growth)} MiB); ` +
    `RSS steady ${mib(median(r.samples.slice(Math.floor(r.samples.length / 2)).map(s => s.rss)))} MiB, peak ${mib(Math.max(...r.samples.map(s => s.hwm)))} MiB; ${fmt(r.load.tps)} tx/s committed, balance ${r.load.balance.ok ? 'ok' : 'WRONG'}`
  const table = [
    `heap-10min: one run of ${longSeconds} s after a ${warmupMs / 1000} s warm-up`,
    '',
    '| until s | heap used MiB (least) | RSS MiB (median) | of it anonymous | of it files | RSS peak MiB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...marks.map(m => `| ${fmt(m.until)} | ${mib(m.heapLeast)} | ${mib(m.rss)} | ${mib(m.anon)} | ${mib(m.file)} | ${mib(m.hwm)} |`),
    '',
    verdict
  ].join('\n')
  out.push(table)
  json.heap = { seconds: longSeconds, marks, growth, grew, verdict, tps: r.load.tps, balanceOk: r.load.balance.ok, samples: r.samples, load: r.load }
}

const text = out.join('\n\n')
console.log(`\n${text}`)
await writeResults('memory', json, `${text}\n`)
if (failed) process.exitCode = 1
