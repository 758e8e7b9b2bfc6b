// The browser benchmarks, in headless Chromium: the bench's 500-tx block commits on IndexedDB
// (bench/ledger.ts's, over 10,000 keys, a fresh database each run), a tab syncing
// WEFT_BENCH_BLOCKS (10,000) blocks from a Node peer over WebSockets into IndexedDB (a tab with
// empty storage each run; it must end on the peer's head), and the in-tab demo network flat out
// at 4 and 7 validators on memory and on IndexedDB. One warm-up round, then WEFT_BENCH_RUNS (5)
// rounds, each running every workload once (one Chromium for all; a run in which a tab throws
// or crashes fails the bench).
// Prints each run and a table (median, min, max of the runs); writes browser.json|md into WEFT_BENCH_OUT (bench-results/).
// Chromium needs test/netns.sh's private network namespace: outside it this script runs itself there.
//   npm run bench browser      WEFT_BENCH_RUNS (5), WEFT_BENCH_BLOCKS (10000), WEFT_BENCH_ONLY=ledger,sync,demo,
//                              WEFT_BENCH_DEMO_SECONDS (5), WEFT_BENCH_DEMO=4:memory,4:indexeddb,7:memory,7:indexeddb
//   WEFT_BENCH_SHORT=1         one round, no warm-up: 2,000 keys and one timed block, 300 blocks, 1 s per demo case (the CI smoke test)
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { CHROMIUM_PATH, inPrivateNetns, startBrowser } from '../test/browser/harness.ts'
import { demoNetwork, ledgerCommits, tabSync, type BrowserWorkload, type DemoCase, type Measure } from './tools/browser-workloads.ts'
import { resultsDir, writeResults } from './tools/results.ts'
import { fmt, median } from './tools/weft-peer.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

if (!inPrivateNetns()) {
  const child = spawnSync('bash', ['test/netns.sh', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url)], { cwd: root, stdio: 'inherit', env: { ...process.env, WEFT_BENCH_OUT: resultsDir } })
  process.exitCode = child.status ?? 1
} else {
  await main()
}

async function main (): Promise<void> {
  const short = process.env.WEFT_BENCH_SHORT === '1'
  const runs = short ? 1 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
  const warmups = short ? 0 : 1
  const keys = short ? 2_000 : 10_000
  const ledgerBlocks = short ? 1 : 5
  const blocks = Number(process.env.WEFT_BENCH_BLOCKS ?? (short ? 300 : 10_000))
  const demoSeconds = short ? 1 : Number(process.env.WEFT_BENCH_DEMO_SECONDS ?? 5)
  const cases: DemoCase[] = (process.env.WEFT_BENCH_DEMO ?? '4:memory,4:indexeddb,7:memory,7:indexeddb').split(',').map(c => {
    const [n, storage] = c.split(':')
    return { n: Number(n), storage: storage as DemoCase['storage'] }
  })
  const only = process.env.WEFT_BENCH_ONLY?.split(',')
  const chromium = /\d+(\.\d+)+/.exec(spawnSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).stdout)?.[0] ?? 'unknown'

  const browser = await startBrowser({ verbose: false })
  const openers: Array<[string, () => Promise<BrowserWorkload>]> = [
    ['ledger', async () => await ledgerCommits(browser, keys, ledgerBlocks)],
    ['sync', async () => await tabSync(browser, blocks)],
    ['demo', async () => await demoNetwork(browser, cases, demoSeconds, 1)]
  ]
  const workloads: BrowserWorkload[] = []
  const measured = new Map<string, Measure[]>()
  let failed = false
  try {
    for (const [name, open] of openers) if (only === undefined || only.includes(name)) workloads.push(await open())
    for (let i = 0; i < warmups + runs; i++) {
      const label = i < warmups ? 'warm-up' : `run ${i - warmups + 1}`
      for (const w of workloads) {
        for (const m of await w.run(i, i < warmups)) {
          console.log(`  ${m.row} ${label}: ${fmt(m.value)} ${m.unit}; ${m.note}`)
          failed ||= !m.ok
          if (i >= warmups) measured.set(m.row, [...measured.get(m.row) ?? [], m])
        }
      }
      const broken = browser.problems.filter(p => p.kind === 'pageerror' || p.kind === 'crash')
      if (broken.length > 0) throw new Error(`a tab failed: ${broken.map(p => `[${p.page}] ${p.text}`).join('; ')}`)
    }
  } finally {
    for (const w of workloads) await w.close()
    await browser.close()
  }

  const header = `${runs} run(s)${warmups > 0 ? ' after a warm-up' : ''}; headless Chromium ${chromium}; ${availableParallelism()} cores, Node ${process.version}`
  const rows = [...measured.entries()].map(([row, ms]) => {
    const values = ms.map(m => m.value)
    const extra = ms[0].extra === undefined ? '' : `${ms[0].extra.label} ${fmt(median(ms.map(m => m.extra?.value ?? NaN)))}`
    return { row, unit: ms[0].unit, median: median(values), min: Math.min(...values), max: Math.max(...values), extra, ok: ms.every(m => m.ok), runs: ms }
  })
  const table = [
    '| workload | median | min | max | unit | |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...rows.map(r => `| ${r.row} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.unit} | ${[r.extra, r.ok ? '' : 'WRONG'].filter(Boolean).join(', ')} |`)
  ].join('\n')
  console.log(`\n${header}\n${table}`)
  await writeResults('browser', { header, runs, warmups, cores: availableParallelism(), node: process.version, chromium, keys, ledgerBlocks, blocks, demoSeconds, rows }, `${header}\n\n${table}\n`)
  if (failed) process.exitCode = 1
}
