import { Command } from 'commander'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { formatOutcome, runVectorFile } from '../../src/conformance/runner.ts'

/** `weft conformance --vectors DIR`: checks every vector file in DIR against Weft's code. */
export function conformanceCommand (): Command {
  return new Command('conformance')
    .description('check Weft against Fabric 0.6.1 conformance vectors (block-hash, messages, state-hash, legacy-chain)')
    .requiredOption('--vectors <dir>', 'directory of vector files (*.json)')
    .action(async (opts: { vectors: string }) => {
      process.exitCode = await runConformance(opts.vectors, { line: l => console.log(l), error: l => console.error(l) })
    })
}

/** Prints one line per case and a summary; returns the exit code (0 only when nothing failed). */
export async function runConformance (dir: string, out: { line (s: string): void, error (s: string): void }): Promise<number> {
  const print = out.line
  let files: string[]
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory')
    files = (await readdir(dir)).filter(f => f.endsWith('.json')).sort()
  } catch (err) {
    out.error(`error: cannot read vectors directory ${dir}: ${describe(err)}`)
    return 2
  }
  if (files.length === 0) {
    out.error(`error: no vector files (*.json) in ${dir}`)
    return 2
  }
  let passed = 0
  let failed = 0
  let skipped = 0
  let broken = 0
  for (const file of files) {
    let content: unknown
    try {
      content = JSON.parse(await readFile(join(dir, file), 'utf8'))
    } catch (err) {
      out.error(`error: ${file}: not valid JSON (${describe(err)})`)
      broken++
      continue
    }
    let outcomes
    try {
      outcomes = await runVectorFile(content)
    } catch (err) {
      out.error(`error: ${file}: ${describe(err)}`)
      broken++
      continue
    }
    for (const o of outcomes) {
      print(formatOutcome(o))
      if (o.skipped === true) skipped++
      else if (o.ok) passed++
      else failed++
    }
  }
  print(`${passed} passed, ${failed} failed, ${skipped} skipped${broken > 0 ? `, ${broken} unreadable file${broken > 1 ? 's' : ''}` : ''}`)
  return failed + broken > 0 ? 1 : 0
}

function describe (err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'ENOENT') return 'no such file or directory'
  return e instanceof Error ? e.message : String(err)
}
