// Where the benchmarks write their tables: WEFT_BENCH_OUT, by default bench-results/ at the
// repository's root (the smoke test points it at a directory of its own, so a short run never
// overwrites a user's figures).
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const resultsDir = resolve(process.env.WEFT_BENCH_OUT ?? fileURLToPath(new URL('../../bench-results', import.meta.url)))

/** Writes NAME.json and NAME.md into the results directory. */
export async function writeResults (name: string, json: unknown, md: string): Promise<void> {
  await mkdir(resultsDir, { recursive: true })
  await writeFile(join(resultsDir, `${name}.json`), JSON.stringify(json, null, 2))
  await writeFile(join(resultsDir, `${name}.md`), md)
}
