// The browser benchmarks: the in-tab demo network at 4 and 7 validators on memory and on
// IndexedDB (committed tx/s), a tab syncing WEFT_BENCH_BLOCKS (10,000) blocks from the Node
// peer over WebSockets into IndexedDB, and bench/ledger.ts's 500-tx block commits on IndexedDB.
// They run in headless Chromium inside a private network namespace, as the browser tests do,
// and print their BENCH lines (also in bench-results/browser.md).
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = spawnSync('bash', ['test/netns.sh', 'npx', 'vitest', 'run', '--config', 'vitest.browser.config.ts', 'test/browser/app-bench.test.ts', 'test/browser/app-demo-bench.test.ts', 'test/browser/ledger.test.ts', '-t', 'benchmark'], { cwd: root, encoding: 'utf8' })
const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter(l => l.includes('BENCH '))
const figures = lines.map(l => l.replace(/^.*BENCH /, ''))
for (const l of figures) console.log(l)
mkdirSync(`${root}bench-results`, { recursive: true })
writeFileSync(`${root}bench-results/browser.md`, `Browser benchmarks (headless Chromium, ${availableParallelism()} cores, Node ${process.version})\n\n${figures.map(l => `- ${l}`).join('\n')}\n`)
if (run.status !== 0) {
  console.log(`browser benchmarks failed (exit ${run.status}):\n${run.stdout.slice(-2000)}`)
  process.exitCode = 1
}
