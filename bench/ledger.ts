// Ledger commit throughput: 500-transaction blocks of example02-like invokes (two writes each)
// committed with core.yaml's bucket tree, over a state of 10k and of 1M keys, on LevelDB and
// in memory. Prints the median of the timed blocks with min and max, and a table; asserts nothing.
// WEFT_BENCH_SHORT=1: 10k keys only (a CI smoke run). WEFT_BENCH_RUNS sets the timed blocks (5).
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ledger, makeGenesis } from '../src/ledger/ledger.ts'
import { memoryStore } from '../src/storage/memory.ts'
import { openLevelDB } from '../node/storage.ts'
import { writeResults } from './tools/results.ts'
import { describeFigures, measure, populate, type Figures, type Workload } from './tools/ledger-blocks.ts'

const short = process.env.WEFT_BENCH_SHORT === '1'
const runs = Math.max(5, Number(process.env.WEFT_BENCH_RUNS ?? 5))
const sizes = short ? [10_000] : [10_000, 1_000_000]
const workloads: Workload[] = ['transfer', 'insert']

const header = `ledger commit: ${availableParallelism()} cores, Node ${process.version}, 500 tx a block, ${runs} timed blocks after 2 warm-up`
console.log(header)
const rows: Array<{ backend: string, keys: number, workload: Workload, commit: Figures, total: Figures, commitMs: Figures }> = []

async function bench (backend: string, open: () => Promise<Ledger>, keys: number): Promise<void> {
  const ledger = await open()
  try {
    await makeGenesis(ledger)
    const t0 = performance.now()
    await populate(ledger, keys)
    console.log(`  ${backend}, ${keys} keys populated in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    for (const w of workloads) {
      const r = await measure(ledger, w, keys, runs)
      rows.push({ backend, keys, workload: w, ...r })
      console.log(`  ${describeFigures(`${backend}, ${keys} keys, ${w}`, r)}`)
    }
  } finally {
    await ledger.close()
  }
}

for (const keys of sizes) {
  const dir = await mkdtemp(join(tmpdir(), 'weft-bench-'))
  try {
    await bench('LevelDB', async () => Ledger.open(await openLevelDB(dir)), keys)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  // A million keys in memory-level costs more heap than it tells.
  if (keys <= 10_000) await bench('memory', async () => Ledger.open(await memoryStore()), keys)
}

const f = (x: Figures): string => x.median.toFixed(0)
const table = [
  '| store | keys | workload | commit tx/s (median) | min | max | ms a block | execute + commit tx/s |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(r => `| ${r.backend} | ${r.keys} | ${r.workload} | ${f(r.commit)} | ${r.commit.min.toFixed(0)} | ${r.commit.max.toFixed(0)} | ${r.commitMs.median.toFixed(1)} | ${f(r.total)} |`)
].join('\n')
console.log(`\n${header}\n${table}`)
await writeResults('ledger', { header, cores: availableParallelism(), node: process.version, runs, rows }, `${header}\n\n${table}\n`)
