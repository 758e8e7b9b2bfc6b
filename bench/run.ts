// `npm run bench`: runs every benchmark in bench/ (each prints its own figures) one after another
// (one that fails is reported and the rest still run), then a Summary: the Markdown each wrote to
// WEFT_BENCH_OUT (default bench-results/), in a stable (alphabetical) order, with when it was
// written (a file left from an earlier run shows its last figures).
//   npm run bench [name…]    only the named benchmarks (`throughput` is bench/throughput.ts, not pbft-throughput)
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { errorMessage } from '../src/util/errors.ts'
import { resultsDir } from './tools/results.ts'

const only = process.argv.slice(2)
const files = (await readdir(new URL('.', import.meta.url))).filter(f => f.endsWith('.ts') && f !== 'run.ts').sort()
const unknown = only.filter(o => !files.includes(`${o}.ts`))
if (unknown.length > 0) {
  console.error(`no benchmark named ${unknown.join(', ')}; there are: ${files.map(f => f.slice(0, -'.ts'.length)).join(', ')}`)
  process.exit(2)
}
for (const file of files) {
  if (only.length > 0 && !only.includes(file.slice(0, -'.ts'.length))) continue
  console.log(`# ${file}`)
  try {
    await import(new URL(file, import.meta.url).href)
  } catch (err) {
    console.log(`${file} failed: ${errorMessage(err)}`)
    process.exitCode = 1
  }
}

const mds = (await readdir(resultsDir).catch(() => [] as string[])).filter(f => f.endsWith('.md')).sort()
if (mds.length > 0) {
  console.log(`\n# Summary (${relative(process.cwd(), resultsDir) || '.'}/*.md)`)
  for (const md of mds) {
    const written = (await stat(join(resultsDir, md))).mtime.toISOString().replace(/\.\d+Z$/, 'Z')
    console.log(`\n## ${md} (written ${written})\n\n${(await readFile(join(resultsDir, md), 'utf8')).trimEnd()}`)
  }
}
