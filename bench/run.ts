// `npm run bench`: runs every benchmark in bench/ (each prints its own figures) one after another.
import { readdir } from 'node:fs/promises'

const only = process.argv.slice(2)
for (const file of (await readdir(new URL('.', import.meta.url))).filter(f => f.endsWith('.ts') && f !== 'run.ts').sort()) {
  if (only.length > 0 && !only.some(o => file.includes(o))) continue
  console.log(`# ${file}`)
  await import(new URL(file, import.meta.url).href)
}
