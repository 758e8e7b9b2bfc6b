// The benchmarks' short sizes, so that `npm run bench` keeps working: every throughput workload
// runs once for 2 s through a real peer and a separate load generator; what it accepted must
// commit, with balances conserved. No speed threshold: figures come from `npm run bench`.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('npm run bench, short sizes', () => {
  it('every throughput workload commits through REST with balances conserved', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './node/polyfill.ts', 'bench/throughput.ts'],
      { cwd: root, env: { ...process.env, WEFT_BENCH_SHORT: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
    expect(code, out).toBe(0)
    const { rows } = JSON.parse(await readFile(`${root}/bench-results/throughput.json`, 'utf8')) as {
      rows: Array<{ workload: string, results: Array<{ workload: string, committed: number, balance: { ok: boolean, committedTotal: number } }> }>
    }
    expect(rows.map(r => r.workload)).toEqual(['devmode-16', 'devmode-64', 'devmode-1', 'devmode-grpc-16', 'devmode-wait0-200/s', 'js-16', 'query-16'])
    for (const { workload, results: [r] } of rows) {
      // A loaded CI machine may commit nothing inside a 2 s window; what was accepted must commit after it.
      expect(r.workload === 'query' ? r.committed : r.balance.committedTotal, workload).toBeGreaterThan(0)
      expect(r.balance.ok, workload).toBe(true)
    }
  }, 240_000)
})
