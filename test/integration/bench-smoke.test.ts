// The benchmarks' short sizes, so that `npm run bench` keeps working: every throughput workload
// runs once for 2 s through a real peer (over REST, gRPC or libp2p) and a separate load
// generator; what it accepted must commit, with balances conserved. A fresh peer syncs 300
// blocks over each transport and ends on the source's head; the peer's memory is sampled over
// two 5 s runs of load (RSS, then the heap run and its verdict). The PBFT benches: in one
// process (200 tx per configuration, N up to 16) and four `weft node start` processes (one 2 s
// run per workload, with example02 in the peers' workers and as dev-mode chaincodes); something
// commits and the replicas agree. The ledger commits 500-tx blocks on LevelDB and in memory. In
// Chromium (inside test/netns.sh's namespace, which bench/browser.ts enters itself): blocks commit
// on IndexedDB, a tab syncs 300 blocks to the peer's head, and the in-tab demo network commits at
// 4 and 7 validators on memory and IndexedDB. No speed threshold: figures come from `npm run bench`.
// The short tables go to a directory of the test's own (WEFT_BENCH_OUT), never over a user's
// bench-results/.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finish, Proc, root } from '../helpers/processes.ts'

let outDir = ''

/** Runs bench/NAME.ts with WEFT_BENCH_SHORT=1, writing into `outDir`; resolves with its exit code and output. */
async function bench (name: string): Promise<{ code: number | null, out: string }> {
  const done = await finish(Proc.node(['--import', 'tsx', '--import', './node/polyfill.ts', `bench/${name}.ts`], { env: { WEFT_BENCH_SHORT: '1', WEFT_BENCH_OUT: outDir } }))
  return { code: done.code, out: done.output }
}

const results = async (name: string): Promise<unknown> => JSON.parse(await readFile(join(outDir, `${name}.json`), 'utf8'))

/** The files in the repository's bench-results/ with their modification times (empty when there is none). */
async function userResults (): Promise<Record<string, number>> {
  const dir = join(root, 'bench-results')
  const files = await readdir(dir).catch(() => [] as string[])
  return Object.fromEntries(await Promise.all(files.map(async f => [f, (await stat(join(dir, f))).mtimeMs] as const)))
}

