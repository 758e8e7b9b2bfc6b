// How long `weft --help` and `weft chaincode query` (against no peer) take to answer: the CLI's
// start-up, which every verb pays. Median/min/max of WEFT_BENCH_RUNS (5) runs after a warm-up.
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { writeResults } from './tools/results.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const runs = process.env.WEFT_BENCH_SHORT === '1' ? 2 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
const verbs: Array<[string, string[]]> = [
  ['weft --help', ['--help']],
  ['weft chaincode query (no peer)', ['chaincode', 'query', '-n', 'mycc', '-c', '{"Args":["query","a"]}']]
]

const rows: Array<{ command: string, ms: number[] }> = []
for (const [label, args] of verbs) {
  const once = (): number => {
    const t0 = performance.now()
    spawnSync(process.execPath, ['bin/weft.mjs', ...args], { cwd: root, env: { ...process.env, CORE_PEER_ADDRESS: '127.0.0.1:1' } })
    return performance.now() - t0
  }
  once()
  rows.push({ command: label, ms: Array.from({ length: runs }, once).sort((a, b) => a - b) })
}
const header = `CLI start-up: ${runs} runs after a warm-up; ${availableParallelism()} cores, Node ${process.version}`
const table = ['| command | ms (median) | min | max |', '| --- | ---: | ---: | ---: |',
  ...rows.map(({ command, ms }) => `| ${command} | ${ms[Math.floor((ms.length - 1) / 2)].toFixed(0)} | ${ms[0].toFixed(0)} | ${ms.at(-1)!.toFixed(0)} |`)].join('\n')
console.log(`${header}\n${table}`)
await writeResults('cli', { header, runs, cores: availableParallelism(), node: process.version, rows }, `${header}\n\n${table}\n`)
