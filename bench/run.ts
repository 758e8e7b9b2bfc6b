// `npm run bench`: runs every benchmark in bench/ (each prints its own figures) one after another,
// then a Summary: the Markdown each wrote to bench-results/, in a stable (alphabetical) order.
//   npm run bench [name…]    only the benchmarks whose file name contains one of the names
import { readdir, readFile } from 'node:fs/promises'

const only = process.argv.slice(2)
for (const file of (await readdir(new URL('.', import.meta.url))).filter(f => f.endsWith('.ts') && f !== 'run.ts').sort()) {
  if (only.length > 0 && !only.some(o => file.includes(o))) continue
  console.log(`# ${file}`)
  await import(new URL(file, import.meta.url).href)
}

const results = new URL('../bench-results/', import.meta.url)
const mds = (await readdir(results).catch(() => [] as string[])).filter(f => f.endsWith('.md')).sort()
if (mds.length > 0) {
  console.log('\n# Summary (bench-results/*.md)')
  for (const md of mds) console.log(`\n## ${md}\n\n${(await readFile(new URL(md, results), 'utf8')).trimEnd()}`)
}
