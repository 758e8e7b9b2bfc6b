// `npm run bench`: runs every benchmark in bench/ (each prints its own figures) one after another,
// then a Summary: the Markdown each wrote to bench-results/, in a stable (alphabetical) order.
//   npm run bench [name…]    only the named benchmarks (`throughput` is bench/throughput.ts, not pbft-throughput)
import { readdir, readFile } from 'node:fs/promises'

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
  await import(new URL(file, import.meta.url).href)
}

const results = new URL('../bench-results/', import.meta.url)
const mds = (await readdir(results).catch(() => [] as string[])).filter(f => f.endsWith('.md')).sort()
if (mds.length > 0) {
  console.log('\n# Summary (bench-results/*.md)')
  for (const md of mds) console.log(`\n## ${md}\n\n${(await readFile(new URL(md, results), 'utf8')).trimEnd()}`)
}
