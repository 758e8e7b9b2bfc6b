// The browser benchmarks: in-tab PBFT with 4 validators (committed tx/s), a tab syncing
// WEFT_BENCH_BLOCKS (10,000) blocks from the Node peer over WebSockets into IndexedDB, and
// bench/ledger.ts's 500-tx block commits on IndexedDB. They run
// in headless Chromium inside a private network namespace, as the browser tests do, and print
// their BENCH lines.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = spawnSync('bash', ['test/netns.sh', 'npx', 'vitest', 'run', '--config', 'vitest.browser.config.ts', 'test/browser/app-bench.test.ts', 'test/browser/app-demo.test.ts', 'test/browser/ledger.test.ts', '-t', 'benchmark'], { cwd: root, encoding: 'utf8' })
const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter(l => l.includes('BENCH '))
for (const l of lines) console.log(l.replace(/^.*BENCH /, ''))
if (run.status !== 0) {
  console.log(`browser benchmarks failed (exit ${run.status}):\n${run.stdout.slice(-2000)}`)
  process.exitCode = 1
}
