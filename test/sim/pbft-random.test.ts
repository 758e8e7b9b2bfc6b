// Randomized PBFT runs: each seed picks a config, a network, client traffic and one fault (see
// scenario.ts) and must stay safe throughout and live once the fault heals.
//   WEFT_SIM_SEEDS=5000  more seeds (default 500)     WEFT_SIM_FROM=1000  first seed (default 1)
//   WEFT_SIM_SEED=1234   just that seed                WEFT_SIM_LOG=debug  PBFT logs (with one seed)
import { describe, expect, it } from 'vitest'
import { setLogLevel, type LogLevel } from '../../src/util/logger.ts'
import { faultKinds, runScenario, type ScenarioReport } from './scenario.ts'

setLogLevel((process.env.WEFT_SIM_LOG as LogLevel | undefined) ?? 'silent')

const only = process.env.WEFT_SIM_SEED
const from = Number(only ?? process.env.WEFT_SIM_FROM ?? 1)
const count = only !== undefined ? 1 : Number(process.env.WEFT_SIM_SEEDS ?? 500)
const chunk = 50
const chunks = Array.from({ length: Math.ceil(count / chunk) }, (_, i) => [from + i * chunk, Math.min(from + count, from + (i + 1) * chunk)] as const)

const seen = new Map<string, number>()
let elapsed = 0
let ran = 0

function explain (r: ScenarioReport): string {
  return `seed ${r.seed} (${r.fault}) failed:\n  ${r.problems.join('\n  ')}\n${r.describe}\n` +
    `reproduce: WEFT_SIM_SEED=${r.seed} npx vitest run test/sim/pbft-random.test.ts (add WEFT_SIM_LOG=info for the replicas' logs)`
}

describe(`PBFT randomized simulation, seeds ${from}..${from + count - 1}`, () => {
  it.each(chunks)('seeds %i..%i stay safe and live', async (lo, hi) => {
    const failures: string[] = []
    const t0 = performance.now()
    for (let seed = lo; seed < hi; seed++) {
      const r = await runScenario(seed)
      seen.set(r.fault, (seen.get(r.fault) ?? 0) + 1)
      if (!r.ok) failures.push(explain(r))
    }
    elapsed += performance.now() - t0
    ran += hi - lo
    if (failures.length > 0) console.error(failures.join('\n\n'))
    expect(failures).toEqual([])
  }, 300_000)

  it('covered every kind of fault', () => {
    console.log(`${ran} seeds in ${(elapsed / 1000).toFixed(1)} s (${(elapsed / Math.max(1, ran)).toFixed(1)} ms/seed): ` +
      [...seen].sort().map(([k, n]) => `${k} ${n}`).join(', '))
    if (ran >= 200) expect([...seen.keys()].sort()).toEqual([...faultKinds].sort())
  })
})
