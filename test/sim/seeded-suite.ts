// What the seeded PBFT suites share: the seed range from the environment, seeds run in chunks
// of 50 (one test each), failures explained with the command that replays them, and a closing
// test that every kind of run was drawn.
//   WEFT_SIM_SEED=1234  just that seed    WEFT_SIM_FROM=1000  first seed    WEFT_SIM_LOG=debug  PBFT logs
import { describe, expect, it } from 'vitest'
import { setLogLevel, type LogLevel } from '../../src/util/logger.ts'
import type { ScenarioReport } from './scenario.ts'

export interface SeededSuite {
  title: string
  /** The test file, for the replay command. */
  file: string
  /** Seeds to run by default; `countVar` overrides it. */
  defaultCount: number
  countVar: string
  /** Runs one seed; `kind` is what the coverage test counts. */
  run: (seed: number) => Promise<{ report: ScenarioReport, kind: string }>
  /** From `minRuns` seeds on, the kinds drawn must be these. */
  coverage: { minRuns: number, kinds: (seen: string[]) => string[], expected: string[] }
}

export function seededSuite (s: SeededSuite): void {
  setLogLevel((process.env.WEFT_SIM_LOG as LogLevel | undefined) ?? 'silent')
  const only = process.env.WEFT_SIM_SEED
  const from = Number(only ?? process.env.WEFT_SIM_FROM ?? 1)
  const count = only !== undefined ? 1 : Number(process.env[s.countVar] ?? s.defaultCount)
  const chunk = 50
  const chunks = Array.from({ length: Math.ceil(count / chunk) }, (_, i) => [from + i * chunk, Math.min(from + count, from + (i + 1) * chunk)] as const)
  const seen = new Map<string, number>()
  let elapsed = 0
  let ran = 0

  const explain = (r: ScenarioReport): string => `seed ${r.seed} (${r.fault}) failed:\n  ${r.problems.join('\n  ')}\n${r.describe}\n` +
    `reproduce: WEFT_SIM_SEED=${r.seed} npx vitest run ${s.file} (add WEFT_SIM_LOG=info for the replicas' logs)`

  describe(`${s.title}, seeds ${from}..${from + count - 1}`, () => {
    it.each(chunks)('seeds %i..%i stay safe and live', async (lo, hi) => {
      const failures: string[] = []
      const t0 = performance.now()
      for (let seed = lo; seed < hi; seed++) {
        const { report, kind } = await s.run(seed)
        seen.set(kind, (seen.get(kind) ?? 0) + 1)
        if (!report.ok) failures.push(explain(report))
      }
      elapsed += performance.now() - t0
      ran += hi - lo
      if (failures.length > 0) console.error(failures.join('\n\n'))
      expect(failures).toEqual([])
    }, 300_000)

    it('covered every kind of run', () => {
      console.log(`${ran} seeds in ${(elapsed / 1000).toFixed(1)} s (${(elapsed / Math.max(1, ran)).toFixed(1)} ms/seed): ` +
        [...seen].sort().map(([k, n]) => `${k}: ${n}`).join(', '))
      if (ran >= s.coverage.minRuns) expect(s.coverage.kinds([...seen.keys()]).sort()).toEqual([...s.coverage.expected].sort())
    })
  })
}