describe('npm run bench, short sizes', () => {
  let before: Record<string, number>
  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'weft-bench-smoke-'))
    before = await userResults()
  })
  afterAll(async () => { await rm(outDir, { recursive: true, force: true }) })

  it('every throughput workload commits through REST, gRPC and libp2p with balances conserved', async () => {
    const { code, out } = await bench('throughput')
    expect(code, out).toBe(0)
    const { rows } = await results('throughput') as {
      rows: Array<{ workload: string, results: Array<{ via: string, workload: string, committed: number, balance: { ok: boolean, committedTotal: number } }> }>
    }
    expect(Object.fromEntries(rows.map(r => [r.workload, r.results[0].via]))).toMatchObject({ 'devmode-16': 'rest', 'devmode-grpc-16': 'grpc', 'devmode-libp2p-16': 'libp2p' })
    expect(rows.map(r => r.workload)).toEqual(['devmode-16', 'devmode-64', 'devmode-1', 'devmode-grpc-16', 'devmode-libp2p-16', 'devmode-wait0-200/s', 'js-16', 'query-16'])
    for (const { workload, results: [r] } of rows) {
      // A loaded CI machine may commit nothing inside a 2 s window; what was accepted must commit after it.
      expect(r.workload === 'query' ? r.committed : r.balance.committedTotal, workload).toBeGreaterThan(0)
      expect(r.balance.ok, workload).toBe(true)
    }
  }, 240_000)

  it('a fresh peer syncs a 300-block chain over gRPC and libp2p to the source\'s head', async () => {
    const { code, out } = await bench('sync')
    expect(code, out).toBe(0)
    const { blocks, source, rows } = await results('sync') as {
      blocks: number, source: { height: number }, rows: Array<{ transport: string, runs: Array<{ blocksPerSecond: number, hashOk: boolean }> }>
    }
    expect(blocks).toBe(300)
    expect(source.height).toBe(300)
    expect(rows.map(r => r.transport)).toEqual(['grpc', 'libp2p'])
    for (const { transport, runs: [r] } of rows) {
      expect(r.hashOk, transport).toBe(true)
      expect(r.blocksPerSecond, transport).toBeGreaterThan(0)
    }
  }, 120_000)

  it('the peer\'s RSS is sampled under load, and its heap over the long run with a verdict', async () => {
    const { code, out } = await bench('memory')
    expect(code, out).toBe(0)
    interface Load { balance: { ok: boolean, committedTotal: number } }
    const { rss, heap } = await results('memory') as {
      rss: { figures: Array<{ idle: number, steady: number, peak: number }>, results: Array<{ samples: unknown[], load: Load }> }
      heap: { marks: Array<{ heapLeast: number, rss: number }>, grew: boolean, load: Load }
    }
    expect(rss.figures).toHaveLength(1)
    const [f] = rss.figures
    expect(rss.results[0].samples.length).toBeGreaterThan(5)
    expect(f.idle).toBeGreaterThan(0)
    expect(f.steady).toBeGreaterThan(0)
    expect(f.peak).toBeGreaterThanOrEqual(f.steady)
    expect(heap.marks.length).toBeGreaterThan(1)
    for (const m of heap.marks) expect(m.heapLeast).toBeGreaterThan(0)
    expect(typeof heap.grew).toBe('boolean')
    for (const load of [rss.results[0].load, heap.load]) {
      expect(load.balance.committedTotal).toBeGreaterThan(0)
      expect(load.balance.ok).toBe(true)
    }
  }, 150_000)

  it('PBFT in one process commits at N = 4, 7, 10, 16 with the replicas agreeing', async () => {
    const { code, out } = await bench('pbft-throughput')
    expect(code, out).toBe(0)
    const { rows } = await results('pbft') as {
      rows: Array<{ N: number, batchSize: number, tx: number, results: Array<{ committed: number, agree: boolean, safety: string[] }> }>
    }
    expect(rows.map(r => `${r.N}/${r.batchSize}`)).toEqual(['4/10', '4/100', '4/500', '7/500', '10/500', '16/500'])
    for (const { N, batchSize, tx, results: [r] } of rows) {
      expect(r.committed, `N=${N} batch ${batchSize}`).toBe(tx)
      expect(r.agree, `N=${N} batch ${batchSize}`).toBe(true)
      expect(r.safety, `N=${N} batch ${batchSize}`).toEqual([])
    }
  }, 60_000)

  it('a PBFT network of four weft processes commits, counted once on one chain, and its replicas agree', async () => {
    const { code, out } = await bench('pbft-processes')
    expect(code, out).toBe(0)
    const { rows } = await results('pbft-processes') as {
      rows: Array<{ workload: string, chaincode: string, results: Array<{ balance: { ok: boolean, committedTotal: number }, replicas: { agree: boolean, heights: number[] } }> }>
    }
    expect(rows.map(r => `${r.chaincode} ${r.workload}`)).toEqual(['js-worker one-peer-16', 'js-worker spread-4x4', 'dev-stream one-peer-16', 'dev-stream spread-4x4'])
    for (const { workload, results: [r] } of rows.map(row => ({ ...row, workload: `${row.chaincode} ${row.workload}` }))) {
      // As above: a loaded CI machine may commit nothing inside the 2 s window; what was accepted must commit.
      expect(r.balance.committedTotal, workload).toBeGreaterThan(0)
      expect(r.balance.ok, workload).toBe(true)
      expect(r.replicas.agree, `${workload}: heights ${r.replicas.heights.join(', ')}`).toBe(true)
    }
  }, 300_000)

  it('the ledger commits 500-tx blocks on LevelDB and in memory', async () => {
    const { code, out } = await bench('ledger')
    expect(code, out).toBe(0)
    const { rows } = await results('ledger') as {
      rows: Array<{ backend: string, keys: number, workload: string, commit: { median: number } }>
    }
    expect(rows.map(r => `${r.backend} ${r.keys} ${r.workload}`)).toEqual(['LevelDB 10000 transfer', 'LevelDB 10000 insert', 'memory 10000 transfer', 'memory 10000 insert'])
    for (const r of rows) expect(r.commit.median, `${r.backend} ${r.workload}`).toBeGreaterThan(0)
  }, 120_000)

  it('in Chromium: blocks commit on IndexedDB, a tab syncs to the peer\'s head, the in-tab demo network commits', async () => {
    const { code, out } = await bench('browser')
    expect(code, out).toBe(0)
    const { rows } = await results('browser') as {
      rows: Array<{ row: string, median: number, ok: boolean }>
    }
    expect(rows.map(r => r.row)).toEqual([
      'ledger commit, 500-tx blocks over 2000 keys, transfer', 'ledger commit, 500-tx blocks over 2000 keys, insert',
      'tab sync of 300 blocks over WebSockets into IndexedDB',
      'in-tab demo network, 4 validators on memory', 'in-tab demo network, 4 validators on indexeddb',
      'in-tab demo network, 7 validators on memory', 'in-tab demo network, 7 validators on indexeddb'
    ])
    // ok: the tab ended on the peer's head and state hash; the demo committed something.
    for (const r of rows) {
      expect(r.ok, r.row).toBe(true)
      expect(r.median, r.row).toBeGreaterThan(0)
    }
  }, 300_000)

  it('leaves the repository\'s bench-results/ as it was', async () => {
    expect(await userResults()).toEqual(before)
  })
})
